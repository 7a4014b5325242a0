// Offline Value-function Memory (OVMSE, Zhong et al., AAMAS 2025, eqs. 4-6), usable by any
// algorithm with a Q_tot target:
//   Q_OVM  = max(Q_offline_target(s, a), y)         (y: the online TD target)
//   L_OVM  = (1 - lambda) (Q_tot - y)^2 + lambda (Q_tot - Q_OVM)^2
//   lambda = max(lambda_end, 1 - (1 - lambda_end) t / T)   (t: online env steps)
// The paper prints min() in the schedule; with lambda_end < 1 that would be constant, so the
// linear decay from 1 that the text describes is implemented.
#ifndef TANDEM_LEARNER_OVM_H_
#define TANDEM_LEARNER_OVM_H_

#include <ATen/core/Tensor.h>

#include <cstdint>

namespace tandem::learner {

// lambda_memory after `env_steps` online env steps.
double MemoryCoefficient(double lambda_end, int64_t anneal_env_steps, int64_t env_steps);

// Mean OVM loss over the batch; `td_target` and `offline_target` must be detached. With `mask`
// (same shape, 1 for the entries that count; padded episodes), the mean over those entries.
at::Tensor OvmLoss(const at::Tensor& q_tot, const at::Tensor& td_target,
                   const at::Tensor& offline_target, double lambda,
                   const at::Tensor& mask = at::Tensor());

}  // namespace tandem::learner

#endif  // TANDEM_LEARNER_OVM_H_
