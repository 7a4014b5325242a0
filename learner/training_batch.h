// A sampled batch as LibTorch tensors on the learner's device.
#ifndef TANDEM_LEARNER_TRAINING_BATCH_H_
#define TANDEM_LEARNER_TRAINING_BATCH_H_

#include <ATen/core/Tensor.h>
#include <c10/core/Device.h>

#include "absl/status/statusor.h"
#include "common/transition_schema.h"
#include "proto/transition.pb.h"

namespace tandem::learner {

struct TrainingBatch {
  at::Tensor obs;         // float [B, N, O]
  at::Tensor state;       // float [B, S]
  at::Tensor actions;     // float [B, N, A] (continuous) or long [B, N] (discrete)
  at::Tensor reward;      // float [B]
  at::Tensor terminated;  // float [B], 1 where the next state is terminal
  at::Tensor next_obs;    // float [B, N, O]
  at::Tensor next_state;  // float [B, S]
  at::Tensor offline;     // bool [B], true for offline-table items (undefined if unknown)

  int64_t size() const { return reward.size(0); }
};

// Converts a validated batch (one copy per column) and moves it to `device`.
absl::StatusOr<TrainingBatch> ToTrainingBatch(const TransitionBatch& batch,
                                              const c10::Device& device);
absl::StatusOr<TrainingBatch> ToTrainingBatch(const SampledBatch& batch, const c10::Device& device);

}  // namespace tandem::learner

#endif  // TANDEM_LEARNER_TRAINING_BATCH_H_
