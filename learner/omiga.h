// OMIGA (Wang, Xu, Zheng, Zhan; NeurIPS 2023): offline MARL with implicit global-to-local value
// regularization, the backbone of Sim2O in both phases. Networks are shared across agents (with a
// one-hot id input) and evaluated for all agents in one batched call:
//   policy  tanh-Gaussian over o_i + id          q  Q_i(o_i, a_i, id)    v  V_i(o_i, id)
//   mixer   w(s) >= 0, b(s):  Q_tot = sum w_i Q_i + b,  V_tot = sum w_i V_i + b
// One update, from one forward pass (all targets detached):
//   y    = r + gamma (1 - terminated) V_tot_target(s')
//   L_Q  = mean (Q_tot(s, a) - y)^2                  (or the OVM loss when enabled)
//   z_i  = clamp((w_i^-(s) Q_i^-(o_i, a_i) - w_i^-(s) V_i(o_i)) / alpha, -z_clip, z_clip)
//   m    = max(max over batch and agents of z, -1)  (detached)
//   L_V  = mean exp(z - m) + exp(-m) w^- V / alpha
//   L_pi = -mean exp(z) log pi(a_i | o_i)            (exp(z) detached)
// then Adam steps (each group clipped to max_grad_norm) for policy, Q + mixer, V, and Polyak
// averaging of the Q, V and mixer targets.
// The online phase can run one of Sim2O's baselines instead (algorithm.omiga.online_update: AWAC-MA
// or PROTO-MA, learner/o2o_baselines.h, learner/omiga_baselines.cc) over the same networks; the
// offline phase is always OMIGA's, so every method starts from the same kind of checkpoint.
#ifndef TANDEM_LEARNER_OMIGA_H_
#define TANDEM_LEARNER_OMIGA_H_

#include <memory>
#include <string>
#include <vector>

#include "common/networks/mlp.h"
#include "common/networks/omiga_mixer.h"
#include "common/networks/tanh_gaussian_policy.h"
#include "common/worker_pool.h"
#include "learner/algorithm.h"
#include "learner/fused_adam.h"
#include "learner/module_util.h"
#include "learner/o2o_baselines.h"

namespace tandem::learner {

// The individual terms of one OMIGA update, before any optimizer step.
struct OmigaLosses {
  at::Tensor q_loss, v_loss, policy_loss;
  at::Tensor q_tot, td_target, z;
  // For monitoring: the local state values V_i(o_i) and the mixer's weights w(s) and bias b(s).
  at::Tensor v, w, b;
};

class Omiga : public Algorithm {
 public:
  static absl::StatusOr<std::unique_ptr<Omiga>> Create(const AlgorithmContext& context);

  std::string name() const override { return "omiga"; }
  absl::StatusOr<UpdateStats> Update(const TrainingBatch& batch) override;
  int64_t updates() const override { return updates_; }
  int update_streams() const override { return streams_ != nullptr ? 2 : 1; }
  std::vector<std::pair<std::string, torch::nn::Module*>> Modules() override;
  std::vector<std::pair<std::string, torch::nn::Module*>> PublishedModules() override;

  // Freezes copies of the current target Q and mixer as the offline value memory (OVM) and
  // enables the OVM loss if configured. Called when the online phase starts.
  void BeginOnlinePhase() override;
  void set_env_steps(int64_t env_steps) override { env_steps_ = env_steps; }
  int64_t env_steps() const override { return env_steps_; }
  std::vector<std::pair<std::string, FusedAdam*>> Optimizers() override;
  void set_updates(int64_t updates) override { updates_ = updates; }

  // The loss terms for `batch` (exposed for tests).
  OmigaLosses ComputeLosses(const TrainingBatch& batch);

  // The online phase's update (algorithm.omiga.online_update).
  enum class OnlineUpdate { kOmiga, kAwac, kProto, kRlpd };
  OnlineUpdate online_update() const { return online_update_; }
  // PROTO-MA's reference policy pi_k and temperature alpha: null before its online phase.
  networks::TanhGaussianPolicy& reference_policy() { return reference_policy_; }
  Temperature& temperature() { return temperature_; }
  // RLPD-MA's critic ensemble (empty unless online_update is rlpd): member k's critic and mixer.
  int ensemble_size() const { return static_cast<int>(ensemble_q_.size()); }
  LayerNormMlp& ensemble_q(int k) { return ensemble_q_[k]; }
  networks::OmigaMixer& ensemble_mixer(int k) { return ensemble_mixer_[k]; }
  FusedAdam& ensemble_optimizer(int k) { return *ensemble_optimizers_[k]; }

  networks::TanhGaussianPolicy& policy() { return policy_; }
  networks::Mlp& q() { return q_; }
  networks::Mlp& v() { return v_; }
  networks::OmigaMixer& mixer() { return mixer_; }
  FusedAdam& policy_optimizer() { return *policy_optimizer_; }
  FusedAdam& q_optimizer() { return *q_optimizer_; }
  FusedAdam& v_optimizer() { return *v_optimizer_; }

 private:
  explicit Omiga(const AlgorithmContext& context);
  // obs [B, N, O] -> [B, N, O + N] with the one-hot agent id appended.
  at::Tensor WithIds(const at::Tensor& obs);

  AlgorithmContext context_;
  int64_t num_agents_;
  networks::TanhGaussianPolicy policy_{nullptr};
  networks::Mlp q_{nullptr}, v_{nullptr}, q_target_{nullptr}, v_target_{nullptr};
  networks::OmigaMixer mixer_{nullptr}, mixer_target_{nullptr};
  // Frozen offline value memory (OVM), created by BeginOnlinePhase.
  networks::Mlp q_memory_{nullptr};
  networks::OmigaMixer mixer_memory_{nullptr};
  bool ovm_active_ = false;
  std::unique_ptr<FusedAdam> policy_optimizer_, q_optimizer_, v_optimizer_;
  std::vector<at::Tensor> target_parameters_, online_parameters_;
  at::Tensor ids_;  // cached [B, N, N] one-hot ids
  // The update's parts. ComputeLosses runs them one after the other; the two-stream update runs the
  // V half beside the Q half, then the policy loss in two row ranges.
  struct UpdateInputs {
    at::Tensor obs, next_obs;  // with one-hot ids
    at::Tensor q_inputs;       // [obs, action, id]
  };
  UpdateInputs Inputs(const TrainingBatch& batch);
  // Target critic and mixer on (s, a), V, z and the V loss.
  void ComputeVHalf(const TrainingBatch& batch, const UpdateInputs& in, OmigaLosses* losses);
  // TD target (and OVM's memory target), the critic and mixer, the Q loss.
  void ComputeQHalf(const TrainingBatch& batch, const UpdateInputs& in, OmigaLosses* losses);
  // -sum over rows [begin, end) of exp(z)-weighted log-likelihoods, divided by the whole count.
  at::Tensor PolicyLossPart(const TrainingBatch& batch, const UpdateInputs& in,
                            const at::Tensor& weights, int64_t begin, int64_t end);
  // The CPU update in two streams (context.update_streams = 2): fills the gradients itself.
  absl::StatusOr<OmigaLosses> BackwardInTwoStreams(const TrainingBatch& batch);
  std::unique_ptr<WorkerPool> streams_;  // null: one stream

  // Sim2O's baselines (learner/omiga_baselines.cc).
  absl::StatusOr<UpdateStats> AwacUpdate(const TrainingBatch& batch);
  absl::StatusOr<UpdateStats> ProtoUpdate(const TrainingBatch& batch);
  absl::StatusOr<UpdateStats> RlpdUpdate(const TrainingBatch& batch);
  // One step of every RLPD-MA critic towards `target` ([B]): online, the subset-min soft target;
  // offline, OMIGA's TD target. Returns the summed loss.
  absl::StatusOr<at::Tensor> StepEnsemble(const TrainingBatch& batch, const at::Tensor& target);
  // Member k's Q_tot(s, a) (its online or target networks); `obs` without ids.
  at::Tensor EnsembleQTot(int k, bool target, const at::Tensor& obs, const at::Tensor& actions,
                          const at::Tensor& state);
  // Creates the ensemble, its targets, its optimizer and the temperature (Create, for rlpd).
  void CreateEnsemble();
  // Q_tot(s, a) of `q` and `mixer`; `obs` without ids ([B, N, O]).
  at::Tensor QTot(networks::Mlp& q, networks::OmigaMixer& mixer, const at::Tensor& obs,
                  const at::Tensor& actions, const at::Tensor& state);
  // One step of the critic (Q and mixer) towards `target` (detached, [B]).
  struct CriticStep {
    at::Tensor q_tot, q_loss;
    double grad_norm = 0;
  };
  absl::StatusOr<CriticStep> StepCritic(const TrainingBatch& batch, const at::Tensor& target);
  // Hands the gradients of `optimizers`' parameters to context.reduce_gradients (data parallel).
  absl::Status ReduceGradients(std::initializer_list<FusedAdam*> optimizers);
  // One step of the SAC-style actor and temperature (PROTO-MA, RLPD-MA) on their losses; returns
  // the policy's gradient norm.
  absl::StatusOr<double> StepSoftActor(const at::Tensor& policy_loss, const at::Tensor& alpha_loss);
  OnlineUpdate online_update_ = OnlineUpdate::kOmiga;
  bool online_ = false;
  networks::TanhGaussianPolicy reference_policy_{nullptr};
  Temperature temperature_{nullptr};
  std::unique_ptr<FusedAdam> temperature_optimizer_;
  std::vector<at::Tensor> policy_parameters_, reference_parameters_;
  std::vector<LayerNormMlp> ensemble_q_, ensemble_q_target_;
  std::vector<networks::OmigaMixer> ensemble_mixer_, ensemble_mixer_target_;
  std::vector<std::unique_ptr<FusedAdam>> ensemble_optimizers_;  // one per member, as OMIGA's
  std::vector<at::Tensor> ensemble_parameters_, ensemble_target_parameters_;
  int64_t updates_ = 0;
  int64_t env_steps_ = 0;
};

}  // namespace tandem::learner

#endif  // TANDEM_LEARNER_OMIGA_H_
