// Multi-Agent MuJoCo: a Gym locomotion robot whose joints are split among agents.
//
// Name: "mamujoco/<Robot>-<factorization>", e.g. "mamujoco/HalfCheetah-6x1". Options:
//   obs_mode=omiga (default) | khop
//     omiga: what OMIGA's code and public datasets use. Each agent observes the full single-agent
//            observation plus a one-hot agent id, standardized within the vector ((x - mean) / std
//            over its own entries); the state is the concatenation of the agents' vectors; agent i
//            drives the i-th contiguous slice of the single-agent action vector.
//     khop:  Multi-Agent MuJoCo's k-hop observations as in Gymnasium-Robotics mamujoco_v1: the
//            agent's own joints and those within agent_obsk hops (per-level categories), then the
//            global root nodes; actions map through each joint's actuator; the state is the
//            single-agent observation. Agents' observations are zero-padded to the largest.
//   agent_obsk=1                 k for khop.
//   local_categories=qpos,qvel|qpos   per level, '|'-separated (default: the robot's, GR v1).
//   global_categories=qpos,qvel  categories of the global nodes (empty for none).
//   rules=v2 (default) | v5      single-agent task rules (robot.h).
//   episode_limit=1000           steps before truncation.
#ifndef TANDEM_ENVS_MAMUJOCO_MAMUJOCO_ENV_H_
#define TANDEM_ENVS_MAMUJOCO_MAMUJOCO_ENV_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "envs/mamujoco/mujoco_model.h"
#include "envs/mamujoco/robot.h"
#include "envs/multi_agent_env.h"
#include "envs/registry.h"

namespace tandem::envs {

enum class MaMujocoObsMode { kOmiga, kKhop };

class MaMujocoEnv : public MultiAgentEnv {
 public:
  // `task` is "<Robot>-<factorization>".
  static absl::StatusOr<std::unique_ptr<MaMujocoEnv>> Create(const std::string& task,
                                                             const EnvOptions& options);

  const EnvSpec& spec() const override { return spec_; }
  absl::Status Reset(uint64_t seed, TimeStepView out) override;
  absl::Status Step(const JointAction& action, TimeStepView out, StepOutcome* outcome) override;
  int episode_step() const override { return step_; }

  // The simulator (read-only), for tests and benchmarks.
  const mjModel* model() const { return model_.get(); }
  const mjData* data() const { return data_.get(); }
  const Robot& robot() const { return robot_; }
  // The single-agent action vector the last Step applied.
  const std::vector<float>& last_flat_action() const { return flat_action_; }
  // Physics steps per env step.
  int frame_skip() const { return robot_.frame_skip(); }

 private:
  // One scalar of a k-hop observation.
  struct ObsItem {
    enum class Source { kQpos, kQvel, kQfrcActuator, kCfrcExt, kCvel, kCinert };
    Source source;
    int index;
    // Clip to [-clip, clip] when > 0.
    double clip;
  };

  MaMujocoEnv(const Robot& robot, MjModelPtr model);
  absl::Status BuildKhopPlans(const std::vector<std::vector<int>>& partition, int k,
                              const std::vector<std::vector<std::string>>& local_categories,
                              const std::vector<std::string>& global_categories);
  void WriteObservation(TimeStepView out);

  const Robot& robot_;
  MjModelPtr model_;
  MjDataPtr data_;
  EnvSpec spec_;
  MaMujocoObsMode obs_mode_ = MaMujocoObsMode::kOmiga;
  Rules rules_ = Rules::kV2;
  bool contact_forces_ = false;
  // Per agent: the actuator each of its action entries drives.
  std::vector<std::vector<int>> agent_actuators_;
  // Per agent (khop): the observation recipe.
  std::vector<std::vector<ObsItem>> plans_;
  std::vector<float> single_obs_;
  std::vector<float> flat_action_;
  int step_ = 0;
  bool done_ = true;
};

}  // namespace tandem::envs

#endif  // TANDEM_ENVS_MAMUJOCO_MAMUJOCO_ENV_H_
