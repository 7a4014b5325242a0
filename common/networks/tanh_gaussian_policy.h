// OMIGA's policy: a shared network over agents (input: observation + one-hot agent id) producing a
// diagonal Gaussian whose samples are squashed by tanh.
//   trunk: Linear(in, 256) ReLU Linear(256, 256) ReLU; heads: mean and log-std (act_dim each).
//   log-std is clamped to [-5, 2] and the mean to [-9, 9].
// Submodules: "trunk", "mean", "log_std".
#ifndef TANDEM_COMMON_NETWORKS_TANH_GAUSSIAN_POLICY_H_
#define TANDEM_COMMON_NETWORKS_TANH_GAUSSIAN_POLICY_H_

#include <torch/nn/module.h>
#include <torch/nn/modules/linear.h>
#include <torch/nn/pimpl.h>

#include "common/networks/mlp.h"

namespace tandem::networks {

struct TanhGaussianPolicyOptions {
  // Observation size per agent plus the number of agents (the one-hot id).
  int64_t input_size = 0;
  int64_t action_size = 0;
  int64_t hidden_size = 256;
  double log_std_min = -5.0;
  double log_std_max = 2.0;
  double mean_clamp = 9.0;
};

class TanhGaussianPolicyImpl : public torch::nn::Module {
 public:
  explicit TanhGaussianPolicyImpl(const TanhGaussianPolicyOptions& options);

  // Mean (clamped) and log-std (clamped) of the pre-tanh Gaussian, shapes [..., act].
  std::pair<torch::Tensor, torch::Tensor> Distribution(const torch::Tensor& inputs);
  // tanh(mean): the evaluation action.
  torch::Tensor Deterministic(const torch::Tensor& inputs);
  // tanh(mean + std * noise), noise ~ N(0, 1) from `generator` (reparameterised).
  torch::Tensor Sample(const torch::Tensor& inputs, c10::optional<at::Generator> generator = {});
  // A reparameterised sample and its log-density (summed over action dimensions), computed from
  // the pre-tanh value, so it stays exact where tanh saturates (LogProb of a saturated action must
  // go through atanh of a clipped value and is then wrong). For SAC-style losses.
  std::pair<torch::Tensor, torch::Tensor> SampleWithLogProb(
      const torch::Tensor& inputs, c10::optional<at::Generator> generator = {});
  // Log-density of `actions` (in [-1, 1]) under the tanh-squashed Gaussian, summed over action
  // dimensions: shape [...]. Actions are clipped to +-(1 - 1e-7) before atanh.
  torch::Tensor LogProb(const torch::Tensor& inputs, const torch::Tensor& actions);

  const TanhGaussianPolicyOptions& options() const { return options_; }

 private:
  TanhGaussianPolicyOptions options_;
  Mlp trunk_{nullptr};
  torch::nn::Linear mean_{nullptr};
  torch::nn::Linear log_std_{nullptr};
};
TORCH_MODULE(TanhGaussianPolicy);

}  // namespace tandem::networks

#endif  // TANDEM_COMMON_NETWORKS_TANH_GAUSSIAN_POLICY_H_
