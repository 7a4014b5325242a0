// Multi-agent soft actor-critic with a factorized centralized critic: Tandem's learner for training
// from scratch online (rho = 0), used to train the behaviour policies that produce offline datasets
// and as the "trained from scratch" baseline.
//
// Networks, shared over agents with a one-hot agent id like OMIGA's: a tanh-Gaussian policy
// pi(a_i | o_i), and twin critics Q_tot^k(s, a) = sum_i w_i^k(s) Q_i^k(o_i, a_i) + b^k(s) with
// OMIGA's mixer (w >= 0). Because the first critic has exactly OMIGA's architecture and names
// ("policy", "q", "mixer"), actors run every selector over it, CBS included.
// Losses, per update on a batch (targets detached):
//   y       = r + gamma (1 - terminated) (min_k Q_tot^k'(s', a') - alpha sum_i log pi(a'_i |
//   o'_i)),
//             a' ~ pi(o'), Q^k' the Polyak-averaged targets
//   critic  = sum_k mean (Q_tot^k(s, a) - y)^2
//   policy  = mean (alpha sum_i log pi(a~_i | o_i) - min_k Q_tot^k(s, a~)), a~ ~ pi(o)
//   reparameterised alpha   = -mean log_alpha (sum_i log pi(a~_i | o_i) + target_entropy),
//   target_entropy = -N * act
// Update order: critic step, policy step, temperature step, then Polyak (tau).
#ifndef TANDEM_LEARNER_MASAC_H_
#define TANDEM_LEARNER_MASAC_H_

#include <memory>
#include <string>
#include <vector>

#include "common/networks/mlp.h"
#include "common/networks/omiga_mixer.h"
#include "common/networks/tanh_gaussian_policy.h"
#include "learner/algorithm.h"
#include "learner/fused_adam.h"
#include "learner/module_util.h"

namespace tandem::learner {

class Masac : public Algorithm {
 public:
  static absl::StatusOr<std::unique_ptr<Masac>> Create(const AlgorithmContext& context);

  std::string name() const override { return "masac"; }
  absl::StatusOr<UpdateStats> Update(const TrainingBatch& batch) override;
  int64_t updates() const override { return updates_; }
  void set_updates(int64_t updates) override { updates_ = updates; }
  int64_t env_steps() const override { return env_steps_; }
  void set_env_steps(int64_t env_steps) override { env_steps_ = env_steps; }
  std::vector<std::pair<std::string, torch::nn::Module*>> Modules() override;
  std::vector<std::pair<std::string, torch::nn::Module*>> PublishedModules() override;
  std::vector<std::pair<std::string, FusedAdam*>> Optimizers() override {
    return {{"policy", policy_optimizer_.get()},
            {"critic", critic_optimizer_.get()},
            {"temperature", alpha_optimizer_.get()}};
  }

  // Q_tot of critic k (0 or 1, online or target) for [B, N, O] observations, [B, N, A] actions and
  // [B, S] states: shape [B].
  at::Tensor QTot(int k, bool target, const at::Tensor& obs, const at::Tensor& actions,
                  const at::Tensor& state);
  // The TD target y for `batch` (no gradient).
  at::Tensor Target(const TrainingBatch& batch);
  double alpha() const;

 private:
  explicit Masac(const AlgorithmContext& context) : context_(context) {}
  at::Tensor Ids(int64_t batch, const at::Tensor& like);

  AlgorithmContext context_;
  int64_t num_agents_ = 0;
  double target_entropy_ = 0;
  networks::TanhGaussianPolicy policy_{nullptr};
  networks::Mlp q_[2] = {networks::Mlp(nullptr), networks::Mlp(nullptr)};
  networks::Mlp q_target_[2] = {networks::Mlp(nullptr), networks::Mlp(nullptr)};
  networks::OmigaMixer mixer_[2] = {networks::OmigaMixer(nullptr), networks::OmigaMixer(nullptr)};
  networks::OmigaMixer mixer_target_[2] = {networks::OmigaMixer(nullptr),
                                           networks::OmigaMixer(nullptr)};
  Temperature temperature_{nullptr};
  std::unique_ptr<FusedAdam> policy_optimizer_, critic_optimizer_, alpha_optimizer_;
  std::vector<at::Tensor> target_parameters_, online_parameters_;
  at::Tensor ids_;
  int64_t updates_ = 0;
  int64_t env_steps_ = 0;
};

}  // namespace tandem::learner

#endif  // TANDEM_LEARNER_MASAC_H_
