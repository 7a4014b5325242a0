#include "learner/fused_adam.h"

#include <ATen/ATen.h>

#include <cmath>

namespace tandem::learner {

FusedAdam::FusedAdam(std::vector<at::Tensor> parameters, const FusedAdamOptions& options)
    : parameters_(std::move(parameters)), options_(options) {
  for (const at::Tensor& p : parameters_) {
    exp_avg_.push_back(at::zeros_like(p));
    exp_avg_sq_.push_back(at::zeros_like(p));
  }
}

void FusedAdam::ZeroGrad() {
  for (at::Tensor& p : parameters_) {
    if (p.grad().defined()) {
      p.mutable_grad().zero_();
    } else {
      p.mutable_grad() = at::zeros_like(p);
    }
  }
}

double FusedAdam::Step() {
  at::NoGradGuard no_grad;
  std::vector<at::Tensor> grads;
  grads.reserve(parameters_.size());
  for (at::Tensor& p : parameters_) {
    if (!p.grad().defined()) p.mutable_grad() = at::zeros_like(p);
    grads.push_back(p.grad());
  }
  const std::vector<at::Tensor> norms = at::_foreach_norm(grads, 2);
  const double total_norm = at::stack(norms).norm().item<double>();
  if (!std::isfinite(total_norm)) {
    ++skipped_steps_;
    return total_norm;
  }
  if (options_.max_grad_norm > 0) {
    const double coefficient = options_.max_grad_norm / (total_norm + 1e-6);
    if (coefficient < 1.0) at::_foreach_mul_(grads, coefficient);
  }
  ++step_;
  const double b1 = options_.beta1, b2 = options_.beta2;
  at::_foreach_mul_(exp_avg_, b1);
  at::_foreach_add_(exp_avg_, grads, 1 - b1);
  at::_foreach_mul_(exp_avg_sq_, b2);
  at::_foreach_addcmul_(exp_avg_sq_, grads, grads, 1 - b2);
  const double bias_correction1 = 1 - std::pow(b1, static_cast<double>(step_));
  const double bias_correction2 = 1 - std::pow(b2, static_cast<double>(step_));
  std::vector<at::Tensor> denominator = at::_foreach_sqrt(exp_avg_sq_);
  at::_foreach_div_(denominator, std::sqrt(bias_correction2));
  at::_foreach_add_(denominator, options_.eps);
  at::_foreach_addcdiv_(parameters_, exp_avg_, denominator,
                        -options_.learning_rate / bias_correction1);
  return total_norm;
}

void PolyakUpdate(std::vector<at::Tensor>& target, const std::vector<at::Tensor>& source,
                  double tau) {
  at::NoGradGuard no_grad;
  at::_foreach_mul_(target, 1 - tau);
  at::_foreach_add_(target, source, tau);
}

}  // namespace tandem::learner
