// A sampled batch as LibTorch tensors on the learner's device.
#ifndef TANDEM_LEARNER_TRAINING_BATCH_H_
#define TANDEM_LEARNER_TRAINING_BATCH_H_

#include <ATen/core/Tensor.h>
#include <c10/core/Device.h>

#include "absl/status/statusor.h"
#include "common/transition_schema.h"
#include "proto/transition.pb.h"

namespace tandem::learner {

// Everything the replay server knows about the sampled items reaches the algorithm: besides the
// transition itself, the time-limit flag, availability masks, and where and how each item was drawn
// (keys and probabilities for priority updates and importance weights).
struct TrainingBatch {
  at::Tensor obs;         // float [B, N, O]
  at::Tensor state;       // float [B, S]
  at::Tensor actions;     // float [B, N, A] (continuous) or long [B, N] (discrete)
  at::Tensor reward;      // float [B]
  at::Tensor terminated;  // float [B], 1 where the next state is terminal
  at::Tensor truncated;   // float [B], 1 where the episode was cut by the time limit at s'
  at::Tensor next_obs;    // float [B, N, O]
  at::Tensor next_state;  // float [B, S]
  // bool [B, N, K] availability masks at s and s' (discrete envs with masks; undefined otherwise).
  at::Tensor avail_actions, next_avail_actions;
  at::Tensor offline;  // bool [B], true for offline-table items (undefined if unknown)
  // Sampled batches only (undefined otherwise): the table each item came from (uint8 values of
  // `Source`), its key inside that table (long) and the probability it was drawn with (double).
  at::Tensor source, keys, probabilities;

  // Episode items (spec.episode_steps = L > 0) instead: obs [B, L, N, O], state [B, L, S],
  // actions long [B, L, N], avail_actions bool [B, L, N, K], reward / terminated / filled float
  // [B, L] (proto/transition.proto's episode layout); truncated and next_* are undefined.
  at::Tensor filled;

  int64_t size() const { return reward.size(0); }
  bool episodic() const { return filled.defined(); }
};

// Converts a validated batch (one copy per column) and moves it to `device`.
absl::StatusOr<TrainingBatch> ToTrainingBatch(const TransitionBatch& batch,
                                              const c10::Device& device);
absl::StatusOr<TrainingBatch> ToTrainingBatch(const SampledBatch& batch, const c10::Device& device);

}  // namespace tandem::learner

#endif  // TANDEM_LEARNER_TRAINING_BATCH_H_
