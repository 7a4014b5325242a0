// Hopper and Walker2d share gym's planar-walker rules: frame skip 4, observation qpos[1:] followed
// by the joint velocities clipped to +-10, reset noise U(-0.005, 0.005) on qpos and qvel, and
// reward = forward velocity + healthy reward (1 on every step under v2, only while healthy under
// v5)
// - 1e-3 |a|^2. Each robot adds its model, health rule and graph.
#ifndef TANDEM_ENVS_MAMUJOCO_PLANAR_WALKER_H_
#define TANDEM_ENVS_MAMUJOCO_PLANAR_WALKER_H_

#include <algorithm>
#include <utility>

#include "envs/mamujoco/robot.h"

namespace tandem::envs {

class PlanarWalker : public Robot {
 public:
  int frame_skip() const override { return 4; }
  int ObsSize(Rules) const override { return obs_size_; }

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

  double Reward(const mjModel*, const mjData*, Rules rules, double forward_velocity,
                absl::Span<const float> action, bool healthy) const override {
    const double healthy_reward = (rules == Rules::kV2 || healthy) ? 1.0 : 0.0;
    return forward_velocity + healthy_reward - 1e-3 * SquaredNorm(action);
  }

  const RobotGraph& graph() const override { return graph_; }

 protected:
  PlanarWalker(int obs_size, RobotGraph graph) : obs_size_(obs_size), graph_(std::move(graph)) {}

 private:
  const int obs_size_;
  const RobotGraph graph_;
};

}  // namespace tandem::envs

#endif  // TANDEM_ENVS_MAMUJOCO_PLANAR_WALKER_H_
