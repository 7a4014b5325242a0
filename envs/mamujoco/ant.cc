// Ant: a quadruped on a free joint. Reward = forward velocity of the torso - 0.5 |a|^2
// - 5e-4 sum(clip(cfrc_ext, -1, 1)^2) + 1; the episode ends when the torso leaves 0.2 <= z <= 1.0
// or the state is not finite. Under gym v2 (mujoco-py 2.0) cfrc_ext is never computed, so the
// 84 contact dims of the observation and the contact cost are zero; rules=v5 computes them.
#include <algorithm>
#include <cmath>

#include "envs/mamujoco/assets.h"
#include "envs/mamujoco/robot.h"

namespace tandem::envs {
namespace {

constexpr int kTorso = 1;

class Ant : public Robot {
 public:
  Ant() {
    // Bodies: torso 1, front_left_leg 2, aux_1 3, ankle_1 4, front_right_leg 5, aux_2 6, ankle_2 7,
    // back_leg 8, aux_3 9, ankle_3 10, right_back_leg 11, aux_4 12, ankle_4 13.
    // qpos: 7 free + hip_1 ankle_1 hip_2 ankle_2 hip_3 ankle_3 hip_4 ankle_4; qvel: 6 + the same.
    graph_.nodes = {
        {"hip1", 7, 6, 2, {1, 2}, false},    {"ankle1", 8, 7, 3, {2, 3, 4}, false},
        {"hip2", 9, 8, 4, {1, 5}, false},    {"ankle2", 10, 9, 5, {5, 6, 7}, false},
        {"hip3", 11, 10, 6, {1, 8}, false},  {"ankle3", 12, 11, 7, {8, 9, 10}, false},
        {"hip4", 13, 12, 0, {1, 11}, false}, {"ankle4", 14, 13, 1, {11, 12, 13}, false}};
    enum { kHip1, kAnkle1, kHip2, kAnkle2, kHip3, kAnkle3, kHip4, kAnkle4 };
    graph_.hyperedges = {{kAnkle4, kHip4},
                         {kAnkle1, kHip1},
                         {kAnkle2, kHip2},
                         {kAnkle3, kHip3},
                         {kHip4, kHip1, kHip2, kHip3}};
    graph_.globals = {{"root", {2, 3, 4, 5, 6}, {0, 1, 2, 3, 4, 5}, false}};
    graph_.partitions = {
        {"2x4", {{kHip1, kAnkle1, kHip2, kAnkle2}, {kHip3, kAnkle3, kHip4, kAnkle4}}},
        {"2x4d", {{kHip1, kAnkle1, kHip4, kAnkle4}, {kHip2, kAnkle2, kHip3, kAnkle3}}},
        {"4x2", {{kHip1, kAnkle1}, {kHip2, kAnkle2}, {kHip3, kAnkle3}, {kHip4, kAnkle4}}},
        {"8x1", {{kHip1}, {kAnkle1}, {kHip2}, {kAnkle2}, {kHip3}, {kAnkle3}, {kHip4}, {kAnkle4}}},
    };
    graph_.local_categories = {{"qpos", "qvel", "cfrc_ext"}, {"qpos"}};
    graph_.clip_bodies = true;
  }

  std::string name() const override { return "Ant"; }
  std::string Xml() const override { return kAntXml; }
  int frame_skip() const override { return 5; }
  // v2: qpos[2:] 13 + qvel 14 + cfrc_ext of all 14 bodies 84; v5 drops the world body's 6.
  int ObsSize(Rules rules) const override { return rules == Rules::kV2 ? 111 : 105; }
  bool NeedsContactForces(Rules rules) const override { return rules == Rules::kV5; }
  double ForwardPosition(const mjData* data) const override { return data->xpos[3 * kTorso]; }

  void Observe(const mjModel* model, const mjData* data, Rules rules,
               absl::Span<float> out) const override {
    int k = 0;
    for (int i = 2; i < model->nq; ++i) out[k++] = static_cast<float>(data->qpos[i]);
    for (int i = 0; i < model->nv; ++i) out[k++] = static_cast<float>(data->qvel[i]);
    for (int i = rules == Rules::kV2 ? 0 : 6; i < 6 * model->nbody; ++i) {
      out[k++] = static_cast<float>(std::clamp(data->cfrc_ext[i], -1.0, 1.0));
    }
  }

  void AddResetNoise(const mjModel* model, mjData* data, const std::function<double()>& uniform,
                     const std::function<double()>& normal) const override {
    for (int i = 0; i < model->nq; ++i) data->qpos[i] += 0.1 * uniform();
    for (int i = 0; i < model->nv; ++i) data->qvel[i] += 0.1 * normal();
  }

  bool Healthy(const mjModel* model, const mjData* data) const override {
    for (int i = 0; i < model->nq; ++i) {
      if (!std::isfinite(data->qpos[i])) return false;
    }
    for (int i = 0; i < model->nv; ++i) {
      if (!std::isfinite(data->qvel[i])) return false;
    }
    return data->qpos[2] >= 0.2 && data->qpos[2] <= 1.0;
  }

  double Reward(const mjModel* model, const mjData* data, Rules rules, double forward_velocity,
                absl::Span<const float> action, bool healthy) const override {
    double contact = 0;
    for (int i = 0; i < 6 * model->nbody; ++i) {
      const double c = std::clamp(data->cfrc_ext[i], -1.0, 1.0);
      contact += c * c;
    }
    const double healthy_reward = (rules == Rules::kV2 || healthy) ? 1.0 : 0.0;
    return forward_velocity - 0.5 * SquaredNorm(action) - 5e-4 * contact + healthy_reward;
  }

  const RobotGraph& graph() const override { return graph_; }

 private:
  RobotGraph graph_;
};

}  // namespace

const Robot& AntRobot() {
  static const Ant* robot = new Ant();
  return *robot;
}

}  // namespace tandem::envs
