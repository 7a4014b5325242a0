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
  if (batch.filled().shape_size() > 0) {
    // Episode layout: the next step is the next entry; no truncated or next_* tensors.
    ASSIGN_OR_RETURN(at::Tensor filled, convert(batch.filled(), "filled"));
    out.filled = filled.to(at::kFloat);
    ASSIGN_OR_RETURN(at::Tensor avail, convert(batch.avail_actions(), "avail_actions"));
    out.avail_actions = avail.to(at::kBool);
    return out;
  }
  ASSIGN_OR_RETURN(at::Tensor truncated, convert(batch.truncated(), "truncated"));
  out.truncated = truncated.to(at::kFloat);
  if (batch.avail_actions().shape_size() > 0) {
    ASSIGN_OR_RETURN(at::Tensor avail, convert(batch.avail_actions(), "avail_actions"));
    out.avail_actions = avail.to(at::kBool);
    ASSIGN_OR_RETURN(at::Tensor next_avail,
                     convert(batch.next_avail_actions(), "next_avail_actions"));
    out.next_avail_actions = next_avail.to(at::kBool);
  }
  ASSIGN_OR_RETURN(out.next_obs, convert(batch.next_obs(), "next_obs"));
  ASSIGN_OR_RETURN(out.next_state, convert(batch.next_state(), "next_state"));
  return out;
}

absl::StatusOr<TrainingBatch> ToTrainingBatch(const SampledBatch& batch,
                                              const c10::Device& device) {
  ASSIGN_OR_RETURN(TrainingBatch out, ToTrainingBatch(batch.transitions(), device));
  if (batch.source().shape_size() == 1) {
    ASSIGN_OR_RETURN(out.source, ProtoToTorch(batch.source(), "source"));
    out.source = out.source.to(device);
    out.offline = out.source.eq(static_cast<int>(SOURCE_OFFLINE));
  }
  if (batch.keys().shape_size() == 1) {
    ASSIGN_OR_RETURN(out.keys, ProtoToTorch(batch.keys(), "keys"));
    out.keys = out.keys.to(device);
  }
  if (batch.probabilities().shape_size() == 1) {
    ASSIGN_OR_RETURN(out.probabilities, ProtoToTorch(batch.probabilities(), "probabilities"));
    out.probabilities = out.probabilities.to(device);
  }
  return out;
}

}  // namespace tandem::learner
