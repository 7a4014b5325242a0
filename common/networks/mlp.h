// A multi-layer perceptron: Linear layers with ReLU between them (none after the last).
// Submodules are named "layer0", "layer1", ... (stable checkpoint keys). Inputs may have any
// leading dimensions ([B, N, in] evaluates every agent of a batch in one matmul).
#ifndef TANDEM_COMMON_NETWORKS_MLP_H_
#define TANDEM_COMMON_NETWORKS_MLP_H_

#include <torch/nn/module.h>
#include <torch/nn/modules/container/modulelist.h>
#include <torch/nn/modules/linear.h>
#include <torch/nn/pimpl.h>

#include <vector>

namespace tandem::networks {

struct MlpOptions {
  int64_t input_size = 0;
  // Widths of the hidden layers, e.g. {256, 256}.
  std::vector<int64_t> hidden_sizes;
  int64_t output_size = 0;
  // ReLU after the last layer too (for trunks feeding several heads).
  bool activate_output = false;
};

class MlpImpl : public torch::nn::Module {
 public:
  explicit MlpImpl(const MlpOptions& options);
  torch::Tensor forward(torch::Tensor x);
  const MlpOptions& options() const { return options_; }

 private:
  MlpOptions options_;
  std::vector<torch::nn::Linear> layers_;
};
TORCH_MODULE(Mlp);

}  // namespace tandem::networks

#endif  // TANDEM_COMMON_NETWORKS_MLP_H_
