#include "common/networks/qmix_mixer.h"

#include <ATen/ATen.h>
#include <torch/nn/modules/activation.h>

#include "common/networks/mixer_kernels.h"

namespace tandem::networks {

QmixMixerImpl::QmixMixerImpl(const QmixMixerOptions& options) : options_(options) {
  const int64_t s = options.state_size, h = options.hypernet_hidden_size;
  const int64_t e = options.embed_size, n = options.num_agents;
  hyper_w1_ =
      register_module("hyper_w1", torch::nn::Sequential(torch::nn::Linear(s, h), torch::nn::ReLU(),
                                                        torch::nn::Linear(h, n * e)));
  hyper_b1_ = register_module("hyper_b1", torch::nn::Linear(s, e));
  hyper_w2_ = register_module(
      "hyper_w2",
      torch::nn::Sequential(torch::nn::Linear(s, h), torch::nn::ReLU(), torch::nn::Linear(h, e)));
  hyper_b2_ = register_module(
      "hyper_b2",
      torch::nn::Sequential(torch::nn::Linear(s, e), torch::nn::ReLU(), torch::nn::Linear(e, 1)));
}

torch::Tensor QmixMixerImpl::forward(const torch::Tensor& q, const torch::Tensor& state) {
  std::vector<int64_t> out_shape(q.sizes().begin(), q.sizes().end() - 1);
  return MixMany(q.reshape({-1, 1, options_.num_agents}), state.reshape({-1, options_.state_size}))
      .reshape(out_shape);
}

torch::Tensor QmixMixerImpl::MixMany(const torch::Tensor& q, const torch::Tensor& state) {
  const int64_t n = options_.num_agents, e = options_.embed_size;
  const at::Tensor w1 = hyper_w1_->forward(state).abs().view({-1, n, e});  // [R, N, E]
  const at::Tensor b1 = hyper_b1_->forward(state);                         // [R, E]
  const at::Tensor w2 = hyper_w2_->forward(state).abs();                   // [R, E]
  const at::Tensor b2 = hyper_b2_->forward(state).view({-1});              // [R]
  return MixJointActions(q, w1, b1, w2, b2);                               // [R, M]
}

torch::Tensor QmixMixerImpl::MixDeviations(const torch::Tensor& agent_q,
                                           const torch::Tensor& chosen,
                                           const torch::Tensor& state) {
  const int64_t n = options_.num_agents, e = options_.embed_size;
  const at::Tensor w1 = hyper_w1_->forward(state).abs().view({-1, n, e});       // [R, N, E]
  const at::Tensor b1 = hyper_b1_->forward(state).view({-1, 1, e});             // [R, 1, E]
  const at::Tensor base = at::baddbmm(b1, chosen.unsqueeze(1), w1).squeeze(1);  // [R, E]
  const at::Tensor w2 = hyper_w2_->forward(state).abs();                        // [R, E]
  const at::Tensor b2 = hyper_b2_->forward(state).view({-1});                   // [R]
  return networks::MixDeviations(agent_q, chosen, base, w1, w2, b2);
}

}  // namespace tandem::networks
