// Evaluation of a deterministic policy: run episodes with tanh(mean) actions for every agent (one
// batched forward per step) and report the mean and spread of the episode returns.
#ifndef TANDEM_ACTOR_EVALUATOR_H_
#define TANDEM_ACTOR_EVALUATOR_H_

#include <string>

#include "absl/status/statusor.h"
#include "actor/envs/registry.h"
#include "common/networks/tanh_gaussian_policy.h"

namespace tandem::actor {

struct EvaluationResult {
  int episodes = 0;
  double mean_return = 0, std_return = 0, min_return = 0, max_return = 0;
  double mean_length = 0;
};

// Runs `episodes` episodes of `env_name` (with `options`) under `policy`'s deterministic action.
// Episode e is seeded DeriveSeed(seed, {kEvaluation, e}).
absl::StatusOr<EvaluationResult> EvaluateDeterministicPolicy(const std::string& env_name,
                                                             const envs::EnvOptions& options,
                                                             networks::TanhGaussianPolicy& policy,
                                                             int episodes, uint64_t seed);

// 100 * (R - random) / (expert - random), the D4RL-style normalized score.
double NormalizedScore(double value, double random_return, double expert_return);

}  // namespace tandem::actor

#endif  // TANDEM_ACTOR_EVALUATOR_H_
