// HalfCheetah: a planar runner that never falls. Reward = forward velocity - 0.1 |a|^2.
#include "envs/mamujoco/assets.h"
#include "envs/mamujoco/robot.h"

namespace tandem::envs {
namespace {

class HalfCheetah : public Robot {
 public:
  HalfCheetah() {
    // qpos/qvel: rootx rootz rooty bthigh bshin bfoot fthigh fshin ffoot.
    graph_.nodes = {{"bthigh", 3, 3, 0, {}, false}, {"bshin", 4, 4, 1, {}, false},
                    {"bfoot", 5, 5, 2, {}, false},  {"fthigh", 6, 6, 3, {}, false},
                    {"fshin", 7, 7, 4, {}, false},  {"ffoot", 8, 8, 5, {}, false}};
    enum { kBthigh, kBshin, kBfoot, kFthigh, kFshin, kFfoot };
    graph_.hyperedges = {{kBfoot, kBshin},
                         {kBshin, kBthigh},
                         {kBthigh, kFthigh},
                         {kFthigh, kFshin},
                         {kFshin, kFfoot}};
    graph_.globals = {
        {"root_x", {}, {0}, false}, {"root_z", {1}, {1}, false}, {"root_y", {2}, {2}, false}};
    graph_.partitions = {
        {"2x3", {{kBthigh, kBshin, kBfoot}, {kFthigh, kFshin, kFfoot}}},
        {"6x1", {{kBthigh}, {kBshin}, {kBfoot}, {kFthigh}, {kFshin}, {kFfoot}}},
        {"3x2", {{kBfoot, kBshin}, {kBthigh, kFfoot}, {kFshin, kFthigh}}},
    };
    graph_.local_categories = {{"qpos", "qvel"}, {"qpos"}};
  }

  std::string name() const override { return "HalfCheetah"; }
  std::string Xml() const override { return kHalfCheetahXml; }
  int frame_skip() const override { return 5; }
  int ObsSize(Rules) const override { return 17; }

  void Observe(const mjModel* model, const mjData* data, Rules,
               absl::Span<float> out) const override {
    int k = 0;
    for (int i = 1; i < model->nq; ++i) out[k++] = static_cast<float>(data->qpos[i]);
    for (int i = 0; i < model->nv; ++i) out[k++] = static_cast<float>(data->qvel[i]);
  }

  void AddResetNoise(const mjModel* model, mjData* data, const std::function<double()>& uniform,
                     const std::function<double()>& normal) const override {
    for (int i = 0; i < model->nq; ++i) data->qpos[i] += 0.1 * uniform();
    for (int i = 0; i < model->nv; ++i) data->qvel[i] += 0.1 * normal();
  }

  double Reward(const mjModel*, const mjData*, Rules, double forward_velocity,
                absl::Span<const float> action, bool) const override {
    return forward_velocity - 0.1 * SquaredNorm(action);
  }

  const RobotGraph& graph() const override { return graph_; }

 private:
  RobotGraph graph_;
};

}  // namespace

const Robot& HalfCheetahRobot() {
  static const HalfCheetah* robot = new HalfCheetah();
  return *robot;
}

}  // namespace tandem::envs
