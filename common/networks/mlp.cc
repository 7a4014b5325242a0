#include "common/networks/mlp.h"

#include <torch/nn/functional/activation.h>

#include <string>

namespace tandem::networks {

MlpImpl::MlpImpl(const MlpOptions& options) : options_(options) {
  int64_t in = options.input_size;
  std::vector<int64_t> sizes = options.hidden_sizes;
  sizes.push_back(options.output_size);
  for (size_t i = 0; i < sizes.size(); ++i) {
    layers_.push_back(
        register_module("layer" + std::to_string(i), torch::nn::Linear(in, sizes[i])));
    in = sizes[i];
  }
}

torch::Tensor MlpImpl::forward(torch::Tensor x) {
  for (size_t i = 0; i < layers_.size(); ++i) {
    x = layers_[i]->forward(x);
    if (i + 1 < layers_.size() || options_.activate_output) x = torch::relu(x);
  }
  return x;
}

}  // namespace tandem::networks
