#include "learner/training_batch.h"

#include <ATen/ATen.h>

#include "common/status_macros.h"
#include "common/torch_tensor.h"

namespace tandem::learner {

absl::StatusOr<TrainingBatch> ToTrainingBatch(const TransitionBatch& batch,
                                              const c10::Device& device) {
  TrainingBatch out;
  auto convert = [&](const Tensor& proto, const char* name) -> absl::StatusOr<at::Tensor> {
    ASSIGN_OR_RETURN(at::Tensor tensor, ProtoToTorch(proto, name));
    return tensor.to(device, /*non_blocking=*/true);
  };
  ASSIGN_OR_RETURN(out.obs, convert(batch.obs(), "obs"));
  ASSIGN_OR_RETURN(out.state, convert(batch.state(), "state"));
  ASSIGN_OR_RETURN(out.actions, convert(batch.actions(), "actions"));
  if (out.actions.scalar_type() == at::kInt) out.actions = out.actions.to(at::kLong);
  ASSIGN_OR_RETURN(out.reward, convert(batch.reward(), "reward"));
  ASSIGN_OR_RETURN(at::Tensor terminated, convert(batch.terminated(), "terminated"));
  out.terminated = terminated.to(at::kFloat);
  ASSIGN_OR_RETURN(out.next_obs, convert(batch.next_obs(), "next_obs"));
  ASSIGN_OR_RETURN(out.next_state, convert(batch.next_state(), "next_state"));
  return out;
}

absl::StatusOr<TrainingBatch> ToTrainingBatch(const SampledBatch& batch,
                                              const c10::Device& device) {
  ASSIGN_OR_RETURN(TrainingBatch out, ToTrainingBatch(batch.transitions(), device));
  if (batch.source().shape_size() == 1) {
    ASSIGN_OR_RETURN(at::Tensor source, ProtoToTorch(batch.source(), "source"));
    out.offline = source.eq(static_cast<int>(SOURCE_OFFLINE)).to(device);
  }
  return out;
}

}  // namespace tandem::learner
