// Evaluation: run whole episodes with a deterministic joint policy (no exploration) and report the
// mean and spread of the episode returns. Policies: one network's tanh(mean) action for every
// agent, or the CBS-composed policy (deterministic offline and online proposals combined by a
// greedy Coordinated Beam Search over the critic).
#ifndef TANDEM_ACTOR_EVALUATOR_H_
#define TANDEM_ACTOR_EVALUATOR_H_

#include <functional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "actor/envs/registry.h"
#include "actor/policy_set.h"
#include "common/networks/tanh_gaussian_policy.h"

namespace tandem::actor {

struct EvaluationResult {
  int episodes = 0;
  double mean_return = 0, std_return = 0, min_return = 0, max_return = 0;
  double mean_length = 0;
};

// Mean, spread and extremes of episode returns; mean length from their total.
EvaluationResult SummarizeReturns(const std::vector<double>& returns, double total_length);

// Writes the joint action (N * action_size floats) for one env's observations (N * obs_size) and
// state.
using JointPolicy =
    std::function<absl::Status(const float* obs, const float* state, float* actions)>;

// Runs `episodes` episodes of `env_name` (with `options`) under `policy`. Episode e is seeded
// DeriveSeed(seed, {kEvaluation, e}), so two policies evaluated with one seed meet the same starts.
absl::StatusOr<EvaluationResult> EvaluateJointPolicy(const std::string& env_name,
                                                     const envs::EnvOptions& options,
                                                     const JointPolicy& policy, int episodes,
                                                     uint64_t seed);

// Every agent takes `policy`'s deterministic action (one batched forward over agents per step).
absl::StatusOr<EvaluationResult> EvaluateDeterministicPolicy(const std::string& env_name,
                                                             const envs::EnvOptions& options,
                                                             networks::TanhGaussianPolicy& policy,
                                                             int episodes, uint64_t seed);

// One policy's deterministic joint action.
JointPolicy DeterministicJointPolicy(networks::TanhGaussianPolicy policy,
                                     const envs::EnvSpec& spec);

// The CBS-composed deterministic policy: offline and online tanh(mean) proposals, scored by the
// online critic, combined by greedy beam search (top-`beam_width` pruning, argmax pick) in forward
// agent order. Holds references to `nets`' modules, so later weight updates are seen.
JointPolicy ComposedJointPolicy(PolicySet& nets, const envs::EnvSpec& spec, int beam_width);

// 100 * (R - random) / (expert - random), the D4RL-style normalized score.
double NormalizedScore(double value, double random_return, double expert_return);

}  // namespace tandem::actor

#endif  // TANDEM_ACTOR_EVALUATOR_H_
