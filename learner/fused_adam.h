// Adam over a group of parameters with multi-tensor (`_foreach`) kernels: one operation per step
// phase for the whole group instead of one per parameter, plus global-norm gradient clipping.
// Matches torch.optim.Adam (betas 0.9/0.999, eps 1e-8, no weight decay) combined with
// torch.nn.utils.clip_grad_norm_ (coefficient max_norm / (norm + 1e-6), applied when < 1).
#ifndef TANDEM_LEARNER_FUSED_ADAM_H_
#define TANDEM_LEARNER_FUSED_ADAM_H_

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <string>
#include <vector>

namespace tandem::learner {

struct FusedAdamOptions {
  double learning_rate = 5e-4;
  double beta1 = 0.9;
  double beta2 = 0.999;
  double eps = 1e-8;
  // Global L2 norm the gradients are clipped to; <= 0 disables clipping.
  double max_grad_norm = 1.0;
};

class FusedAdam {
 public:
  FusedAdam(std::vector<at::Tensor> parameters, const FusedAdamOptions& options);

  // Sets every gradient to zero (allocating missing ones).
  void ZeroGrad();
  // Clips and applies one Adam step; returns the gradient norm before clipping. When that norm is
  // not finite (a NaN or infinite gradient, or one whose square overflows) nothing changes:
  // parameters, moments and the step count stay as they were, and skipped_steps() counts it.
  double Step();
  // Steps refused because the gradients were not finite.
  int64_t skipped_steps() const { return skipped_steps_; }

  // Optimizer state for checkpoints: step count, first and second moments.
  int64_t step() const { return step_; }
  void set_step(int64_t step) { step_ = step; }
  std::vector<at::Tensor>& exp_avg() { return exp_avg_; }
  std::vector<at::Tensor>& exp_avg_sq() { return exp_avg_sq_; }
  const std::vector<at::Tensor>& parameters() const { return parameters_; }

 private:
  std::vector<at::Tensor> parameters_;
  std::vector<at::Tensor> exp_avg_;
  std::vector<at::Tensor> exp_avg_sq_;
  FusedAdamOptions options_;
  int64_t step_ = 0;
  int64_t skipped_steps_ = 0;
};

// target <- (1 - tau) * target + tau * source, for matching parameter lists.
void PolyakUpdate(std::vector<at::Tensor>& target, const std::vector<at::Tensor>& source,
                  double tau);

}  // namespace tandem::learner

#endif  // TANDEM_LEARNER_FUSED_ADAM_H_
