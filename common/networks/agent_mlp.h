// Per-agent MLPs with independent parameters, evaluated for every agent at once: layer k holds a
// weight [N, in, out] and a bias [N, 1, out], and an input [N, B, in] goes through one batched
// matrix product per layer (ReLU between layers, none after the last). Fully decentralized
// learners (OTC's agents) use it: agent i's outputs and gradients depend on agent i's rows and
// parameters only. Parameters are named "weight<k>" / "bias<k>" (checkpoint keys) and
// initialised like torch.nn.Linear (uniform in +-1/sqrt(in)).
#ifndef TANDEM_COMMON_NETWORKS_AGENT_MLP_H_
#define TANDEM_COMMON_NETWORKS_AGENT_MLP_H_

#include <torch/nn/module.h>
#include <torch/nn/pimpl.h>

#include <vector>

namespace tandem::networks {

struct AgentMlpOptions {
  int64_t num_agents = 1;
  int64_t input_size = 0;
  // Widths of the hidden layers, e.g. {64, 64}.
  std::vector<int64_t> hidden_sizes;
  int64_t output_size = 0;
};

class AgentMlpImpl : public torch::nn::Module {
 public:
  explicit AgentMlpImpl(const AgentMlpOptions& options);
  // [N, B, in] -> [N, B, out].
  torch::Tensor forward(torch::Tensor x);
  const AgentMlpOptions& options() const { return options_; }

 private:
  AgentMlpOptions options_;
  std::vector<torch::Tensor> weights_, biases_;
};
TORCH_MODULE(AgentMlp);

// Every agent's input, agent-major, from [B, N, O] observations and [B, S] states: the state for
// each agent ([N, B, S]) or each agent's own observation ([N, B, O]).
torch::Tensor DecentralizedInputs(const torch::Tensor& obs, const torch::Tensor& state,
                                  bool state_input);

}  // namespace tandem::networks

#endif  // TANDEM_COMMON_NETWORKS_AGENT_MLP_H_
