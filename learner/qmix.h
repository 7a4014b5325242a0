// QMIX (Rashid et al., ICML 2018) as pymarl2's nq_learner trains it, on whole padded episodes
// (the replay's episode items):
//   agents   one GRU agent shared by all agents (common/networks/gru_agent.h), unrolled over the
//            batch's episodes from a zero hidden state: Q_i(tau_i^t, .) for every entry t
//   mixer    QMIX's hypernetwork mixer of s_t (or VDN's sum): Q_tot(s_t, u_t)
//   targets  double Q: a*_i = argmax over available actions of the online Q_i(tau^{t+1}, .),
//            evaluated by the target agent and mixed by the target mixer: Qbar_{t+1}; then
//            TD(lambda) backwards over each episode,
//              G_t = r_t + gamma (1 - term_t) ((1 - lambda) Qbar_{t+1} + lambda G_{t+1})
//            with G_t = Qbar_t at the first entry that is no step (an episode cut without
//            terminating bootstraps from its last observation)
//   loss     0.5 * sum over steps of m_t (Q_tot - G_t)^2 / sum m_t, m_t = 1 where entry t is a step
//   + CQL    offline (and, with qmix.cql.online, online too): alpha times MACQL's or CFCQL's
//            conservative term (learner/cql.h); CFCQL with tau > 0 also trains a behaviour policy
//            (a GRU agent with softmax output, behaviour cloning) for its agent weights
//   OVM      online with algorithm.ovm.enabled: the TD regression is OVMSE's (learner/ovm.h)
//   against
//            a frozen copy of the offline target agent and mixer taken when the online phase begins
// Adam (algorithm.learning_rate, clipped to algorithm.max_grad_norm), hard target copies every
// qmix.target_update_every_updates updates. The batch is cut to its longest episode first.
#ifndef TANDEM_LEARNER_QMIX_H_
#define TANDEM_LEARNER_QMIX_H_

#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "common/networks/gru_agent.h"
#include "common/networks/qmix_mixer.h"
#include "learner/algorithm.h"
#include "learner/fused_adam.h"

namespace tandem::learner {

// The TD(lambda) targets above for a batch: `reward`, `terminated`, `step_mask` [B, T] (entry t is
// an env step of its episode), `next_values` [B, T + 1] (Qbar at every entry) -> G [B, T].
at::Tensor TdLambdaTargets(const at::Tensor& reward, const at::Tensor& terminated,
                           const at::Tensor& step_mask, const at::Tensor& next_values, double gamma,
                           double td_lambda);

class Qmix : public Algorithm {
 public:
  static absl::StatusOr<std::unique_ptr<Qmix>> Create(const AlgorithmContext& context);

  std::string name() const override { return "qmix"; }
  absl::StatusOr<UpdateStats> Update(const TrainingBatch& batch) override;
  int64_t updates() const override { return updates_; }
  void set_updates(int64_t updates) override { updates_ = updates; }
  int64_t env_steps() const override { return env_steps_; }
  void set_env_steps(int64_t env_steps) override { env_steps_ = env_steps; }
  std::vector<std::pair<std::string, torch::nn::Module*>> Modules() override;
  // The agent network (the acting policy's "agent" module).
  std::vector<std::pair<std::string, torch::nn::Module*>> PublishedModules() override;
  std::vector<std::pair<std::string, FusedAdam*>> Optimizers() override;

  // Per-agent Q values of the online (or target) agent for every entry of the episodes:
  // [B, T, N, K]. Exposed for tests.
  at::Tensor AgentQ(const TrainingBatch& batch, bool target);
  // The same from time-major observations [T, B, N, O] and actions [T, B, N] -> [T, B, N, K].
  // `packing`, when given, unrolls only the entries episodes fill (gru_agent.h).
  at::Tensor AgentQTimeMajor(const at::Tensor& obs, const at::Tensor& actions, bool target,
                             const networks::EpisodePacking* packing = nullptr);
  // Q_tot from chosen per-agent values [..., N] and states [..., S] (VDN: their sum).
  at::Tensor Mix(const at::Tensor& q, const at::Tensor& state, bool target);

  networks::GruAgent& agent() { return agent_; }
  bool vdn() const { return vdn_; }
  // Freezes the offline target networks as OVM's memory and ends offline-only terms.
  void BeginOnlinePhase() override;
  // The unlearning probe: keeps `batch` (offline episodes) and the greedy actions the current
  // (offline) agent takes on it; Probe() reports probe_q_tot, the mean over the filled steps of
  // the online Q_tot of the data's joint actions, and probe_greedy_agreement, the share of agent
  // steps whose greedy action (over the available ones) is still the kept one.
  absl::Status SetProbe(const TrainingBatch& batch) override;
  UpdateStats Probe() override;

 private:
  explicit Qmix(const AlgorithmContext& context) : context_(context) {}
  // Whether this update carries the conservative term.
  bool ConservativeNow() const;
  // Trains the behaviour policy on the batch (behaviour cloning) and returns its action
  // probabilities over every step [B * T, N, K] (no gradient).
  at::Tensor BehaviourStep(const at::Tensor& obs, const at::Tensor& actions,
                           const networks::EpisodePacking* packing, const at::Tensor& avail,
                           const at::Tensor& mask, UpdateStats* stats);

  AlgorithmContext context_;
  int64_t num_agents_ = 0, num_actions_ = 0;
  bool vdn_ = false;
  networks::GruAgent agent_{nullptr}, agent_target_{nullptr};
  networks::QmixMixer mixer_{nullptr}, mixer_target_{nullptr};
  // OVM's memory: the offline target networks, frozen when the online phase begins.
  networks::GruAgent agent_memory_{nullptr};
  networks::QmixMixer mixer_memory_{nullptr};
  // CFCQL's behaviour policy (tau > 0 only).
  networks::GruAgent behaviour_{nullptr};
  std::unique_ptr<FusedAdam> behaviour_optimizer_;
  bool online_ = false;
  std::unique_ptr<FusedAdam> optimizer_;
  std::vector<at::Tensor> online_parameters_, target_parameters_;
  int64_t updates_ = 0;
  int64_t env_steps_ = 0;
  // The probe's batch and the greedy actions [B, T, N] the offline agent took on it.
  std::optional<TrainingBatch> probe_;
  at::Tensor probe_greedy_;
};

}  // namespace tandem::learner

#endif  // TANDEM_LEARNER_QMIX_H_
