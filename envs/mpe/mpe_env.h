// Multi-agent particle environments (MPE, Lowe et al. 2017) as OTC uses them.
//
// Names: "mpe/PredatorPrey", "mpe/CooperativeNavigation-<N>" (N = 2..8; OTC reports 3, 4, 6).
// Agents move on a plane; actions are continuous, two per agent.
//
// Options:
//   dynamics=otc       OTC's settings (Jiang & Lu 2023, appendix §6): the agent's velocity is in
//                      [-0.1, 0.1]², its displacement for the step. The action box is [-1, 1]² and
//                      scaled by 0.1, so every Tandem policy (tanh outputs in [-1, 1], as on
//                      MA-MuJoCo) fits it unchanged. The arena is [-1, 1]² (positions are
//                      clamped to it). Predator-Prey: three predators chase a rule-based prey that
//                      moves 0.13 per step (1.3x, the original's max-speed ratio), fleeing the
//                      predators; every predator within 0.1 of the prey after a step adds +1 to the
//                      team reward. Cooperative Navigation: the team reward is -sum_j of landmark
//                      j's distance to its closest agent.
//   dynamics=original  openai/multiagent-particle-envs' physics (damping 0.25, dt 0.1, soft
//                      contact forces, sensitivity 5 or the entity's accel, max speeds) with
//                      actions in [-1, 1]² as force: simple_spread (agents of size 0.15, the team
//                      reward is the sum of every agent's reward: -sum_j min distance, -1 per
//                      overlapping agent, itself included) and simple_tag (adversaries accel 3,
//                      max speed 1; the prey accel 4, max speed 1.3, driven by the same fleeing
//                      rule and kept inside |x|, |y| < 1 by its rule as the original's boundary
//                      penalty would; two obstacles; +10 per adversary-prey collision). The
//                      unbounded plane, as the original.
//   episode_limit=25   steps before the episode is truncated (the MPE convention).
//
// Observation of agent i: own velocity (2), own position (2), every landmark relative to i (2
// each), every other agent relative to i (2 each) and, in Predator-Prey, the prey's relative
// position (2) and velocity (2). The original's communication channels (always zero) are left out.
// State: every agent's position and velocity, the prey's position and velocity, every landmark's
// position.
#ifndef TANDEM_ENVS_MPE_MPE_ENV_H_
#define TANDEM_ENVS_MPE_MPE_ENV_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "envs/multi_agent_env.h"
#include "envs/registry.h"

namespace tandem::envs {

// A point on the plane.
struct Vec2 {
  double x = 0, y = 0;
};

// One particle: a learning agent, the prey or a landmark.
struct MpeEntity {
  // Position and velocity.
  Vec2 pos, vel;
  // Radius (collisions and, in the original, overlap penalties).
  double size = 0.05;
  // Force multiplier of the original dynamics (0: the default sensitivity 5).
  double accel = 0;
  // Speed cap of the original dynamics (0: none).
  double max_speed = 0;
  // Moves under forces (landmarks do not).
  bool movable = true;
  // Takes part in contact forces (original dynamics).
  bool collide = true;
};

// Which rules a step follows.
enum class MpeDynamics { kOtc, kOriginal };

// The two scenarios.
enum class MpeScenario { kPredatorPrey, kCooperativeNavigation };

class MpeEnv : public MultiAgentEnv {
 public:
  // OTC: the largest displacement per step, the prey's speed, the capture distance, the arena.
  static constexpr double kMaxDisplacement = 0.1;
  static constexpr double kPreySpeed = 0.13;
  static constexpr double kCaptureDistance = 0.1;
  static constexpr double kArena = 1.0;
  // Original dynamics (multiagent/core.py).
  static constexpr double kDt = 0.1;
  static constexpr double kDamping = 0.25;
  static constexpr double kContactForce = 100.0;
  static constexpr double kContactMargin = 1e-3;

  // `task` is "PredatorPrey" or "CooperativeNavigation-<N>".
  static absl::StatusOr<std::unique_ptr<MpeEnv>> Create(const std::string& task,
                                                        const EnvOptions& options);

  const EnvSpec& spec() const override { return spec_; }
  absl::Status Reset(uint64_t seed, TimeStepView out) override;
  absl::Status Step(const JointAction& action, TimeStepView out, StepOutcome* outcome) override;
  int episode_step() const override { return step_; }

  // The particles, for tests and rendering: agents, then the prey (Predator-Prey), then landmarks.
  const std::vector<MpeEntity>& entities() const { return entities_; }
  std::vector<MpeEntity>& mutable_entities() { return entities_; }
  // Rewrites `out` from the current entities (after a test edits them).
  void Observe(TimeStepView out) const;
  MpeScenario scenario() const { return scenario_; }
  MpeDynamics dynamics() const { return dynamics_; }

  // The team reward of the current positions (both dynamics).
  double TeamReward() const;
  // The direction the rule-based prey flees in (a unit vector, or zero when no predator is apart
  // from it).
  Vec2 PreyDirection() const;

 private:
  MpeEnv(MpeScenario scenario, MpeDynamics dynamics, int num_agents, int num_landmarks,
         int episode_limit);
  void StepOtc(absl::Span<const float> action);
  void StepOriginal(absl::Span<const float> action);
  int prey_index() const { return num_agents_; }
  int first_landmark() const { return num_agents_ + (has_prey_ ? 1 : 0); }

  MpeScenario scenario_;
  MpeDynamics dynamics_;
  int num_agents_ = 0, num_landmarks_ = 0;
  bool has_prey_ = false;
  EnvSpec spec_;
  std::vector<MpeEntity> entities_;
  int step_ = 0;
  bool done_ = true;
};

}  // namespace tandem::envs

#endif  // TANDEM_ENVS_MPE_MPE_ENV_H_
