// Recording what a policy does into a dataset: the building block of dataset collection. Both
// functions act through the shared StepLoop (a policy and a selector) and write whole episodes.
#ifndef TANDEM_ACTOR_ROLLOUT_H_
#define TANDEM_ACTOR_ROLLOUT_H_

#include <functional>
#include <string>

#include "absl/status/statusor.h"
#include "actor/evaluator.h"
#include "actor/step_loop.h"
#include "common/dataset.h"

namespace tandem::actor {

// Steps `loop` (Begin() already called) for `env_steps` env steps in total, appending every
// transition to `writer` (continuous-action envs); episodes cut by the end are marked truncated.
// Returns the number of transitions written.
absl::StatusOr<int64_t> RecordRollouts(StepLoop& loop, int64_t env_steps, DatasetWriter& writer);

// Records `episodes` whole episodes of `policy`'s deterministic action (continuous envs) plus
// Gaussian noise of std `action_noise` (clipped to the box; the `gaussian` selector). Episode e
// starts from the evaluation's seed for e (EvaluatePolicy with the same `seed`), so without noise
// the recorded returns equal the evaluation's. `progress(done, return)` follows each episode.
absl::StatusOr<EvaluationResult> RecordEpisodes(const std::string& env_name,
                                                const envs::EnvOptions& options,
                                                policies::ActingPolicy& policy, int episodes,
                                                uint64_t seed, double action_noise,
                                                DatasetWriter& writer,
                                                const std::function<void(int, double)>& progress);

// Discrete-action envs (what RecordEpisodes does when `writer` holds episodes): whole episodes of
// `policy`'s greedy action with probability 1 - `epsilon`, a uniformly random available action
// otherwise (the `epsilon` selector at a fixed epsilon), one episode-layout row each; the writer's
// episode_steps must be the env's episode limit + 1.
absl::StatusOr<EvaluationResult> RecordDiscreteEpisodes(
    const std::string& env_name, const envs::EnvOptions& options, policies::ActingPolicy& policy,
    int episodes, uint64_t seed, double epsilon, DatasetWriter& writer,
    const std::function<void(int, double)>& progress = nullptr);

}  // namespace tandem::actor

#endif  // TANDEM_ACTOR_ROLLOUT_H_
