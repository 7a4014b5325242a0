// Walker2d: a planar biped (planar_walker.h has the shared rules). The episode ends when the torso
// leaves 0.8 < z < 2.0 or tilts beyond 1 rad.
#include "envs/mamujoco/assets.h"
#include "envs/mamujoco/planar_walker.h"

namespace tandem::envs {
namespace {

RobotGraph Walker2dGraph() {
  RobotGraph graph;
  // qpos/qvel: rootx rootz rooty thigh leg foot thigh_left leg_left foot_left.
  graph.nodes = {{"thigh_joint", 3, 3, 0, {}, false},    {"leg_joint", 4, 4, 1, {}, false},
                 {"foot_joint", 5, 5, 2, {}, false},     {"thigh_left_joint", 6, 6, 3, {}, false},
                 {"leg_left_joint", 7, 7, 4, {}, false}, {"foot_left_joint", 8, 8, 5, {}, false}};
  enum { kThigh, kLeg, kFoot, kThighLeft, kLegLeft, kFootLeft };
  graph.hyperedges = {{kFoot, kLeg},
                      {kLeg, kThigh},
                      {kFootLeft, kLegLeft},
                      {kLegLeft, kThighLeft},
                      {kThigh, kThighLeft}};
  graph.globals = {
      {"root_x", {}, {0}, false}, {"root_z", {1}, {1}, false}, {"root_y", {2}, {2}, false}};
  graph.partitions = {
      {"2x3", {{kFoot, kLeg, kThigh}, {kFootLeft, kLegLeft, kThighLeft}}},
      {"6x1", {{kThigh}, {kLeg}, {kFoot}, {kThighLeft}, {kLegLeft}, {kFootLeft}}},
      {"3x2", {{kFoot, kLeg}, {kThigh, kFootLeft}, {kLegLeft, kThighLeft}}},
  };
  graph.local_categories = {{"qpos", "qvel"}, {"qpos"}};
  return graph;
}

class Walker2d : public PlanarWalker {
 public:
  Walker2d() : PlanarWalker(17, Walker2dGraph()) {}
  std::string name() const override { return "Walker2d"; }
  std::string Xml() const override { return kWalker2dXml; }

  void EditModel(mjModel* model, Rules rules) const override {
    if (rules != Rules::kV5) return;
    // Gymnasium v5 gives the right foot the left foot's friction.
    const int foot = mj_name2id(model, mjOBJ_GEOM, "foot_geom");
    if (foot >= 0) model->geom_friction[3 * foot] = 1.9;
  }

  bool Healthy(const mjModel*, const mjData* data) const override {
    const double z = data->qpos[1], angle = data->qpos[2];
    return z > 0.8 && z < 2.0 && angle > -1.0 && angle < 1.0;
  }
};

}  // namespace

const Robot& Walker2dRobot() {
  static const Walker2d* robot = new Walker2d();
  return *robot;
}

}  // namespace tandem::envs
