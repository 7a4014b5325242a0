#include "learner/qmix.h"

#include <ATen/ATen.h>
#include <torch/utils.h>

#include <optional>

#include "absl/strings/str_cat.h"
#include "common/networks/architectures.h"
#include "common/status_macros.h"
#include "learner/cql.h"
#include "learner/module_util.h"
#include "learner/ovm.h"

namespace tandem::learner {

at::Tensor TdLambdaTargets(const at::Tensor& reward, const at::Tensor& terminated,
                           const at::Tensor& step_mask, const at::Tensor& next_values, double gamma,
                           double td_lambda) {
  const int64_t steps = reward.size(1);
  std::vector<at::Tensor> targets(steps);
  // G after the last entry: the bootstrap value there (used only when that entry is no step).
  at::Tensor following = next_values.select(1, steps);
  for (int64_t t = steps - 1; t >= 0; --t) {
    const at::Tensor bootstrap = next_values.select(1, t + 1);
    const at::Tensor step_return =
        reward.select(1, t) + gamma * (1 - terminated.select(1, t)) *
                                  ((1 - td_lambda) * bootstrap + td_lambda * following);
    const at::Tensor mask = step_mask.select(1, t);
    targets[t] = mask * step_return + (1 - mask) * next_values.select(1, t);
    following = targets[t];
  }
  return at::stack(targets, 1);
}

absl::StatusOr<std::unique_ptr<Qmix>> Qmix::Create(const AlgorithmContext& context) {
  const TransitionSpec& spec = context.spec;
  if (spec.action_type() != ACTION_TYPE_DISCRETE || spec.episode_steps() <= 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        "algorithm qmix trains recurrent agents on whole episodes of a discrete env; the replay "
        "holds ",
        DescribeSpec(spec),
        ". Declare episode tables: replay { tables { name: \"online\" item_kind: "
        "ITEM_KIND_EPISODE } }"));
  }
  const QmixConfig& qmix = context.config.qmix();
  if (qmix.mixer() != "qmix" && qmix.mixer() != "vdn") {
    return absl::InvalidArgumentError(
        absl::StrCat("algorithm.qmix.mixer: must be qmix or vdn, got \"", qmix.mixer(), "\""));
  }
  if (qmix.td_lambda() < 0 || qmix.td_lambda() > 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("algorithm.qmix.td_lambda: must be in [0, 1], got ", qmix.td_lambda()));
  }
  if (qmix.target_update_every_updates() < 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("algorithm.qmix.target_update_every_updates: must be >= 1, got ",
                     qmix.target_update_every_updates()));
  }
  const CqlConfig& cql = qmix.cql();
  if (cql.variant() != "none" && cql.variant() != "macql" && cql.variant() != "cfcql") {
    return absl::InvalidArgumentError(absl::StrCat(
        "algorithm.qmix.cql.variant: must be none, macql or cfcql, got \"", cql.variant(), "\""));
  }
  if (cql.alpha() < 0 || cql.softmax_temperature() < 0 || cql.sampled_joint_actions() < 1) {
    return absl::InvalidArgumentError(absl::StrCat(
        "algorithm.qmix.cql: alpha and softmax_temperature must be >= 0 and "
        "sampled_joint_actions >= 1, got ",
        cql.alpha(), ", ", cql.softmax_temperature(), ", ", cql.sampled_joint_actions()));
  }
  std::unique_ptr<Qmix> q(new Qmix(context));
  q->num_agents_ = spec.num_agents();
  q->num_actions_ = spec.action_size();
  q->vdn_ = qmix.mixer() == "vdn";
  torch::manual_seed(context.seed);
  const networks::GruAgentOptions agent = networks::GruAgentOptionsFor(spec, context.config);
  q->agent_ = networks::GruAgent(agent);
  q->agent_target_ = networks::GruAgent(agent);
  std::vector<torch::nn::Module*> online = {q->agent_.get()};
  std::vector<torch::nn::Module*> target = {q->agent_target_.get()};
  if (!q->vdn_) {
    const networks::QmixMixerOptions mixer = networks::QmixMixerOptionsFor(spec, context.config);
    q->mixer_ = networks::QmixMixer(mixer);
    q->mixer_target_ = networks::QmixMixer(mixer);
    online.push_back(q->mixer_.get());
    target.push_back(q->mixer_target_.get());
  }
  for (auto& [name, module] : q->Modules()) module->to(context.device);
  for (size_t i = 0; i < online.size(); ++i) {
    CopyParameters(*online[i], *target[i]);
    Freeze(*target[i]);
  }
  for (torch::nn::Module* module : online) {
    for (const at::Tensor& p : module->parameters()) q->online_parameters_.push_back(p);
  }
  for (torch::nn::Module* module : target) {
    for (const at::Tensor& p : module->parameters()) q->target_parameters_.push_back(p);
  }
  FusedAdamOptions adam;
  adam.learning_rate = context.config.learning_rate();
  adam.max_grad_norm = context.config.max_grad_norm();
  q->optimizer_ = std::make_unique<FusedAdam>(q->online_parameters_, adam);
  if (cql.variant() == "cfcql" && cql.softmax_temperature() > 0) {
    q->behaviour_ = networks::GruAgent(agent);
    q->behaviour_->to(context.device);
    q->behaviour_optimizer_ = std::make_unique<FusedAdam>(q->behaviour_->parameters(), adam);
  }
  return q;
}

void Qmix::BeginOnlinePhase() {
  online_ = true;
  if (!context_.config.ovm().enabled()) return;
  const networks::GruAgentOptions agent =
      networks::GruAgentOptionsFor(context_.spec, context_.config);
  agent_memory_ = networks::GruAgent(agent);
  agent_memory_->to(context_.device);
  CopyParameters(*agent_target_, *agent_memory_);
  Freeze(*agent_memory_);
  if (!vdn_) {
    mixer_memory_ =
        networks::QmixMixer(networks::QmixMixerOptionsFor(context_.spec, context_.config));
    mixer_memory_->to(context_.device);
    CopyParameters(*mixer_target_, *mixer_memory_);
    Freeze(*mixer_memory_);
  }
}

bool Qmix::ConservativeNow() const {
  const CqlConfig& cql = context_.config.qmix().cql();
  return cql.variant() != "none" && (!online_ || cql.online());
}

std::vector<std::pair<std::string, FusedAdam*>> Qmix::Optimizers() {
  std::vector<std::pair<std::string, FusedAdam*>> optimizers = {{"qmix", optimizer_.get()}};
  if (behaviour_optimizer_) optimizers.emplace_back("behaviour", behaviour_optimizer_.get());
  return optimizers;
}

at::Tensor Qmix::BehaviourStep(const at::Tensor& obs, const at::Tensor& actions,
                               const networks::EpisodePacking* packing, const at::Tensor& avail,
                               const at::Tensor& mask, UpdateStats* stats) {
  const int64_t steps = mask.size(1);
  // Behaviour cloning: maximise log beta_i(a_i | tau_i) over the steps, unavailable actions out.
  const at::Tensor logits =
      behaviour_->UnrollEpisodes(obs, actions, packing).transpose(0, 1).narrow(1, 0, steps);
  const at::Tensor available = avail.narrow(1, 0, steps);
  const at::Tensor log_probs =
      at::log_softmax(logits.masked_fill(available.logical_not(), -1e10), -1);
  const at::Tensor taken = actions.transpose(0, 1).narrow(1, 0, steps).unsqueeze(-1);
  const at::Tensor valid = mask.sum().clamp_min(1) * num_agents_;
  const at::Tensor loss =
      -(log_probs.gather(-1, taken).squeeze(-1) * mask.unsqueeze(-1)).sum() / valid;
  behaviour_optimizer_->ZeroGrad();
  loss.backward();
  behaviour_optimizer_->Step();
  (*stats)["behaviour_loss"] = loss.item<double>();
  return log_probs.detach().exp().reshape({-1, num_agents_, num_actions_});
}

std::vector<std::pair<std::string, torch::nn::Module*>> Qmix::Modules() {
  std::vector<std::pair<std::string, torch::nn::Module*>> modules = {
      {"agent", agent_.get()}, {"agent_target", agent_target_.get()}};
  if (!vdn_) {
    modules.emplace_back("mixer", mixer_.get());
    modules.emplace_back("mixer_target", mixer_target_.get());
  }
  if (agent_memory_) modules.emplace_back("agent_memory", agent_memory_.get());
  if (mixer_memory_) modules.emplace_back("mixer_memory", mixer_memory_.get());
  if (behaviour_) modules.emplace_back("behaviour", behaviour_.get());
  return modules;
}

std::vector<std::pair<std::string, torch::nn::Module*>> Qmix::PublishedModules() {
  return {{"agent", agent_.get()}};
}

at::Tensor Qmix::AgentQ(const TrainingBatch& batch, bool target) {
  return AgentQTimeMajor(batch.obs.transpose(0, 1).contiguous(),
                         batch.actions.transpose(0, 1).contiguous(), target)
      .transpose(0, 1);
}

at::Tensor Qmix::AgentQTimeMajor(const at::Tensor& obs, const at::Tensor& actions, bool target,
                                 const networks::EpisodePacking* packing) {
  return (target ? agent_target_ : agent_)->UnrollEpisodes(obs, actions, packing);
}

at::Tensor Qmix::Mix(const at::Tensor& q, const at::Tensor& state, bool target) {
  if (vdn_) return q.sum(-1);
  return (target ? mixer_target_ : mixer_)->forward(q, state);
}

absl::StatusOr<UpdateStats> Qmix::Update(const TrainingBatch& batch) {
  if (!batch.episodic()) {
    return absl::InvalidArgumentError("qmix: the batch holds transitions, not episodes");
  }
  // Cut the padding every episode of the batch shares: T + 1 entries, T steps at most.
  const int64_t entries = std::max<int64_t>(2, batch.filled.sum(1).max().item<int64_t>());
  TrainingBatch cut;
  cut.obs = batch.obs.narrow(1, 0, entries);
  cut.state = batch.state.narrow(1, 0, entries);
  cut.actions = batch.actions.narrow(1, 0, entries);
  cut.avail_actions = batch.avail_actions.narrow(1, 0, entries);
  const int64_t steps = entries - 1;
  const at::Tensor reward = batch.reward.narrow(1, 0, steps);
  const at::Tensor terminated = batch.terminated.narrow(1, 0, steps);
  // Entry t is a step when entry t + 1 is filled.
  const at::Tensor mask = batch.filled.narrow(1, 1, steps);

  // The agents read the episodes time-major: one copy shared by the online and target agents,
  // which unroll only the entries each episode fills (no work for the padding of shorter ones).
  const at::Tensor obs = cut.obs.transpose(0, 1).contiguous();
  const at::Tensor actions = cut.actions.transpose(0, 1).contiguous();
  // (The CPU unroll only: a GPU learner steps GRUCell over the padded batch.)
  std::optional<networks::EpisodePacking> episode_packing;
  if (obs.is_cpu()) {
    episode_packing =
        networks::EpisodePacking::FromEntries(batch.filled.sum(1), entries, num_agents_);
  }
  const networks::EpisodePacking* packing = episode_packing ? &*episode_packing : nullptr;
  const at::Tensor q =
      AgentQTimeMajor(obs, actions, false, packing).transpose(0, 1);  // [B, T + 1, N, K]
  const at::Tensor chosen =
      q.narrow(1, 0, steps).gather(-1, cut.actions.narrow(1, 0, steps).unsqueeze(-1)).squeeze(-1);
  const at::Tensor q_tot = Mix(chosen, cut.state.narrow(1, 0, steps), /*target=*/false);

  at::Tensor targets;
  {
    at::NoGradGuard no_grad;
    const at::Tensor target_q = AgentQTimeMajor(obs, actions, true, packing).transpose(0, 1);
    const at::Tensor chooser = context_.config.qmix().double_q() ? q.detach() : target_q;
    const at::Tensor greedy =
        chooser.masked_fill(cut.avail_actions.logical_not(), -1e30).argmax(-1, true);
    const at::Tensor next_values = Mix(target_q.gather(-1, greedy).squeeze(-1), cut.state, true);
    targets = TdLambdaTargets(reward, terminated, mask, next_values, context_.config.discount(),
                              context_.config.qmix().td_lambda());
  }
  const at::Tensor td_error = (q_tot - targets) * mask;
  const at::Tensor valid = mask.sum().clamp_min(1);
  const at::Tensor td_loss = 0.5 * td_error.pow(2).sum() / valid;
  at::Tensor loss = td_loss;
  UpdateStats extra;
  if (agent_memory_) {
    // OVM: regress towards max(frozen offline target network's Q_tot(tau, a), G) as well.
    at::Tensor memory;
    {
      at::NoGradGuard no_grad;
      const at::Tensor memory_q =
          agent_memory_->UnrollEpisodes(obs, actions, packing).transpose(0, 1);
      const at::Tensor memory_chosen =
          memory_q.narrow(1, 0, steps)
              .gather(-1, cut.actions.narrow(1, 0, steps).unsqueeze(-1))
              .squeeze(-1);
      memory = vdn_ ? memory_chosen.sum(-1)
                    : mixer_memory_->forward(memory_chosen, cut.state.narrow(1, 0, steps));
    }
    const double lambda = MemoryCoefficient(context_.config.ovm().lambda_end(),
                                            context_.config.ovm().anneal_env_steps(), env_steps_);
    loss = 0.5 * OvmLoss(q_tot, targets, memory, lambda, mask);
    extra["ovm_loss"] = loss.item<double>();
    extra["ovm_lambda"] = lambda;
    extra["ovm_memory_share"] =
        ((memory > targets) * mask).sum().item<double>() / valid.item<double>();
  }
  if (ConservativeNow()) {
    const CqlConfig& cql = context_.config.qmix().cql();
    // One row per step of the batch: the padding's rows would carry mask 0, so they are left out.
    const at::Tensor rows = mask.reshape({-1}).nonzero().squeeze(-1);
    const auto step_rows = [&](const at::Tensor& t, int64_t width) {
      return t.narrow(1, 0, steps).reshape({-1, width}).index_select(0, rows);
    };
    const int64_t n = num_agents_, k = num_actions_;
    const at::Tensor agent_q = step_rows(q, n * k).view({-1, n, k});
    const at::Tensor avail = step_rows(cut.avail_actions, n * k).view({-1, n, k});
    const at::Tensor states = step_rows(cut.state, cut.state.size(-1));
    at::Tensor floor;
    if (cql.calibrated()) {
      floor = MonteCarloReturns(reward, mask, context_.config.discount())
                  .reshape({-1})
                  .index_select(0, rows);
    }
    at::Tensor push_up;
    if (cql.variant() == "macql") {
      const JointActionMixer mix = [&](const at::Tensor& joint) {
        return vdn_ ? joint.sum(-1) : mixer_->MixMany(joint, states);
      };
      push_up = MacqlPushUp(agent_q, avail, mix, cql.sampled_joint_actions(), floor,
                            cql.sample_available_actions());
    } else {
      const DeviationMixer mix = [&](const at::Tensor& all, const at::Tensor& chosen) {
        if (!vdn_) return mixer_->MixDeviations(all, chosen, states);
        return all - chosen.unsqueeze(-1) + chosen.sum(-1).view({-1, 1, 1});
      };
      const at::Tensor counterfactual = CounterfactualQtot(agent_q, step_rows(cut.actions, n), mix);
      at::Tensor behaviour_probs;
      if (behaviour_ && !online_) {
        behaviour_probs = BehaviourStep(obs, actions, packing, cut.avail_actions, mask, &extra)
                              .view({-1, n * k})
                              .index_select(0, rows)
                              .view({-1, n, k});
      } else if (behaviour_) {
        at::NoGradGuard no_grad;
        behaviour_probs = at::softmax(
            step_rows(behaviour_->UnrollEpisodes(obs, actions, packing).transpose(0, 1), n * k)
                .view({-1, n, k})
                .masked_fill(avail.logical_not(), -1e10),
            -1);
      }
      const at::Tensor lambda =
          CfcqlAgentWeights(counterfactual, avail, behaviour_probs, cql.softmax_temperature());
      push_up = CfcqlPushUp(counterfactual, avail, lambda, floor);
    }
    const at::Tensor term = ConservativeTerm(push_up, q_tot.reshape({-1}).index_select(0, rows),
                                             at::ones_like(push_up));
    loss = loss + cql.alpha() * term;
    extra["cql_loss"] = term.item<double>();
  }

  optimizer_->ZeroGrad();
  loss.backward();
  if (context_.reduce_gradients) {
    std::vector<at::Tensor> gradients;
    for (const at::Tensor& p : optimizer_->parameters()) gradients.push_back(p.grad());
    RETURN_IF_ERROR(context_.reduce_gradients(gradients));
  }
  const double grad_norm = optimizer_->Step();
  ++updates_;
  if (updates_ % context_.config.qmix().target_update_every_updates() == 0) {
    at::NoGradGuard no_grad;
    for (size_t i = 0; i < target_parameters_.size(); ++i) {
      target_parameters_[i].copy_(online_parameters_[i]);
    }
  }
  at::NoGradGuard no_grad;
  const at::Tensor summary = at::stack({td_loss.detach(), td_error.abs().sum() / valid,
                                        (q_tot.detach() * mask).sum() / valid,
                                        (targets * mask).sum() / valid, valid / mask.size(0)})
                                 .to(at::kCPU);
  const float* values = summary.data_ptr<float>();
  UpdateStats stats{{"td_loss", values[0]},        {"td_error_abs", values[1]},
                    {"q_tot_mean", values[2]},     {"target_mean", values[3]},
                    {"episode_length", values[4]}, {"grad_norm", grad_norm}};
  stats.insert(extra.begin(), extra.end());
  return stats;
}

namespace {

// Greedy actions [B, T, N] of per-agent values [B, T, N, K] over the available actions.
at::Tensor GreedyActions(const at::Tensor& q, const at::Tensor& avail) {
  return q.masked_fill(avail.logical_not(), -1e30).argmax(-1);
}

}  // namespace

absl::Status Qmix::SetProbe(const TrainingBatch& batch) {
  if (!batch.episodic()) {
    return absl::InvalidArgumentError("qmix: the probe batch holds transitions, not episodes");
  }
  at::NoGradGuard no_grad;
  probe_ = batch;
  probe_greedy_ = GreedyActions(AgentQ(batch, false), batch.avail_actions);
  return absl::OkStatus();
}

UpdateStats Qmix::Probe() {
  if (!probe_) return {};
  at::NoGradGuard no_grad;
  const TrainingBatch& b = *probe_;
  const int64_t steps = b.filled.size(1) - 1;
  const at::Tensor q = AgentQ(b, false);                 // [B, T + 1, N, K]
  const at::Tensor mask = b.filled.narrow(1, 1, steps);  // entry t is a step
  const at::Tensor chosen =
      q.narrow(1, 0, steps).gather(-1, b.actions.narrow(1, 0, steps).unsqueeze(-1)).squeeze(-1);
  const at::Tensor q_tot = Mix(chosen, b.state.narrow(1, 0, steps), /*target=*/false);
  const at::Tensor valid = mask.sum().clamp_min(1);
  const at::Tensor same = (GreedyActions(q, b.avail_actions) == probe_greedy_)
                              .narrow(1, 0, steps)
                              .to(mask.scalar_type());
  const at::Tensor summary = at::stack({(q_tot * mask).sum() / valid,
                                        (same * mask.unsqueeze(-1)).sum() / (valid * num_agents_)})
                                 .to(at::kCPU, at::kDouble);
  return {{"probe_q_tot", summary[0].item<double>()},
          {"probe_greedy_agreement", summary[1].item<double>()}};
}

TANDEM_REGISTER(AlgorithmRegistry, "qmix", FactoryOf<Qmix>());

}  // namespace tandem::learner
