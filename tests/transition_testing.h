// Test helpers: specs and deterministic transition batches whose contents identify each row.
#ifndef TANDEM_TESTS_TRANSITION_TESTING_H_
#define TANDEM_TESTS_TRANSITION_TESTING_H_

#include <cstdint>

#include "common/transition_schema.h"
#include "proto/transition.pb.h"

namespace tandem::testing {

// A continuous-action spec (MA-MuJoCo-like).
TransitionSpec ContinuousSpec(int agents = 3, int obs = 5, int state = 7, int action = 2);

// A discrete-action spec with availability masks (SMAC-like).
TransitionSpec DiscreteSpec(int agents = 3, int obs = 5, int state = 7, int actions = 4);

// A spec with the episode layout: discrete actions with masks, items padded to `episode_steps`.
TransitionSpec EpisodeSpec(int agents = 3, int obs = 5, int state = 7, int actions = 4,
                           int episode_steps = 6);
// Length (env steps) of the episode MakeBatch writes for `id` under an episode spec:
// 1 + id % (episode_steps - 1).
int64_t EpisodeLength(const TransitionSpec& spec, int64_t id);

// A valid batch of `rows` transitions (or episodes, under an episode spec: EpisodeLength steps,
// every float of obs/state and every step's reward = id, actions id % K, all actions available,
// terminated on the last step of even ids). Row i carries `first_id + i` in its reward and in every
// float of obs/state (so a row read back can be identified); discrete actions are id % K and
// always available; terminated is set on every 10th id.
TransitionBatch MakeBatch(const TransitionSchema& schema, int64_t rows, int64_t first_id);

// The id stored in row `row` of a batch made by MakeBatch (or gathered from such rows).
int64_t RowId(const TransitionBatch& batch, int64_t row);

// Whether every column of row `row` holds the values MakeBatch writes for `id`.
bool RowMatchesId(const TransitionSchema& schema, const TransitionBatch& batch, int64_t row,
                  int64_t id);

}  // namespace tandem::testing

#endif  // TANDEM_TESTS_TRANSITION_TESTING_H_
