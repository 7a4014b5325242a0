// Parameter helpers the algorithms share: collect, copy and freeze module parameters; the entropy
// temperature module of the SAC-style updates.
#ifndef TANDEM_LEARNER_MODULE_UTIL_H_
#define TANDEM_LEARNER_MODULE_UTIL_H_

#include <torch/nn/module.h>
#include <torch/nn/pimpl.h>

#include <initializer_list>
#include <vector>

namespace tandem::learner {

// Every parameter of `modules`, in order.
inline std::vector<at::Tensor> ParametersOf(std::initializer_list<torch::nn::Module*> modules) {
  std::vector<at::Tensor> parameters;
  for (torch::nn::Module* module : modules) {
    for (const at::Tensor& p : module->parameters()) parameters.push_back(p);
  }
  return parameters;
}

// Copies every parameter of `from` into `to` (same architecture).
inline void CopyParameters(torch::nn::Module& from, torch::nn::Module& to) {
  at::NoGradGuard no_grad;
  std::vector<at::Tensor> source = from.parameters(), target = to.parameters();
  for (size_t i = 0; i < source.size(); ++i) target[i].copy_(source[i]);
}

// Excludes `module` from autograd (targets, frozen copies).
inline void Freeze(torch::nn::Module& module) {
  for (at::Tensor& p : module.parameters()) p.set_requires_grad(false);
}

// An entropy temperature as a module, so checkpoints carry it: parameter "log_alpha".
class TemperatureImpl : public torch::nn::Module {
 public:
  // log alpha = 0 of `shape` ({N, 1, 1}: one temperature per agent of a decentralized learner).
  explicit TemperatureImpl(std::vector<int64_t> shape = {1}) {
    log_alpha = register_parameter("log_alpha", torch::zeros(shape));
  }
  at::Tensor log_alpha;
};
TORCH_MODULE(Temperature);

}  // namespace tandem::learner

#endif  // TANDEM_LEARNER_MODULE_UTIL_H_
