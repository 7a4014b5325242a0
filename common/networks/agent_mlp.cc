#include "common/networks/agent_mlp.h"

#include <ATen/ATen.h>

#include <cmath>
#include <string>

namespace tandem::networks {

AgentMlpImpl::AgentMlpImpl(const AgentMlpOptions& options) : options_(options) {
  int64_t in = options.input_size;
  std::vector<int64_t> sizes = options.hidden_sizes;
  sizes.push_back(options.output_size);
  at::NoGradGuard no_grad;
  for (size_t k = 0; k < sizes.size(); ++k) {
    const double bound = 1.0 / std::sqrt(static_cast<double>(in));
    weights_.push_back(
        register_parameter("weight" + std::to_string(k),
                           at::empty({options.num_agents, in, sizes[k]}).uniform_(-bound, bound)));
    biases_.push_back(
        register_parameter("bias" + std::to_string(k),
                           at::empty({options.num_agents, 1, sizes[k]}).uniform_(-bound, bound)));
    in = sizes[k];
  }
}

torch::Tensor AgentMlpImpl::forward(torch::Tensor x) {
  for (size_t k = 0; k < weights_.size(); ++k) {
    x = at::baddbmm(biases_[k], x, weights_[k]);
    if (k + 1 < weights_.size()) x = at::relu(x);
  }
  return x;
}

torch::Tensor DecentralizedInputs(const torch::Tensor& obs, const torch::Tensor& state,
                                  bool state_input) {
  if (!state_input) return obs.transpose(0, 1).contiguous();
  return state.unsqueeze(0).expand({obs.size(1), state.size(0), state.size(1)}).contiguous();
}

}  // namespace tandem::networks
