// OTC's transition correction inside a decentralized learner: given one update's batch of
// merged-set transitions (SOURCE_OFFLINE: the replay's `merged` table, B^k) and current-deployment
// transitions (SOURCE_ONLINE: the `deployment` table, D^k), picks each agent's training rows
// (sampling.h), trains the cVAE of d_e, and adapts alpha at each deployment (eq. 4).
//
// Phases, decided by the batch: without deployment rows (offline training on B^0) the batch is
// trained on as it is; with them, `uniform` draws the training rows uniformly from the merged part
// (the paper's baseline), `online` uniformly from the deployment's part only (the online-data
// baseline), `balanced` from the merged part by Balanced Replay's priority (below), `embedding`
// and `value` by rank-based priority.
// Balanced Replay (Lee et al. 2021), decentralized: a density-ratio network w_i(x, a_i) > 0 per
// agent (softplus output: that paper's ReLU has no gradient once it outputs 0 on every row), one
// Adam step per update on the JS-divergence bound -log(2 / (w + 1)) over the merged rows minus
// log(2 w / (w + 1)) over the deployment's, so w tends to d_{D^k} / d_{B^k}; the merged rows are
// drawn with probability proportional to w^(1/T) (normalised by its mean, clamped to [0.001, 1000]
// as that paper does): near-on-policy transitions first, blind to the dynamics. Alpha: deployment 1
// uses `alpha`; at each later deployment the first update measures Dist_k, the mean similarity
// distance of its merged minibatch, and sets alpha_k = alpha_{k-1} Dist_k / Dist_{k-1} (each agent
// its own).
#ifndef TANDEM_LEARNER_OTC_CORRECTOR_H_
#define TANDEM_LEARNER_OTC_CORRECTOR_H_

#include <ATen/core/Tensor.h>
#include <torch/nn/module.h>
#include <torch/nn/pimpl.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "common/networks/conditional_vae.h"
#include "common/networks/decentralized_networks.h"
#include "common/rng.h"
#include "learner/algorithm.h"
#include "learner/fused_adam.h"
#include "learner/otc/agent_batch.h"

namespace tandem::learner::otc {

enum class Sampling { kUniform, kOnline, kBalanced, kEmbedding, kValue };

// "uniform", "online", "balanced", "embedding" or "value"; anything else is INVALID_ARGUMENT naming
// the field.
absl::StatusOr<Sampling> ParseSampling(const std::string& text);

// What d_q needs from the base algorithm's critic (called without gradients).
class ValueFunction {
 public:
  virtual ~ValueFunction() = default;
  // Q_i(x, a_i) for [N, M, X] inputs and [N, M, A] actions: [N, M, 1].
  virtual at::Tensor QValue(const at::Tensor& input, const at::Tensor& actions) = 0;
  // V_i(x) = E_{a_i ~ pi_i} Q_i(x, a_i), estimated at the policy's action: [N, M, 1].
  virtual at::Tensor StateValue(const at::Tensor& input) = 0;
};

// The corrector's state across deployments, as a module so checkpoints carry it (a deployment's
// learner is a new process that resumes from the previous checkpoint): gradient-free parameters
// "alpha" and "previous_distance" (one entry per agent) and "deployments" (one), on the CPU.
class CorrectorStateImpl : public torch::nn::Module {
 public:
  CorrectorStateImpl(int64_t num_agents, double alpha);
  at::Tensor alpha, previous_distance, deployments;
};
TORCH_MODULE(CorrectorState);

struct CorrectorOptions {
  int64_t num_agents = 1;
  int64_t input_size = 0;
  int64_t action_size = 0;
  Sampling sampling = Sampling::kEmbedding;
  // Rows each agent trains on per update.
  int64_t train_batch = 128;
  double alpha = 0.7;
  bool adaptive_alpha = true;
  int64_t embedding_size = 10;
  std::vector<int64_t> hidden_sizes = {64, 64};
  double vae_learning_rate = 1e-3;
  double balanced_learning_rate = 3e-4;
  double balanced_temperature = 5;
  c10::Device device = c10::Device(c10::kCPU);
  uint64_t seed = 1;
};

// The options of `algorithm.otc` for agents of `shapes`, checked (INVALID_ARGUMENT names the
// field): sampling, alpha >= 0, embedding and minibatch sizes >= 1.
absl::StatusOr<CorrectorOptions> CorrectorOptionsFor(const AlgorithmContext& context,
                                                     const networks::BcqShapes& shapes);

class Corrector {
 public:
  explicit Corrector(const CorrectorOptions& options);

  // The rows to train on from `batch`, whose rows with online[j] true are deployment transitions
  // (undefined `online`: none). Adds "otc_alpha", "otc_distance" and "cvae_loss" to `stats` when
  // they apply.
  AgentBatch Select(const AgentBatch& batch, const at::Tensor& online, ValueFunction& values,
                    UpdateStats* stats);
  // The next update with deployment rows belongs to a new deployment (alpha adapts there).
  void BeginDeployment() { new_deployment_ = true; }

  // The cVAE of d_e and the density-ratio network of `balanced` (null for the other samplings),
  // their optimizers, the state module.
  networks::ConditionalVae& cvae() { return cvae_; }
  FusedAdam* cvae_optimizer() { return cvae_optimizer_.get(); }
  networks::AgentMlp& density_ratio() { return density_ratio_; }
  FusedAdam* density_ratio_optimizer() { return density_optimizer_.get(); }
  // w_i(x, a_i) > 0: [N, M, 1].
  at::Tensor DensityRatio(const AgentBatch& batch);
  // Balanced Replay's selection probabilities of the merged rows after one step of the ratio
  // network: [N, M], rows summing to 1.
  at::Tensor BalancedProbabilities(const AgentBatch& merged, const AgentBatch& online,
                                   UpdateStats* stats);
  CorrectorState& state() { return state_; }
  // Each agent's alpha; deployments begun so far.
  std::vector<double> alpha() const;
  int deployments() const;

 private:
  // One cVAE step on (x, x') -> a_i; the embeddings mu(x, a_i, x') of `batch` afterwards.
  at::Tensor TrainAndEmbed(const AgentBatch& merged, const AgentBatch& online,
                           at::Tensor* online_mu, UpdateStats* stats);

  CorrectorOptions options_;
  networks::ConditionalVae cvae_{nullptr};
  std::unique_ptr<FusedAdam> cvae_optimizer_;
  networks::AgentMlp density_ratio_{nullptr};
  std::unique_ptr<FusedAdam> density_optimizer_;
  Rng rng_;
  CorrectorState state_{nullptr};
  bool new_deployment_ = true;
};

}  // namespace tandem::learner::otc

#endif  // TANDEM_LEARNER_OTC_CORRECTOR_H_
