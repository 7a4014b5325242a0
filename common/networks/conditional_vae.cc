#include "common/networks/conditional_vae.h"

#include <ATen/ATen.h>

namespace tandem::networks {

ConditionalVaeImpl::ConditionalVaeImpl(const ConditionalVaeOptions& options) : options_(options) {
  encoder_ = register_module(
      "encoder",
      AgentMlp(AgentMlpOptions{options.num_agents, options.condition_size + options.x_size,
                               options.hidden_sizes, 2 * options.latent_size}));
  decoder_ = register_module(
      "decoder",
      AgentMlp(AgentMlpOptions{options.num_agents, options.condition_size + options.latent_size,
                               options.hidden_sizes, options.x_size}));
}

std::pair<torch::Tensor, torch::Tensor> ConditionalVaeImpl::Encode(const torch::Tensor& condition,
                                                                   const torch::Tensor& x) {
  const at::Tensor out = encoder_->forward(at::cat({condition, x}, -1));
  const int64_t latent = options_.latent_size;
  return {out.slice(-1, 0, latent), out.slice(-1, latent, 2 * latent).clamp(-4, 15)};
}

torch::Tensor ConditionalVaeImpl::Decode(const torch::Tensor& condition,
                                         std::optional<torch::Tensor> z,
                                         std::optional<at::Generator> generator) {
  if (!z) {
    const c10::optional<at::Generator> gen =
        generator ? c10::optional<at::Generator>(*generator) : c10::nullopt;
    z = at::normal(0.0, 1.0, {condition.size(0), condition.size(1), options_.latent_size}, gen,
                   condition.options())
            .clamp(-0.5, 0.5);
  }
  return at::tanh(decoder_->forward(at::cat({condition, *z}, -1)));
}

std::pair<torch::Tensor, torch::Tensor> ConditionalVaeImpl::Loss(const torch::Tensor& condition,
                                                                 const torch::Tensor& x) {
  auto [mean, log_std] = Encode(condition, x);
  const at::Tensor std = log_std.exp();
  const at::Tensor z = mean + std * at::randn_like(std);
  const at::Tensor reconstruction = (Decode(condition, z) - x).pow(2).mean();
  const at::Tensor kl = -0.5 * (1 + 2 * log_std - mean.pow(2) - std.pow(2)).mean();
  return {reconstruction + 0.5 * kl, reconstruction};
}

}  // namespace tandem::networks
