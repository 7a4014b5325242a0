// Walker2d: a planar biped. Reward = forward velocity + 1 - 1e-3 |a|^2; the episode ends when the
// torso leaves 0.8 < z < 2.0 or tilts beyond 1 rad.
#include <algorithm>
#include <string>

#include "actor/envs/mamujoco/assets.h"
#include "actor/envs/mamujoco/robot.h"

namespace tandem::envs {
namespace {

class Walker2d : public Robot {
 public:
  Walker2d() {
    // qpos/qvel: rootx rootz rooty thigh leg foot thigh_left leg_left foot_left.
    graph_.nodes = {
        {"thigh_joint", 3, 3, 0, {}, false},    {"leg_joint", 4, 4, 1, {}, false},
        {"foot_joint", 5, 5, 2, {}, false},     {"thigh_left_joint", 6, 6, 3, {}, false},
        {"leg_left_joint", 7, 7, 4, {}, false}, {"foot_left_joint", 8, 8, 5, {}, false}};
    enum { kThigh, kLeg, kFoot, kThighLeft, kLegLeft, kFootLeft };
    graph_.hyperedges = {{kFoot, kLeg},
                         {kLeg, kThigh},
                         {kFootLeft, kLegLeft},
                         {kLegLeft, kThighLeft},
                         {kThigh, kThighLeft}};
    graph_.globals = {
        {"root_x", {}, {0}, false}, {"root_z", {1}, {1}, false}, {"root_y", {2}, {2}, false}};
    graph_.partitions = {
        {"2x3", {{kFoot, kLeg, kThigh}, {kFootLeft, kLegLeft, kThighLeft}}},
        {"6x1", {{kThigh}, {kLeg}, {kFoot}, {kThighLeft}, {kLegLeft}, {kFootLeft}}},
        {"3x2", {{kFoot, kLeg}, {kThigh, kFootLeft}, {kLegLeft, kThighLeft}}},
    };
    graph_.local_categories = {{"qpos", "qvel"}, {"qpos"}};
  }

  std::string name() const override { return "Walker2d"; }
  std::string Xml() const override { return kWalker2dXml; }
  void EditModel(mjModel* model, Rules rules) const override {
    if (rules != Rules::kV5) return;
    // Gymnasium v5 gives the right foot the left foot's friction.
    const int foot = mj_name2id(model, mjOBJ_GEOM, "foot_geom");
    if (foot >= 0) model->geom_friction[3 * foot] = 1.9;
  }
  int frame_skip() const override { return 4; }
  int ObsSize(Rules) const override { return 17; }

  void Observe(const mjModel* model, const mjData* data, Rules,
               absl::Span<float> out) const override {
    int k = 0;
    for (int i = 1; i < model->nq; ++i) out[k++] = static_cast<float>(data->qpos[i]);
    for (int i = 0; i < model->nv; ++i) {
      out[k++] = static_cast<float>(std::clamp(data->qvel[i], -10.0, 10.0));
    }
  }

  void AddResetNoise(const mjModel* model, mjData* data, const std::function<double()>& uniform,
                     const std::function<double()>&) const override {
    for (int i = 0; i < model->nq; ++i) data->qpos[i] += 0.005 * uniform();
    for (int i = 0; i < model->nv; ++i) data->qvel[i] += 0.005 * uniform();
  }

  bool Healthy(const mjModel*, const mjData* data) const override {
    const double z = data->qpos[1], angle = data->qpos[2];
    return z > 0.8 && z < 2.0 && angle > -1.0 && angle < 1.0;
  }

  double Reward(const mjModel*, const mjData*, Rules rules, double forward_velocity,
                absl::Span<const float> action, bool healthy) const override {
    const double healthy_reward = (rules == Rules::kV2 || healthy) ? 1.0 : 0.0;
    return forward_velocity + healthy_reward - 1e-3 * SquaredNorm(action);
  }

  const RobotGraph& graph() const override { return graph_; }

 private:
  RobotGraph graph_;
};

}  // namespace

const Robot& Walker2dRobot() {
  static const Walker2d* robot = new Walker2d();
  return *robot;
}

}  // namespace tandem::envs
