// Evaluation: run whole episodes with an acting policy and a selector without exploration, and
// report the mean and spread of the episode returns (and the win rate of combat envs). Evaluated
// policies: "online" (the online network's deterministic action: tanh(mean), or the greedy
// available action), "offline" (the frozen offline policy's), "composed" (Sim2O's composition:
// deterministic offline and online proposals combined by a greedy Coordinated Beam Search over the
// critic, forward agent order) and "random" (uniform actions, the normalized score's baseline).
#ifndef TANDEM_ACTOR_EVALUATOR_H_
#define TANDEM_ACTOR_EVALUATOR_H_

#include <functional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "actor/step_loop.h"
#include "common/policies/acting_policy.h"
#include "envs/registry.h"
#include "proto/config.pb.h"

namespace tandem::actor {

struct EvaluationResult {
  int episodes = 0;
  double mean_return = 0, std_return = 0, min_return = 0, max_return = 0;
  double mean_length = 0;
  // Share of episodes the team won (combat envs; 0 elsewhere).
  double win_rate = 0;
  // Whether the env reports wins (discrete-action combat maps), so win_rate means something.
  bool reports_wins = false;
};

// Mean, spread and extremes of episode returns; mean length from their total.
EvaluationResult SummarizeReturns(const std::vector<double>& returns, double total_length);

// The selector that evaluates `policy` ("online", "offline", "composed" or "random") without
// exploration; `beam_width` is the composed policy's beam.
absl::StatusOr<SelectorConfig> EvaluationSelector(const std::string& policy, int beam_width);

// Runs `episodes` episodes of `env_name` (with `options`), `policy` acting through `selector`
// with every sampled proposal replaced by the deterministic one. Episode e is seeded
// DeriveSeed(seed, {kEvaluation, e}), so two policies evaluated with one seed meet the same starts.
absl::StatusOr<EvaluationResult> EvaluatePolicy(const std::string& env_name,
                                                const envs::EnvOptions& options,
                                                policies::ActingPolicy& policy,
                                                const SelectorConfig& selector, int episodes,
                                                uint64_t seed);

// Called after every step with the loop (its prev_* hold the step's observations, its pool the
// outcome), and after every episode with the episodes done so far and that episode's return.
using StepObserver = std::function<absl::Status(StepLoop& loop)>;
using EpisodeObserver = std::function<absl::Status(int episodes_done, double episode_return)>;

// The episode loop behind evaluation and recording: `episodes` episodes of one env seeded as
// EvaluatePolicy's, `policy` (null for selectors that need none) acting through `selector`
// without exploration.
absl::StatusOr<EvaluationResult> RunEpisodes(const std::string& env_name,
                                             const envs::EnvOptions& options,
                                             policies::ActingPolicy* policy,
                                             const SelectorConfig& selector, int episodes,
                                             uint64_t seed, const StepObserver& observe,
                                             const EpisodeObserver& episode_done);

// The same for the named evaluated policy (see EvaluationSelector).
absl::StatusOr<EvaluationResult> EvaluateNamedPolicy(const std::string& env_name,
                                                     const envs::EnvOptions& options,
                                                     policies::ActingPolicy& policy,
                                                     const std::string& which, int beam_width,
                                                     int episodes, uint64_t seed);

// 100 * (R - random) / (expert - random), the D4RL-style normalized score.
double NormalizedScore(double value, double random_return, double expert_return);

}  // namespace tandem::actor

#endif  // TANDEM_ACTOR_EVALUATOR_H_
