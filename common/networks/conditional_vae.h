// A conditional VAE per agent (independent parameters, `AgentMlp`): the encoder maps
// [condition, x] to the mean and log-std of a latent z, the decoder maps [condition, z] back to x
// in [-1, 1] (tanh). BCQ's generative model of the data's actions is one (condition s, x = a_i);
// OTC's d_e embeds transitions with another (condition (s, s'), x = a_i; the embedding is the
// encoder's mean). Modules: "encoder" (output 2 * latent: mean, then log-std) and "decoder".
// Loss, as BCQ's: mean squared reconstruction error + 0.5 * KL(N(mean, std) || N(0, 1)), the
// log-std clamped to [-4, 15]; decoding without a latent draws z ~ N(0, 1) clipped to +-0.5.
#ifndef TANDEM_COMMON_NETWORKS_CONDITIONAL_VAE_H_
#define TANDEM_COMMON_NETWORKS_CONDITIONAL_VAE_H_

#include <ATen/core/Generator.h>
#include <torch/nn/module.h>
#include <torch/nn/pimpl.h>

#include <optional>
#include <vector>

#include "common/networks/agent_mlp.h"

namespace tandem::networks {

struct ConditionalVaeOptions {
  int64_t num_agents = 1;
  int64_t condition_size = 0;
  int64_t x_size = 0;
  int64_t latent_size = 0;
  std::vector<int64_t> hidden_sizes;
};

class ConditionalVaeImpl : public torch::nn::Module {
 public:
  explicit ConditionalVaeImpl(const ConditionalVaeOptions& options);
  // The latent's mean and log-std (clamped) for [N, B, C] conditions and [N, B, X] values.
  std::pair<torch::Tensor, torch::Tensor> Encode(const torch::Tensor& condition,
                                                 const torch::Tensor& x);
  // x for [N, B, C] conditions and [N, B, latent] latents, or drawn latents when none is given.
  torch::Tensor Decode(const torch::Tensor& condition, std::optional<torch::Tensor> z = {},
                       std::optional<at::Generator> generator = {});
  // The training loss (a scalar) and, for statistics, the reconstruction part.
  std::pair<torch::Tensor, torch::Tensor> Loss(const torch::Tensor& condition,
                                               const torch::Tensor& x);
  const ConditionalVaeOptions& options() const { return options_; }

 private:
  ConditionalVaeOptions options_;
  AgentMlp encoder_{nullptr}, decoder_{nullptr};
};
TORCH_MODULE(ConditionalVae);

}  // namespace tandem::networks

#endif  // TANDEM_COMMON_NETWORKS_CONDITIONAL_VAE_H_
