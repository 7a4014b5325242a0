#include "common/networks/gru_agent.h"

#include <ATen/ATen.h>

namespace tandem::networks {

GruAgentImpl::GruAgentImpl(const GruAgentOptions& options) : options_(options) {
  const int64_t h = options.hidden_size;
  fc1_ = register_module("fc1", torch::nn::Linear(options.input_size(), h));
  rnn_ = register_module("rnn", torch::nn::GRUCell(h, h));
  fc2_ = register_module("fc2", torch::nn::Linear(h, options.num_actions));
}

std::pair<torch::Tensor, torch::Tensor> GruAgentImpl::forward(const torch::Tensor& inputs,
                                                              const torch::Tensor& hidden) {
  const int64_t h = options_.hidden_size;
  // GRUCell takes [rows, features]: flatten every leading dimension into rows.
  const at::Tensor x = at::relu(fc1_->forward(inputs.reshape({-1, inputs.size(-1)})));
  const at::Tensor next = rnn_->forward(x, hidden.reshape({-1, h}));
  const at::Tensor q = fc2_->forward(next);
  std::vector<int64_t> q_shape(inputs.sizes().begin(), inputs.sizes().end());
  q_shape.back() = options_.num_actions;
  return {q.reshape(q_shape), next.reshape(hidden.sizes())};
}

torch::Tensor GruAgentImpl::Unroll(const torch::Tensor& inputs, const torch::Tensor& initial) {
  const int64_t steps = inputs.size(0), rows = inputs.size(1);
  const at::Tensor x = at::relu(fc1_->forward(inputs));  // [T, R, H]
  std::vector<at::Tensor> hidden;
  hidden.reserve(steps);
  at::Tensor h = initial;
  for (int64_t t = 0; t < steps; ++t) {
    h = rnn_->forward(x[t], h);
    hidden.push_back(h);
  }
  return fc2_->forward(at::stack(hidden)).reshape({steps, rows, options_.num_actions});
}

}  // namespace tandem::networks
