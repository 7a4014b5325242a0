#include "learner/ovm.h"

#include <ATen/ATen.h>

#include <algorithm>

namespace tandem::learner {

double MemoryCoefficient(double lambda_end, int64_t anneal_env_steps, int64_t env_steps) {
  if (anneal_env_steps <= 0) return lambda_end;
  const double progress = static_cast<double>(env_steps) / static_cast<double>(anneal_env_steps);
  return std::max(lambda_end, 1.0 - (1.0 - lambda_end) * progress);
}

at::Tensor OvmLoss(const at::Tensor& q_tot, const at::Tensor& td_target,
                   const at::Tensor& offline_target, double lambda, const at::Tensor& mask) {
  const at::Tensor memory_target = at::maximum(offline_target, td_target);
  const at::Tensor per_entry =
      (1 - lambda) * (q_tot - td_target).pow(2) + lambda * (q_tot - memory_target).pow(2);
  if (!mask.defined()) return per_entry.mean();
  return (per_entry * mask).sum() / mask.sum().clamp_min(1);
}

}  // namespace tandem::learner
