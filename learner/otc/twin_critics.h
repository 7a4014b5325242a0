// The twin critics Q_1, Q_2(x, a_i) that OTC's BCQ, TD3+BC, AWAC and CQL agents share: per-agent
// networks ([N, M, X + A] -> [N, M, 1], `networks::BcqCriticOptions`), their Polyak targets and one
// Adam over both. Checkpoint names: q1, q2, q1_target, q2_target and the optimizer "critic".
#ifndef TANDEM_LEARNER_OTC_TWIN_CRITICS_H_
#define TANDEM_LEARNER_OTC_TWIN_CRITICS_H_

#include <ATen/core/Tensor.h>

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "common/networks/agent_mlp.h"
#include "common/networks/decentralized_networks.h"
#include "learner/algorithm.h"
#include "learner/fused_adam.h"

namespace tandem::learner::otc {

class TwinCritics {
 public:
  TwinCritics() = default;
  // Fresh critics for `shapes` on `device`, targets equal to them, Adam at `learning_rate`.
  TwinCritics(const networks::BcqShapes& shapes, c10::Device device, double learning_rate);

  // Q_j(x, a) of online critic j (0 or 1), with gradients as the caller's mode allows.
  at::Tensor Q(int j, const at::Tensor& input, const at::Tensor& actions);
  // Q'_j(x, a) of target j (no gradient).
  at::Tensor TargetQ(int j, const at::Tensor& input, const at::Tensor& actions);
  // min_j Q_j(x, a) of the online critics (gradients flow to the inputs as the caller's mode
  // allows), and min_j Q'_j(x, a) of the targets (no gradient).
  at::Tensor Min(const at::Tensor& input, const at::Tensor& actions);
  at::Tensor MinTarget(const at::Tensor& input, const at::Tensor& actions);
  // One Adam step of both critics on `loss`.
  void Step(const AlgorithmContext& context, const at::Tensor& loss);
  // Q' <- tau Q + (1 - tau) Q'.
  void UpdateTargets(double tau);

  networks::AgentMlpImpl& online(int j) { return *q_[j]; }
  std::vector<std::pair<std::string, torch::nn::Module*>> Modules();
  FusedAdam* optimizer() { return optimizer_.get(); }

 private:
  networks::AgentMlp q_[2] = {networks::AgentMlp(nullptr), networks::AgentMlp(nullptr)};
  networks::AgentMlp target_[2] = {networks::AgentMlp(nullptr), networks::AgentMlp(nullptr)};
  std::unique_ptr<FusedAdam> optimizer_;
  std::vector<at::Tensor> target_parameters_, online_parameters_;
};

}  // namespace tandem::learner::otc

#endif  // TANDEM_LEARNER_OTC_TWIN_CRITICS_H_
