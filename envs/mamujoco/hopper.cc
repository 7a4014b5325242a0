// Hopper: a one-legged planar hopper (planar_walker.h has the shared rules). The episode ends when
// the torso falls to z <= 0.7, tilts by 0.2 rad or more, or the state blows up (|s[2:]| >= 100).
#include <cmath>

#include "envs/mamujoco/assets.h"
#include "envs/mamujoco/planar_walker.h"

namespace tandem::envs {
namespace {

RobotGraph HopperGraph() {
  RobotGraph graph;
  // qpos/qvel: rootx rootz rooty thigh leg foot. Joint velocities are observed clipped to +-10.
  graph.nodes = {{"thigh_joint", 3, 3, 0, {}, true},
                 {"leg_joint", 4, 4, 1, {}, true},
                 {"foot_joint", 5, 5, 2, {}, true}};
  enum { kThigh, kLeg, kFoot };
  graph.hyperedges = {{kFoot, kLeg}, {kLeg, kThigh}};
  graph.globals = {
      {"root_x", {}, {0}, true}, {"root_z", {1}, {1}, true}, {"root_y", {2}, {2}, true}};
  graph.partitions = {{"3x1", {{kThigh}, {kLeg}, {kFoot}}}};
  graph.local_categories = {{"qpos", "qvel"}, {"qpos"}};
  return graph;
}

class Hopper : public PlanarWalker {
 public:
  Hopper() : PlanarWalker(11, HopperGraph()) {}
  std::string name() const override { return "Hopper"; }
  std::string Xml() const override { return kHopperXml; }

  bool Healthy(const mjModel* model, const mjData* data) const override {
    for (int i = 0; i < model->nq; ++i) {
      if (!std::isfinite(data->qpos[i]) || (i >= 2 && std::abs(data->qpos[i]) >= 100)) return false;
    }
    for (int i = 0; i < model->nv; ++i) {
      if (!std::isfinite(data->qvel[i]) || std::abs(data->qvel[i]) >= 100) return false;
    }
    return data->qpos[1] > 0.7 && std::abs(data->qpos[2]) < 0.2;
  }
};

}  // namespace

const Robot& HopperRobot() {
  static const Hopper* robot = new Hopper();
  return *robot;
}

}  // namespace tandem::envs
