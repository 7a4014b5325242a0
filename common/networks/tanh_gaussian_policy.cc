#include "common/networks/tanh_gaussian_policy.h"

#include <ATen/ATen.h>

#include <cmath>

namespace tandem::networks {

TanhGaussianPolicyImpl::TanhGaussianPolicyImpl(const TanhGaussianPolicyOptions& options)
    : options_(options) {
  trunk_ = register_module(
      "trunk",
      Mlp(MlpOptions{options.input_size, {options.hidden_size}, options.hidden_size, true}));
  mean_ = register_module("mean", torch::nn::Linear(options.hidden_size, options.action_size));
  log_std_ =
      register_module("log_std", torch::nn::Linear(options.hidden_size, options.action_size));
}

std::pair<torch::Tensor, torch::Tensor> TanhGaussianPolicyImpl::Distribution(
    const torch::Tensor& inputs) {
  torch::Tensor hidden = trunk_->forward(inputs);
  torch::Tensor mean = mean_->forward(hidden).clamp(-options_.mean_clamp, options_.mean_clamp);
  torch::Tensor log_std =
      log_std_->forward(hidden).clamp(options_.log_std_min, options_.log_std_max);
  return {mean, log_std};
}

torch::Tensor TanhGaussianPolicyImpl::Deterministic(const torch::Tensor& inputs) {
  torch::Tensor hidden = trunk_->forward(inputs);
  return torch::tanh(mean_->forward(hidden).clamp(-options_.mean_clamp, options_.mean_clamp));
}

torch::Tensor TanhGaussianPolicyImpl::Sample(const torch::Tensor& inputs,
                                             c10::optional<at::Generator> generator) {
  auto [mean, log_std] = Distribution(inputs);
  torch::Tensor noise = at::randn(mean.sizes(), generator, mean.options());
  return torch::tanh(mean + log_std.exp() * noise);
}

std::pair<torch::Tensor, torch::Tensor> TanhGaussianPolicyImpl::SampleWithLogProb(
    const torch::Tensor& inputs, c10::optional<at::Generator> generator) {
  auto [mean, log_std] = Distribution(inputs);
  torch::Tensor noise = at::randn(mean.sizes(), generator, mean.options());
  torch::Tensor u = mean + log_std.exp() * noise;
  // Density at the pre-tanh sample itself: (u - mean) / std is the noise.
  torch::Tensor normal = -noise.pow(2) / 2 - log_std - 0.5 * std::log(2 * M_PI);
  torch::Tensor jacobian = 2 * (std::log(2.0) - u - torch::softplus(-2 * u));
  return {torch::tanh(u), (normal - jacobian).sum(-1)};
}

torch::Tensor TanhGaussianPolicyImpl::LogProb(const torch::Tensor& inputs,
                                              const torch::Tensor& actions) {
  auto [mean, log_std] = Distribution(inputs);
  constexpr double kEps = 1e-7;
  torch::Tensor u = torch::atanh(actions.clamp(-1 + kEps, 1 - kEps));
  // log N(u; mean, std) = -((u - mean)^2 / (2 var)) - log std - log sqrt(2 pi)
  torch::Tensor normal =
      -(u - mean).pow(2) * (-2 * log_std).exp() / 2 - log_std - 0.5 * std::log(2 * M_PI);
  // log |d tanh(u) / du| = 2 (log 2 - u - softplus(-2u))
  torch::Tensor jacobian = 2 * (std::log(2.0) - u - torch::softplus(-2 * u));
  return (normal - jacobian).sum(-1);
}

}  // namespace tandem::networks
