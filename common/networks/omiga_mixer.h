// OMIGA's mixing network: from the global state s (the concatenation of all agents' state
// vectors) it produces non-negative per-agent weights w(s) and a bias b(s):
//   h = Linear(state, 64)            (no activation)
//   w = |Linear_w(ReLU(h))|          [..., n_agents]
//   b = Linear_b(ReLU(h))            [..., 1], unconstrained
// Q_tot = sum_i w_i Q_i + b and V_tot = sum_i w_i V_i + b. Submodules "hidden", "weights", "bias".
#ifndef TANDEM_COMMON_NETWORKS_OMIGA_MIXER_H_
#define TANDEM_COMMON_NETWORKS_OMIGA_MIXER_H_

#include <torch/nn/module.h>
#include <torch/nn/modules/linear.h>
#include <torch/nn/pimpl.h>

namespace tandem::networks {

struct OmigaMixerOptions {
  int64_t state_size = 0;
  int64_t num_agents = 0;
  int64_t hidden_size = 64;
};

class OmigaMixerImpl : public torch::nn::Module {
 public:
  explicit OmigaMixerImpl(const OmigaMixerOptions& options);
  // Weights [..., n_agents] (>= 0) and bias [..., 1] for states [..., state_size].
  std::pair<torch::Tensor, torch::Tensor> forward(const torch::Tensor& state);
  // sum_i w_i values_i + b for per-agent values [..., n_agents]; shape [...].
  static torch::Tensor Mix(const torch::Tensor& weights, const torch::Tensor& bias,
                           const torch::Tensor& values);
  const OmigaMixerOptions& options() const { return options_; }

 private:
  OmigaMixerOptions options_;
  torch::nn::Linear hidden_{nullptr};
  torch::nn::Linear weights_{nullptr};
  torch::nn::Linear bias_{nullptr};
};
TORCH_MODULE(OmigaMixer);

}  // namespace tandem::networks

#endif  // TANDEM_COMMON_NETWORKS_OMIGA_MIXER_H_
