// A single-agent MuJoCo locomotion task (the Gym robot) and its joint graph for factorization.
//
// Each robot lives in its own file (half_cheetah.cc, hopper.cc, walker2d.cc, ant.cc) and provides:
// the MJCF text, frame skip and reset noise; the single-agent observation, reward and termination
// rules of gym v2 (default) or Gymnasium v5; and the Multi-Agent MuJoCo graph: one node per
// actuated joint, hyperedges, global nodes and the named factorizations.
#ifndef TANDEM_ENVS_MAMUJOCO_ROBOT_H_
#define TANDEM_ENVS_MAMUJOCO_ROBOT_H_

#include <mujoco/mujoco.h>

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/types/span.h"

namespace tandem::envs {

// Which generation of the single-agent task rules to follow.
enum class Rules {
  // gym v2 (mujoco-py): the rules OMIGA's datasets were collected under. Default.
  kV2,
  // Gymnasium v5: healthy reward only while healthy, Ant contact forces in obs and cost,
  // Walker2d both feet friction 1.9.
  kV5,
};

// One actuated joint of the Multi-Agent MuJoCo graph.
struct GraphNode {
  std::string label;
  // qpos and qvel index of the joint (absolute).
  int qpos = 0;
  int qvel = 0;
  // Index of the joint's actuator in the single-agent action vector.
  int actuator = 0;
  // Bodies whose cfrc_ext/cvel/cinert rows the node reports.
  std::vector<int> bodies;
  // Clip the joint velocity observation to [-10, 10] (Hopper).
  bool clip_qvel = false;
};

// A global (root) node: what agents observe of the robot's free/root joints.
struct GlobalNode {
  std::string label;
  // qpos entries reported under the "qpos" category (may be empty to suppress it).
  std::vector<int> qpos;
  // qvel entries reported under the "qvel" category.
  std::vector<int> qvel;
  bool clip_qvel = false;
};

struct RobotGraph {
  std::vector<GraphNode> nodes;
  // Sets of mutually connected nodes (indices into `nodes`).
  std::vector<std::vector<int>> hyperedges;
  std::vector<GlobalNode> globals;
  // Factorizations: name ("6x1") -> per agent, node indices in the agent's action order.
  std::map<std::string, std::vector<std::vector<int>>> partitions;
  // Default k-hop categories per level (the last repeats), Gymnasium-Robotics mamujoco_v1.
  std::vector<std::vector<std::string>> local_categories;
  // Clip body rows (cfrc_ext) to [-1, 1] (Ant).
  bool clip_bodies = false;
};

class Robot {
 public:
  virtual ~Robot() = default;
  // "HalfCheetah", "Hopper", "Walker2d", "Ant".
  virtual std::string name() const = 0;
  // MJCF text of the model.
  virtual std::string Xml() const = 0;
  // Adjusts the compiled model for `rules` (e.g. Walker2d's v5 foot friction).
  virtual void EditModel(mjModel* model, Rules rules) const {}
  // Physics steps per env step.
  virtual int frame_skip() const = 0;
  // Size of the single-agent observation.
  virtual int ObsSize(Rules rules) const = 0;
  // Writes the single-agent observation (gym's _get_obs).
  virtual void Observe(const mjModel* model, const mjData* data, Rules rules,
                       absl::Span<float> out) const = 0;
  // Whether reward and observation need cfrc_ext (mj_rnePostConstraint after stepping).
  virtual bool NeedsContactForces(Rules rules) const { return false; }
  // Forward position used for the velocity reward (qpos[0] or the torso's x).
  virtual double ForwardPosition(const mjData* data) const { return data->qpos[0]; }
  // Adds reset noise to qpos/qvel (which hold qpos0 and zeros) using two uniform/normal draws.
  virtual void AddResetNoise(const mjModel* model, mjData* data,
                             const std::function<double()>& uniform_pm1,
                             const std::function<double()>& normal) const = 0;
  // Reward for one env step given the forward displacement rate and the raw action.
  virtual double Reward(const mjModel* model, const mjData* data, Rules rules,
                        double forward_velocity, absl::Span<const float> action,
                        bool healthy) const = 0;
  // Whether the state is healthy (the episode continues).
  virtual bool Healthy(const mjModel* model, const mjData* data) const { return true; }
  // The graph for factorized (k-hop) observations and action mapping.
  virtual const RobotGraph& graph() const = 0;
};

// The robot named `name` ("HalfCheetah", ...), or nullptr.
const Robot* FindRobot(const std::string& name);
// Every robot's name.
std::vector<std::string> RobotNames();

// Squared norm of the action.
double SquaredNorm(absl::Span<const float> action);

}  // namespace tandem::envs

#endif  // TANDEM_ENVS_MAMUJOCO_ROBOT_H_
