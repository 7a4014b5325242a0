// The SMAC-like combat env: StarCraft II micromanagement scenarios without StarCraft II.
//
// Name: "smac/<map>", e.g. "smac/3s5z"; maps are those of map.h. The agent interface is SMAC's
// with its default settings (oxwhirl/smac starcraft2.py):
//   actions      0 no-op (dead agents only), 1 stop, 2-5 move north/south/east/west by 2 cells,
//                6+j attack enemy j (a medivac: heal ally j); masks in `avail_actions`
//                (a move needs the cell 1 cell away to be walkable; attack/heal needs the target
//                alive and within 6).
//   observation  per agent: move availability (4); per enemy within sight 9 [attackable, dist,
//                dx, dy (/9), health, (shield), type one-hot]; per other ally [visible, dist, dx,
//                dy, health, (shield), type]; own [health, (shield), type]. Shield columns exist
//                when that side is Protoss; type one-hots on maps with several unit types.
//                Dead agents observe zeros.
//   state        allies [health, cooldown, x, y (centred, /32), (shield), type], enemies [health,
//                x, y, (shield), type], then every agent's last action one-hot.
//   reward       only-positive: damage dealt to enemy health and shields, +10 per kill, +200 for
//                the win, scaled so the maximum return is 20 (SMAC's defaults, quirks included:
//                enemy regeneration counts through the absolute value).
// Options:
//   episode_limit=<map's>   steps before the episode ends.
//   timeout_terminal=false  false: a timeout is reported as `truncated` (bootstrap from it);
//                           true: as `terminated`, the PyMARL convention SMAC results use.
// The time base is SC2's normal game speed (unit_type.h); one step is 8 ticks = 0.5 game s.
#ifndef TANDEM_ENVS_SMAC_SMAC_ENV_H_
#define TANDEM_ENVS_SMAC_SMAC_ENV_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "envs/multi_agent_env.h"
#include "envs/registry.h"
#include "envs/smac/map.h"
#include "envs/smac/world.h"

namespace tandem::envs {

class SmacEnv : public MultiAgentEnv {
 public:
  // Actions before the per-target ones.
  static constexpr int kNumNonTargetActions = 6;
  static constexpr float kSightRange = 9.f;
  static constexpr float kShootRange = 6.f;
  static constexpr float kMoveAmount = 2.f;

  // `task` is a map name ("3s5z").
  static absl::StatusOr<std::unique_ptr<SmacEnv>> Create(const std::string& task,
                                                         const EnvOptions& options);

  const EnvSpec& spec() const override { return spec_; }
  absl::Status Reset(uint64_t seed, TimeStepView out) override;
  absl::Status Step(const JointAction& action, TimeStepView out, StepOutcome* outcome) override;
  int episode_step() const override { return step_; }

  // The simulation (read-only), for scripted policies and tests.
  const smac::World& world() const { return world_; }
  smac::World& mutable_world() { return world_; }
  // The availability mask of the current state (num_agents x num_actions).
  const std::vector<uint8_t>& avail_actions() const { return avail_; }
  // SMAC's reward normaliser: max_reward / 20.
  float reward_scale() const { return reward_scale_; }

 private:
  SmacEnv(const smac::MapSpec& map, int episode_limit, bool timeout_terminal);
  void ComputeAvailability();
  bool CanMove(const smac::Unit& u, int direction) const;
  // The type one-hot column of `type` for a side (-1: no type bits).
  int TypeColumn(smac::UnitType type, bool ally) const;
  void WriteObservation(TimeStepView out) const;
  void WriteState(absl::Span<float> state) const;
  // Outcome codes as SMAC's: 1 won, -1 lost, 0 draw, nullopt running.
  int GameEnd(bool* ended) const;

  const smac::MapSpec& map_;
  smac::World world_;
  EnvSpec spec_;
  bool timeout_terminal_ = false;
  int num_actions_ = 0;
  int enemy_feat_size_ = 0, ally_feat_size_ = 0, own_feat_size_ = 0;
  int ally_state_size_ = 0, enemy_state_size_ = 0;
  bool ally_shields_ = false, enemy_shields_ = false;
  float reward_scale_ = 1;
  int step_ = 0;
  bool done_ = true;
  std::vector<uint8_t> avail_;
  std::vector<int32_t> last_actions_;
  // Enemy health + shield after the previous step, and which enemies were already counted dead.
  std::vector<float> enemy_previous_;
  std::vector<uint8_t> enemy_counted_dead_;
};

}  // namespace tandem::envs

#endif  // TANDEM_ENVS_SMAC_SMAC_ENV_H_
