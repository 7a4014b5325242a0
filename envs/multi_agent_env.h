// The interface every multi-agent environment implements (MA-MuJoCo, the SMAC-like combat env,
// ...).
//
// An environment writes its outputs into caller-owned buffers (`TimeStepView`), so a pool of envs
// fills one pre-allocated batch without copies. Observations are per agent, zero-padded to the
// spec's `obs_size`; continuous actions are per agent, padded to `action_size` (padding ignored).
//
// Thread-safety: one env is used by one thread at a time; different envs may run in parallel.
#ifndef TANDEM_ENVS_MULTI_AGENT_ENV_H_
#define TANDEM_ENVS_MULTI_AGENT_ENV_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/types/span.h"
#include "proto/transition.pb.h"

namespace tandem::envs {

// Static description of an environment.
struct EnvSpec {
  // Registered name with options, e.g. "mamujoco/HalfCheetah-6x1(obs_mode=omiga)".
  std::string name;
  int num_agents = 0;
  // True observation size of each agent (num_agents entries).
  std::vector<int> agent_obs_sizes;
  // Padded per-agent observation size: max(agent_obs_sizes).
  int obs_size = 0;
  // Global state size.
  int state_size = 0;
  ActionType action_type = ACTION_TYPE_CONTINUOUS;
  // Continuous: true action size of each agent; discrete: number of actions K for every agent.
  std::vector<int> agent_action_sizes;
  // Padded per-agent action size (continuous) or K (discrete).
  int action_size = 0;
  // Continuous action box, per agent and dimension (num_agents * action_size, padding 0).
  std::vector<float> action_low, action_high;
  // Steps after which an episode is truncated.
  int episode_limit = 0;
  // Discrete envs report which actions are available.
  bool has_avail_actions = false;

  // The replay table spec for transitions of this env.
  TransitionSpec ToTransitionSpec() const;
  // The spec of whole episodes of this env (episode tables, episode datasets): transitions' shapes
  // with episode_steps = episode_limit + 1 entries (the final observation).
  TransitionSpec ToEpisodeSpec() const;
  // A multi-line human-readable description (`tandem env info`).
  std::string Describe() const;
};

// Where an env writes one time step. Spans must have the spec's sizes.
struct TimeStepView {
  // num_agents * obs_size floats.
  absl::Span<float> obs;
  // state_size floats.
  absl::Span<float> state;
  // num_agents * action_size bytes (discrete envs with availability masks only).
  absl::Span<uint8_t> avail_actions;
};

// What a step returns besides the observation.
struct StepOutcome {
  // Shared team reward.
  float reward = 0;
  // The new state is terminal (no bootstrapping from it).
  bool terminated = false;
  // The episode was cut by the time limit.
  bool truncated = false;
  // Combat envs: the team won (valid when terminated).
  bool won = false;
};

// A joint action: continuous (num_agents * action_size floats, padded) or discrete (num_agents
// indices). Exactly one is non-empty.
struct JointAction {
  absl::Span<const float> continuous;
  absl::Span<const int32_t> discrete;
};

class MultiAgentEnv {
 public:
  virtual ~MultiAgentEnv() = default;
  virtual const EnvSpec& spec() const = 0;
  // Starts an episode; the same seed gives a bit-identical episode under the same actions.
  virtual absl::Status Reset(uint64_t seed, TimeStepView out) = 0;
  // Advances one step. Fails (changing nothing) on a wrong action size, a non-finite action, an
  // unavailable discrete action, or a step after the episode ended.
  virtual absl::Status Step(const JointAction& action, TimeStepView out, StepOutcome* outcome) = 0;
  // Steps taken in the current episode.
  virtual int episode_step() const = 0;
};

}  // namespace tandem::envs

#endif  // TANDEM_ENVS_MULTI_AGENT_ENV_H_
