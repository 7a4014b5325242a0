// Decentralized CQL (Kumar et al. 2020), SAC-based CQL(H) with one independent learner per agent
// as OTC builds on it (Jiang & Lu 2023, Figure 6, Table 3): agent i trains on (x_i, a_i, r, x'_i)
// only, every network an `AgentMlp`.
//
// Networks per agent, actions in [-1, 1]: a tanh-squashed Gaussian actor
// (networks::SquashedGaussianSample), twin critics Q(x, a_i) with Polyak targets, and a temperature
// alpha_i tuned to the entropy target -|a_i|. Per update:
//   critic  y = r + gamma (1 - done) min_j Q'_j(x', a'), a' ~ pi(. | x') (no entropy in the
//           backup, CQL's default), loss sum_j (Q_j(x, a_i) - y)^2
//           + cql_alpha sum_j mean( logsumexp_k [Q_j(x, a_k) - log mu(a_k)] - Q_j(x, a_i) ),
//           the a_k being `cql_sampled_actions` each of uniform actions (mu = 2^-|a|), pi(. | x)
//           and pi(. | x'), with their densities (CQL(H)'s importance-sampled log-sum-exp)
//   actor   mean( alpha_i log pi(a~ | x) - min_j Q_j(x, a~) ), a~ ~ pi(. | x)
//   alpha   -mean( log alpha_i (log pi(a~ | x) - |a_i|) )
#ifndef TANDEM_LEARNER_OTC_CQL_H_
#define TANDEM_LEARNER_OTC_CQL_H_

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "common/networks/agent_mlp.h"
#include "learner/algorithm.h"
#include "learner/fused_adam.h"
#include "learner/module_util.h"
#include "learner/otc/decentralized_algorithm.h"
#include "learner/otc/twin_critics.h"

namespace tandem::learner::otc {

class DecentralizedCql : public DecentralizedAlgorithm {
 public:
  static absl::StatusOr<std::unique_ptr<DecentralizedCql>> Create(const AlgorithmContext& context);

  std::string name() const override { return "dec_cql"; }
  std::vector<std::pair<std::string, torch::nn::Module*>> PublishedModules() override;
  UpdateStats UpdateOn(const AgentBatch& batch) override;
  // The critic's regression target for `batch` (no gradient): [N, B, 1].
  at::Tensor Target(const AgentBatch& batch);
  // CQL(H)'s term per critic, [N, B, 1] each: logsumexp over the sampled actions minus Q(x, a_i).
  // The sampled actions and their log densities are drawn here unless given (tests).
  struct Sampled {
    at::Tensor actions;  // [N, B * 3K, A]: K uniform, K from pi(.|x), K from pi(.|x')
    at::Tensor log_mu;   // [N, B * 3K, 1]
  };
  Sampled SampleActions(const AgentBatch& batch);
  std::vector<at::Tensor> ConservativeTerms(const AgentBatch& batch, const Sampled& sampled);
  at::Tensor Temperatures() const { return temperature_->log_alpha.exp().detach(); }
  at::Tensor QValue(const at::Tensor& input, const at::Tensor& actions) override;
  at::Tensor StateValue(const at::Tensor& input) override;

 protected:
  std::vector<std::pair<std::string, torch::nn::Module*>> AgentModules() override;
  std::vector<std::pair<std::string, FusedAdam*>> AgentOptimizers() override;

 private:
  explicit DecentralizedCql(const AlgorithmContext& context) : DecentralizedAlgorithm(context) {}

  networks::AgentMlp actor_{nullptr};
  TwinCritics critics_;
  Temperature temperature_{nullptr};
  std::unique_ptr<FusedAdam> actor_optimizer_, temperature_optimizer_;
};

}  // namespace tandem::learner::otc

#endif  // TANDEM_LEARNER_OTC_CQL_H_
