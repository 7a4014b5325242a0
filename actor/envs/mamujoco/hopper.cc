// Hopper: a one-legged planar hopper. Reward = forward velocity + 1 - 1e-3 |a|^2; the episode ends
// when the torso falls below 0.7, tilts by 0.2 rad or the state blows up.
#include <algorithm>
#include <cmath>

#include "actor/envs/mamujoco/assets.h"
#include "actor/envs/mamujoco/robot.h"

namespace tandem::envs {
namespace {

class Hopper : public Robot {
 public:
  Hopper() {
    // qpos/qvel: rootx rootz rooty thigh leg foot. Joint velocities are observed clipped to +-10.
    graph_.nodes = {{"thigh_joint", 3, 3, 0, {}, true},
                    {"leg_joint", 4, 4, 1, {}, true},
                    {"foot_joint", 5, 5, 2, {}, true}};
    enum { kThigh, kLeg, kFoot };
    graph_.hyperedges = {{kFoot, kLeg}, {kLeg, kThigh}};
    graph_.globals = {
        {"root_x", {}, {0}, true}, {"root_z", {1}, {1}, true}, {"root_y", {2}, {2}, true}};
    graph_.partitions = {{"3x1", {{kThigh}, {kLeg}, {kFoot}}}};
    graph_.local_categories = {{"qpos", "qvel"}, {"qpos"}};
  }

  std::string name() const override { return "Hopper"; }
  std::string Xml() const override { return kHopperXml; }
  int frame_skip() const override { return 4; }
  int ObsSize(Rules) const override { return 11; }

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

  bool Healthy(const mjModel* model, const mjData* data) const override {
    for (int i = 0; i < model->nq; ++i) {
      if (!std::isfinite(data->qpos[i]) || (i >= 2 && std::abs(data->qpos[i]) >= 100)) return false;
    }
    for (int i = 0; i < model->nv; ++i) {
      if (!std::isfinite(data->qvel[i]) || std::abs(data->qvel[i]) >= 100) return false;
    }
    return data->qpos[1] > 0.7 && std::abs(data->qpos[2]) < 0.2;
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

const Robot& HopperRobot() {
  static const Hopper* robot = new Hopper();
  return *robot;
}

}  // namespace tandem::envs
