// Decentralized TD3+BC (Fujimoto & Gu, NeurIPS 2021), one independent learner per agent as OTC
// builds on it for MPE (Jiang & Lu 2023, Figures 7-8, Table 3): agent i trains on (x_i, a_i, r,
// x'_i) only, every network an `AgentMlp`.
//
// Networks per agent, actions in [-1, 1]: actor pi(x) = tanh(.), twin critics Q(x, a_i), and their
// Polyak targets. Per update:
//   critic  y = r + gamma (1 - done) min_j Q'_j(x', clip(pi'(x') + clip(eps, -c, c), -1, 1)),
//           eps ~ N(0, sigma^2)
//   actor   every `td3_policy_delay` updates: -lambda_i Q1(x, pi(x)) + (pi(x) - a_i)^2, with
//           lambda_i = alpha / mean |Q1(x, pi(x))| over agent i's rows (per agent, so agents stay
//           independent), then the targets move by tau.
// OTC's correction (corrector.h) chooses the rows each agent trains on once deployment data flows.
#ifndef TANDEM_LEARNER_OTC_TD3_BC_H_
#define TANDEM_LEARNER_OTC_TD3_BC_H_

#include <memory>
#include <string>
#include <vector>

#include "common/networks/agent_mlp.h"
#include "learner/algorithm.h"
#include "learner/fused_adam.h"
#include "learner/otc/decentralized_algorithm.h"
#include "learner/otc/twin_critics.h"

namespace tandem::learner::otc {

class DecentralizedTd3Bc : public DecentralizedAlgorithm {
 public:
  static absl::StatusOr<std::unique_ptr<DecentralizedTd3Bc>> Create(
      const AlgorithmContext& context);

  std::string name() const override { return "dec_td3_bc"; }
  std::vector<std::pair<std::string, torch::nn::Module*>> PublishedModules() override;
  UpdateStats UpdateOn(const AgentBatch& batch) override;
  // The critic's regression target for `batch` (no gradient): [N, B, 1].
  at::Tensor Target(const AgentBatch& batch);
  // The actor's loss on `batch` (for tests): [], with lambda per agent.
  at::Tensor ActorLoss(const AgentBatch& batch);
  // pi(x), or the target actor's: [N, M, A].
  at::Tensor Policy(const at::Tensor& input, bool target);
  at::Tensor QValue(const at::Tensor& input, const at::Tensor& actions) override;
  at::Tensor StateValue(const at::Tensor& input) override;

 protected:
  std::vector<std::pair<std::string, torch::nn::Module*>> AgentModules() override;
  std::vector<std::pair<std::string, FusedAdam*>> AgentOptimizers() override;

 private:
  explicit DecentralizedTd3Bc(const AlgorithmContext& context) : DecentralizedAlgorithm(context) {}

  networks::AgentMlp actor_{nullptr}, actor_target_{nullptr};
  TwinCritics critics_;
  std::unique_ptr<FusedAdam> actor_optimizer_;
  std::vector<at::Tensor> actor_target_parameters_, actor_parameters_;
};

}  // namespace tandem::learner::otc

#endif  // TANDEM_LEARNER_OTC_TD3_BC_H_
