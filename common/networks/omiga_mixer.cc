#include "common/networks/omiga_mixer.h"

#include <ATen/ATen.h>

namespace tandem::networks {

OmigaMixerImpl::OmigaMixerImpl(const OmigaMixerOptions& options) : options_(options) {
  hidden_ = register_module("hidden", torch::nn::Linear(options.state_size, options.hidden_size));
  weights_ = register_module("weights", torch::nn::Linear(options.hidden_size, options.num_agents));
  bias_ = register_module("bias", torch::nn::Linear(options.hidden_size, 1));
}

std::pair<torch::Tensor, torch::Tensor> OmigaMixerImpl::forward(const torch::Tensor& state) {
  torch::Tensor h = torch::relu(hidden_->forward(state));
  return {torch::abs(weights_->forward(h)), bias_->forward(h)};
}

torch::Tensor OmigaMixerImpl::Mix(const torch::Tensor& weights, const torch::Tensor& bias,
                                  const torch::Tensor& values) {
  return (weights * values).sum(-1) + bias.squeeze(-1);
}

}  // namespace tandem::networks
