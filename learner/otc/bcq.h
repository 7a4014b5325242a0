// Decentralized BCQ (Fujimoto, Meger & Precup, ICML 2019), one independent learner per agent as
// OTC builds on it (Jiang & Lu 2023, Table 3): agent i trains on (x_i, a_i, r, x'_i) only, where x
// is the global state or its observation (`algorithm.otc.agent_input`); every network is an
// `AgentMlp`, so no agent's update reads another agent's actions or parameters.
//
// Networks per agent, all over actions in [-1, 1]:
//   vae       G(a_i | x): the data's actions (conditional VAE, latent 2 |a_i|)
//   actor     xi(x, a): a + Phi tanh(xi) clipped to [-1, 1] (the perturbation)
//   q1, q2    Q(x, a_i), twin critics; actor_target, q1_target, q2_target (Polyak tau)
// Per update (BCQ's order):
//   vae      reconstruction + 0.5 KL on the batch
//   critic   y = r + gamma (1 - done) max_{k<n} [lambda min_j Q'_j(x', a'_k) + (1 - lambda)
//            max_j Q'_j(x', a'_k)], a'_k = perturb'(x', G(x')) for n decoded actions
//   actor    -Q1(x, perturb(x, G(x)))
// Action selection: n decoded and perturbed candidates, the one with the highest Q1.
// OTC's correction (corrector.h) chooses the rows each agent trains on once deployment data flows.
#ifndef TANDEM_LEARNER_OTC_BCQ_H_
#define TANDEM_LEARNER_OTC_BCQ_H_

#include <memory>
#include <string>
#include <vector>

#include "common/networks/agent_mlp.h"
#include "common/networks/conditional_vae.h"
#include "learner/algorithm.h"
#include "learner/fused_adam.h"
#include "learner/otc/decentralized_algorithm.h"
#include "learner/otc/twin_critics.h"

namespace tandem::learner::otc {

class DecentralizedBcq : public DecentralizedAlgorithm {
 public:
  static absl::StatusOr<std::unique_ptr<DecentralizedBcq>> Create(const AlgorithmContext& context);

  std::string name() const override { return "dec_bcq"; }
  std::vector<std::pair<std::string, torch::nn::Module*>> PublishedModules() override;
  UpdateStats UpdateOn(const AgentBatch& batch) override;
  // The critic's regression target y for `batch` (no gradient): [N, B, 1].
  at::Tensor Target(const AgentBatch& batch);
  // The perturbed action for [N, M, X] inputs and [N, M, A] candidate actions.
  at::Tensor Perturb(const at::Tensor& input, const at::Tensor& actions, bool target);
  // The greedy action among `candidates` decoded actions per row (no gradient): [N, M, A].
  at::Tensor Act(const at::Tensor& input, int64_t candidates);
  at::Tensor QValue(const at::Tensor& input, const at::Tensor& actions) override;
  at::Tensor StateValue(const at::Tensor& input) override;

 protected:
  std::vector<std::pair<std::string, torch::nn::Module*>> AgentModules() override;
  std::vector<std::pair<std::string, FusedAdam*>> AgentOptimizers() override;

 private:
  explicit DecentralizedBcq(const AlgorithmContext& context) : DecentralizedAlgorithm(context) {}

  networks::ConditionalVae vae_{nullptr};
  networks::AgentMlp actor_{nullptr}, actor_target_{nullptr};
  TwinCritics critics_;
  std::unique_ptr<FusedAdam> vae_optimizer_, actor_optimizer_;
  std::vector<at::Tensor> actor_target_parameters_, actor_parameters_;
};

}  // namespace tandem::learner::otc

#endif  // TANDEM_LEARNER_OTC_BCQ_H_
