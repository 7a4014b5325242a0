// Decentralized AWAC (Nair et al. 2020), one independent learner per agent as OTC builds on it
// (Jiang & Lu 2023, Table 1, Table 3): agent i trains on (x_i, a_i, r, x'_i) only, every network an
// `AgentMlp`.
//
// Networks per agent, actions in [-1, 1]: a Gaussian actor pi(a | x) = N(tanh(mean), std^2)
// (networks::AwacLogProb), twin critics Q(x, a_i) and their Polyak targets. Per update:
//   critic  y = r + gamma (1 - done) min_j Q'_j(x', a'), a' ~ pi(. | x')
//   actor   -mean( w log pi(a_i | x) ), w = min(exp(A / lambda), max_weight),
//           A = min_j Q_j(x, a_i) - min_j Q_j(x, a~), a~ ~ pi(. | x)
// then the targets move by tau. No entropy term and no behaviour model: the advantage weights keep
// the actor near the data offline and let it move online, which is why OTC tunes it.
#ifndef TANDEM_LEARNER_OTC_AWAC_H_
#define TANDEM_LEARNER_OTC_AWAC_H_

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "common/networks/agent_mlp.h"
#include "learner/algorithm.h"
#include "learner/fused_adam.h"
#include "learner/otc/decentralized_algorithm.h"
#include "learner/otc/twin_critics.h"

namespace tandem::learner::otc {

class DecentralizedAwac : public DecentralizedAlgorithm {
 public:
  static absl::StatusOr<std::unique_ptr<DecentralizedAwac>> Create(const AlgorithmContext& context);

  std::string name() const override { return "dec_awac"; }
  std::vector<std::pair<std::string, torch::nn::Module*>> PublishedModules() override;
  UpdateStats UpdateOn(const AgentBatch& batch) override;
  // The critic's regression target for `batch` (no gradient): [N, B, 1].
  at::Tensor Target(const AgentBatch& batch);
  // The advantage weights of `batch`'s actions (no gradient): [N, B, 1].
  at::Tensor Weights(const AgentBatch& batch);
  // min_j Q_j(x, a): [N, M, 1] (no gradient).
  at::Tensor MinQ(const at::Tensor& input, const at::Tensor& actions, bool target);
  networks::AgentMlpImpl& actor() { return *actor_; }
  // Q1(x, a) and Q1 at the policy's mode, for d_q.
  at::Tensor QValue(const at::Tensor& input, const at::Tensor& actions) override;
  at::Tensor StateValue(const at::Tensor& input) override;

 protected:
  std::vector<std::pair<std::string, torch::nn::Module*>> AgentModules() override;
  std::vector<std::pair<std::string, FusedAdam*>> AgentOptimizers() override;

 private:
  explicit DecentralizedAwac(const AlgorithmContext& context) : DecentralizedAlgorithm(context) {}

  networks::AgentMlp actor_{nullptr};
  TwinCritics critics_;
  std::unique_ptr<FusedAdam> actor_optimizer_;
};

}  // namespace tandem::learner::otc

#endif  // TANDEM_LEARNER_OTC_AWAC_H_
