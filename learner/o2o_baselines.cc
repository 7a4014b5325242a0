#include "learner/o2o_baselines.h"

#include <ATen/ATen.h>

#include <algorithm>
#include <string>

namespace tandem::learner {

at::Tensor AwacWeights(const at::Tensor& advantage, double lambda, double max_weight) {
  return at::clamp_max(at::exp(advantage / lambda), max_weight);
}

at::Tensor AwacAdvantages(const at::Tensor& w, const at::Tensor& q_data,
                          const at::Tensor& q_policy) {
  return w * (q_data - q_policy);
}

at::Tensor AwacPolicyLoss(const at::Tensor& log_prob, const at::Tensor& weights) {
  return -(weights * log_prob).mean();
}

double LinearlyAnnealed(double start, double end, int64_t anneal_steps, int64_t step) {
  if (anneal_steps <= 0 || step >= anneal_steps) return end;
  const double progress = static_cast<double>(std::max<int64_t>(step, 0)) / anneal_steps;
  return start + (end - start) * progress;
}

at::Tensor ProtoPenalty(const at::Tensor& log_prob, const at::Tensor& log_ratio,
                        const at::Tensor& alpha, double kl_weight) {
  return (alpha * log_prob + kl_weight * log_ratio).sum(-1);
}

at::Tensor GaussianLogDensity(const at::Tensor& x, const at::Tensor& mean,
                              const at::Tensor& log_std) {
  constexpr double kHalfLogTwoPi = 0.91893853320467274178;
  const at::Tensor z = (x - mean) * at::exp(-log_std);
  return (-0.5 * z * z - log_std - kHalfLogTwoPi).sum(-1);
}

TanhGaussianSample SampleTanhGaussian(const at::Tensor& mean, const at::Tensor& log_std,
                                      const at::Tensor& noise) {
  constexpr double kLogTwo = 0.69314718055994530942;
  TanhGaussianSample sample;
  sample.pre_tanh = mean + at::exp(log_std) * noise;
  sample.action = at::tanh(sample.pre_tanh);
  // log(1 - tanh(u)^2) = 2 (log 2 - u - softplus(-2u)), stable for large |u|.
  const at::Tensor log_det =
      (2 * (kLogTwo - sample.pre_tanh - at::softplus(-2 * sample.pre_tanh))).sum(-1);
  sample.log_prob = GaussianLogDensity(sample.pre_tanh, mean, log_std) - log_det;
  return sample;
}

at::Tensor SoftTdTarget(const at::Tensor& reward, const at::Tensor& terminated, double gamma,
                        const at::Tensor& next_q_tot, const at::Tensor& next_penalty) {
  return reward + gamma * (1 - terminated) * (next_q_tot - next_penalty);
}

at::Tensor TemperatureLoss(const at::Tensor& log_alpha, const at::Tensor& log_prob,
                           double target_entropy) {
  return -(log_alpha * (log_prob.detach() + target_entropy)).mean();
}

at::Tensor SubsetMinimum(const at::Tensor& q, const at::Tensor& members) {
  return std::get<0>(q.index_select(0, members).min(0));
}

LayerNormMlpImpl::LayerNormMlpImpl(const networks::MlpOptions& options) {
  int64_t in = options.input_size;
  for (size_t i = 0; i < options.hidden_sizes.size(); ++i) {
    const int64_t out = options.hidden_sizes[i];
    linears_.push_back(register_module("linear" + std::to_string(i), torch::nn::Linear(in, out)));
    norms_.push_back(register_module("norm" + std::to_string(i),
                                     torch::nn::LayerNorm(torch::nn::LayerNormOptions({out}))));
    in = out;
  }
  linears_.push_back(register_module("linear" + std::to_string(options.hidden_sizes.size()),
                                     torch::nn::Linear(in, options.output_size)));
}

at::Tensor LayerNormMlpImpl::forward(at::Tensor x) {
  for (size_t i = 0; i < norms_.size(); ++i) {
    x = at::relu(norms_[i]->forward(linears_[i]->forward(x)));
  }
  return linears_.back()->forward(x);
}

}  // namespace tandem::learner
