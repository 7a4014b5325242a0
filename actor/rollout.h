// Rolling out a policy in a pool of environments and recording the transitions: the building
// block of dataset collection. Transitions are written in batches to a DatasetWriter.
#ifndef TANDEM_ACTOR_ROLLOUT_H_
#define TANDEM_ACTOR_ROLLOUT_H_

#include <functional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "actor/evaluator.h"
#include "common/dataset.h"
#include "envs/env_pool.h"

namespace tandem::actor {

// Fills `actions` ([B, N, A] floats) for the pool's current observations.
using ActionFn = std::function<absl::Status(const envs::EnvPool& pool, absl::Span<float> actions)>;

// Steps `pool` (already reset) for `env_steps` env steps in total with `act`, appending every
// transition to `writer`. Returns the number of transitions written.
absl::StatusOr<int64_t> RecordRollouts(envs::EnvPool& pool, const ActionFn& act, int64_t env_steps,
                                       DatasetWriter& writer);

// Records `episodes` whole episodes of `policy` (one env, continuous actions), adding Gaussian
// noise of std `action_noise` to every action (clipped to the box). Episode e starts from the
// evaluation's seed for e (EvaluateJointPolicy with the same `seed`), so without noise the
// recorded returns equal the evaluation's. `progress(done, return)` follows each episode.
absl::StatusOr<EvaluationResult> RecordEpisodes(const std::string& env_name,
                                                const envs::EnvOptions& options,
                                                const JointPolicy& policy, int episodes,
                                                uint64_t seed, double action_noise,
                                                DatasetWriter& writer,
                                                const std::function<void(int, double)>& progress);

// Uniform random actions inside each agent's box.
ActionFn UniformRandomActions(uint64_t seed);

}  // namespace tandem::actor

#endif  // TANDEM_ACTOR_ROLLOUT_H_
