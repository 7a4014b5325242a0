#include "common/networks/gru_agent.h"

#include <ATen/ATen.h>

#include <algorithm>

#include "common/networks/gru_sequence.h"

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

EpisodePacking EpisodePacking::FromEntries(const at::Tensor& entries, int64_t steps,
                                           int64_t agents) {
  const at::Tensor counts = entries.to(at::kCPU, at::kLong).contiguous();
  const int64_t b = counts.size(0);
  const int64_t* count = counts.data_ptr<int64_t>();
  std::vector<int64_t> order(b);
  for (int64_t e = 0; e < b; ++e) order[e] = e;
  std::stable_sort(order.begin(), order.end(),
                   [count](int64_t x, int64_t y) { return count[x] > count[y]; });
  EpisodePacking packing;
  packing.padded_rows = steps * b * agents;
  std::vector<int64_t> index;
  for (int64_t t = 0; t < steps; ++t) {
    int64_t alive = 0;
    while (alive < b && count[order[alive]] > t) ++alive;
    packing.rows_per_step.push_back(alive * agents);
    for (int64_t i = 0; i < alive; ++i) {
      for (int64_t a = 0; a < agents; ++a) index.push_back((t * b + order[i]) * agents + a);
    }
  }
  packing.index = at::tensor(index, at::kLong);
  return packing;
}

torch::Tensor GruAgentImpl::UnrollEpisodes(const torch::Tensor& obs, const torch::Tensor& actions,
                                           const EpisodePacking* packing) {
  const int64_t steps = obs.size(0), b = obs.size(1), n = obs.size(2);
  const int64_t o = options_.obs_size, k = options_.num_actions, h = options_.hidden_size;
  if (packing != nullptr && obs.is_cpu() && obs.scalar_type() == at::kFloat) {
    return UnrollPacked(obs, actions, *packing);
  }
  // Computed time-major so that the recurrence reads it without another copy.
  const at::Tensor x =
      FirstLayer(obs.reshape({-1, o}), LastActions(actions).reshape({-1})).view({steps, b * n, h});
  const at::Tensor initial = at::zeros({b * n, h}, x.options());
  at::Tensor hidden;
  if (x.is_cpu() && x.scalar_type() == at::kFloat) {
    hidden =
        GruSequence(x, initial, rnn_->weight_ih, rnn_->weight_hh, rnn_->bias_ih, rnn_->bias_hh);
  } else {
    std::vector<at::Tensor> states;
    states.reserve(steps);
    at::Tensor state = initial;
    for (int64_t t = 0; t < steps; ++t) {
      state = rnn_->forward(x[t], state);
      states.push_back(state);
    }
    hidden = at::stack(states);
  }
  return fc2_->forward(hidden).view({steps, b, n, k});
}

at::Tensor GruAgentImpl::LastActions(const at::Tensor& actions) const {
  const int64_t steps = actions.size(0);
  return at::cat(
      {at::full({1, actions.size(1), actions.size(2)}, options_.num_actions, actions.options()),
       actions.narrow(0, 0, steps - 1)},
      0);
}

at::Tensor GruAgentImpl::FirstLayer(const at::Tensor& obs_rows, const at::Tensor& last_rows) {
  const int64_t o = options_.obs_size, k = options_.num_actions, n = options_.num_agents;
  const int64_t h = options_.hidden_size, rows = obs_rows.size(0);
  const at::Tensor& weight = fc1_->weight;  // [H, O + K + N]
  // Rows for the last action, plus a zero row (index K) for "no action yet".
  const at::Tensor w_action =
      at::cat({weight.narrow(1, o, k).t(), at::zeros({1, h}, weight.options())}, 0);  // [K+1, H]
  const at::Tensor w_id = weight.narrow(1, o + k, n).t();                             // [N, H]
  const at::Tensor x =
      at::mm(obs_rows, weight.narrow(1, 0, o).t()) + w_action.index_select(0, last_rows);
  return at::relu(x.view({rows / n, n, h}) + (w_id + fc1_->bias)).view({rows, h});
}

torch::Tensor GruAgentImpl::UnrollPacked(const torch::Tensor& obs, const torch::Tensor& actions,
                                         const EpisodePacking& packing) {
  const int64_t steps = obs.size(0), b = obs.size(1), n = obs.size(2);
  const int64_t o = options_.obs_size, k = options_.num_actions, h = options_.hidden_size;
  const at::Tensor& index = packing.index;
  // Packed rows come N at a time, agents 0..N-1 of one episode at one entry.
  const at::Tensor x = FirstLayer(obs.reshape({-1, o}).index_select(0, index),
                                  LastActions(actions).reshape({-1}).index_select(0, index));
  const at::Tensor initial =
      at::zeros({packing.rows_per_step.empty() ? 0 : packing.rows_per_step[0], h}, x.options());
  const at::Tensor hidden = GruPackedSequence(x, initial, rnn_->weight_ih, rnn_->weight_hh,
                                              rnn_->bias_ih, rnn_->bias_hh, packing.rows_per_step);
  const at::Tensor q = fc2_->forward(hidden);
  return at::zeros({packing.padded_rows, k}, q.options())
      .index_copy(0, index, q)
      .view({steps, b, n, k});
}

}  // namespace tandem::networks
