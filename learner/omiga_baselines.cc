// The online updates of Sim2O's AWAC-MA, PROTO-MA and RLPD-MA baselines over OMIGA's networks (the
// losses are in learner/o2o_baselines.h). Each updates the critic first and the actor through the
// updated critic (CORL's, PROTO's and RLPD's order), and leaves OMIGA's V branch untouched.
#include <ATen/ATen.h>

#include <cmath>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/networks/architectures.h"
#include "common/networks/omiga_mixer.h"
#include "common/status_macros.h"
#include "learner/module_util.h"
#include "learner/o2o_baselines.h"
#include "learner/omiga.h"

namespace tandem::learner {
namespace {

// UpdateStats of named scalar tensors (copied to the CPU together) and plain numbers.
UpdateStats StatsOf(const std::vector<std::pair<std::string, at::Tensor>>& tensors,
                    const std::vector<std::pair<std::string, double>>& numbers) {
  std::vector<at::Tensor> scalars;
  for (const auto& [name, tensor] : tensors) scalars.push_back(tensor.detach().reshape({}));
  const at::Tensor values = at::stack(scalars).to(at::kCPU, at::kDouble);
  UpdateStats stats(numbers.begin(), numbers.end());
  for (size_t i = 0; i < tensors.size(); ++i) {
    stats[tensors[i].first] = values[static_cast<int64_t>(i)].item<double>();
  }
  return stats;
}

}  // namespace

absl::Status Omiga::ReduceGradients(std::initializer_list<FusedAdam*> optimizers) {
  if (!context_.reduce_gradients) return absl::OkStatus();
  std::vector<at::Tensor> gradients;
  for (FusedAdam* optimizer : optimizers) {
    for (const at::Tensor& p : optimizer->parameters()) gradients.push_back(p.grad());
  }
  return context_.reduce_gradients(gradients);
}

absl::StatusOr<Omiga::CriticStep> Omiga::StepCritic(const TrainingBatch& batch,
                                                    const at::Tensor& target) {
  CriticStep step;
  step.q_tot = QTot(q_, mixer_, batch.obs, batch.actions, batch.state);
  step.q_loss = (step.q_tot - target).pow(2).mean();
  q_optimizer_->ZeroGrad();
  step.q_loss.backward();
  RETURN_IF_ERROR(ReduceGradients({q_optimizer_.get()}));
  step.grad_norm = q_optimizer_->Step();
  return step;
}

at::Tensor Omiga::QTot(networks::Mlp& q, networks::OmigaMixer& mixer, const at::Tensor& obs,
                       const at::Tensor& actions, const at::Tensor& state) {
  WithIds(obs);  // sizes the id cache for this batch
  const at::Tensor local = q->forward(at::cat({obs, actions, ids_}, -1)).squeeze(-1);  // [B, N]
  auto [w, b] = mixer->forward(state);
  return networks::OmigaMixerImpl::Mix(w, b, local);
}

absl::StatusOr<UpdateStats> Omiga::AwacUpdate(const TrainingBatch& batch) {
  const AwacConfig& awac = context_.config.omiga().awac();
  const double gamma = context_.config.discount();
  const at::Tensor obs = WithIds(batch.obs), next_obs = WithIds(batch.next_obs);

  // Critic: y = r + gamma (1 - d) Q_tot'(s', a'), a' ~ pi(o').
  at::Tensor y;
  {
    at::NoGradGuard no_grad;
    const at::Tensor next_actions = policy_->Sample(next_obs);
    y = batch.reward +
        gamma * (1 - batch.terminated) *
            QTot(q_target_, mixer_target_, batch.next_obs, next_actions, batch.next_state);
  }
  ASSIGN_OR_RETURN(const CriticStep critic, StepCritic(batch, y));

  // Actor: advantage-weighted log-likelihood of the batch's actions, per agent.
  at::Tensor advantage, weights;
  {
    at::NoGradGuard no_grad;
    const at::Tensor policy_actions = policy_->Sample(obs);
    const at::Tensor w = mixer_->forward(batch.state).first;
    const at::Tensor q_data =
        q_->forward(at::cat({batch.obs, batch.actions, ids_}, -1)).squeeze(-1);
    const at::Tensor q_policy =
        q_->forward(at::cat({batch.obs, policy_actions, ids_}, -1)).squeeze(-1);
    advantage = AwacAdvantages(w, q_data, q_policy);
    weights = AwacWeights(advantage, awac.lambda(), awac.max_weight());
  }
  const at::Tensor policy_loss = AwacPolicyLoss(policy_->LogProb(obs, batch.actions), weights);
  policy_optimizer_->ZeroGrad();
  policy_loss.backward();
  RETURN_IF_ERROR(ReduceGradients({policy_optimizer_.get()}));
  const double policy_grad_norm = policy_optimizer_->Step();
  PolyakUpdate(target_parameters_, online_parameters_, context_.config.target_update_rate());
  ++updates_;
  return StatsOf({{"q_loss", critic.q_loss},
                  {"policy_loss", policy_loss},
                  {"q_tot_mean", critic.q_tot.mean()},
                  {"advantage_mean", advantage.mean()},
                  {"awac_weight_mean", weights.mean()}},
                 {{"policy_grad_norm", policy_grad_norm}, {"q_grad_norm", critic.grad_norm}});
}

absl::StatusOr<UpdateStats> Omiga::ProtoUpdate(const TrainingBatch& batch) {
  const ProtoConfig& proto = context_.config.omiga().proto();
  const double gamma = context_.config.discount();
  const double kl_weight = LinearlyAnnealed(proto.kl_weight_start(), proto.kl_weight_end(),
                                            proto.kl_anneal_env_steps(), env_steps_);
  const double target_entropy = -0.5 * static_cast<double>(context_.spec.action_size());
  const at::Tensor obs = WithIds(batch.obs), next_obs = WithIds(batch.next_obs);
  const at::Tensor alpha = temperature_->log_alpha.exp().detach();

  // A reparameterised sample of pi at `inputs` with log pi and log pi - log pi_k, [B, N] each.
  auto sample = [&](const at::Tensor& inputs) {
    auto [mean, log_std] = policy_->Distribution(inputs);
    TanhGaussianSample drawn = SampleTanhGaussian(mean, log_std, at::randn_like(mean));
    at::Tensor reference_log_density;
    {
      auto [reference_mean, reference_log_std] = reference_policy_->Distribution(inputs);
      reference_log_density =
          GaussianLogDensity(drawn.pre_tanh, reference_mean.detach(), reference_log_std.detach());
    }
    const at::Tensor log_ratio =
        GaussianLogDensity(drawn.pre_tanh, mean, log_std) - reference_log_density;
    return std::make_tuple(drawn.action, drawn.log_prob, log_ratio);
  };

  // Critic: y = r + gamma (1 - d) (Q_tot'(s', a') - penalty(a')), a' ~ pi(o').
  at::Tensor y;
  {
    at::NoGradGuard no_grad;
    auto [next_actions, next_log_prob, next_log_ratio] = sample(next_obs);
    y = SoftTdTarget(batch.reward, batch.terminated, gamma,
                     QTot(q_target_, mixer_target_, batch.next_obs, next_actions, batch.next_state),
                     ProtoPenalty(next_log_prob, next_log_ratio, alpha, kl_weight));
  }
  ASSIGN_OR_RETURN(const CriticStep critic, StepCritic(batch, y));

  // Actor and temperature, through the updated critic (its gradients here are discarded).
  auto [actions, log_prob, log_ratio] = sample(obs);
  const at::Tensor q_policy = QTot(q_, mixer_, batch.obs, actions, batch.state);
  const at::Tensor policy_loss =
      (ProtoPenalty(log_prob, log_ratio, alpha, kl_weight) - q_policy).mean();
  const at::Tensor alpha_loss = TemperatureLoss(temperature_->log_alpha, log_prob, target_entropy);
  ASSIGN_OR_RETURN(const double policy_grad_norm, StepSoftActor(policy_loss, alpha_loss));
  q_optimizer_->ZeroGrad();
  PolyakUpdate(target_parameters_, online_parameters_, context_.config.target_update_rate());
  PolyakUpdate(reference_parameters_, policy_parameters_, proto.reference_update_rate());
  ++updates_;
  return StatsOf({{"q_loss", critic.q_loss},
                  {"policy_loss", policy_loss},
                  {"alpha_loss", alpha_loss},
                  {"q_tot_mean", critic.q_tot.mean()},
                  {"alpha", alpha},
                  {"entropy", -log_prob.mean()},
                  {"reference_log_ratio", log_ratio.mean()}},
                 {{"kl_weight", kl_weight},
                  {"policy_grad_norm", policy_grad_norm},
                  {"q_grad_norm", critic.grad_norm}});
}

namespace {

// Rows [begin, end) of a transition batch.
TrainingBatch Rows(const TrainingBatch& batch, int64_t begin, int64_t end) {
  TrainingBatch rows;
  rows.obs = batch.obs.slice(0, begin, end);
  rows.state = batch.state.slice(0, begin, end);
  rows.actions = batch.actions.slice(0, begin, end);
  rows.reward = batch.reward.slice(0, begin, end);
  rows.terminated = batch.terminated.slice(0, begin, end);
  rows.next_obs = batch.next_obs.slice(0, begin, end);
  rows.next_state = batch.next_state.slice(0, begin, end);
  return rows;
}

}  // namespace

absl::StatusOr<double> Omiga::StepSoftActor(const at::Tensor& policy_loss,
                                            const at::Tensor& alpha_loss) {
  policy_optimizer_->ZeroGrad();
  temperature_optimizer_->ZeroGrad();
  (policy_loss + alpha_loss).backward();
  RETURN_IF_ERROR(ReduceGradients({policy_optimizer_.get(), temperature_optimizer_.get()}));
  const double policy_grad_norm = policy_optimizer_->Step();
  temperature_optimizer_->Step();
  return policy_grad_norm;
}

void Omiga::CreateEnsemble() {
  const RlpdConfig& rlpd = context_.config.omiga().rlpd();
  const auto q_options = networks::OmigaCriticOptions(context_.spec, context_.config);
  const auto mixer_options = networks::OmigaMixerOptionsFor(context_.spec, context_.config);
  FusedAdamOptions adam;
  adam.learning_rate = context_.config.learning_rate();
  adam.max_grad_norm = context_.config.max_grad_norm();
  for (int k = 0; k < rlpd.critics(); ++k) {
    ensemble_q_.emplace_back(q_options);
    ensemble_q_target_.emplace_back(q_options);
    ensemble_mixer_.emplace_back(mixer_options);
    ensemble_mixer_target_.emplace_back(mixer_options);
    ensemble_q_[k]->to(context_.device);
    ensemble_q_target_[k]->to(context_.device);
    ensemble_mixer_[k]->to(context_.device);
    ensemble_mixer_target_[k]->to(context_.device);
    CopyParameters(*ensemble_q_[k], *ensemble_q_target_[k]);
    CopyParameters(*ensemble_mixer_[k], *ensemble_mixer_target_[k]);
    Freeze(*ensemble_q_target_[k]);
    Freeze(*ensemble_mixer_target_[k]);
    const std::vector<at::Tensor> member =
        ParametersOf({ensemble_q_[k].get(), ensemble_mixer_[k].get()});
    ensemble_optimizers_.push_back(std::make_unique<FusedAdam>(member, adam));
    ensemble_parameters_.insert(ensemble_parameters_.end(), member.begin(), member.end());
    for (const at::Tensor& p :
         ParametersOf({ensemble_q_target_[k].get(), ensemble_mixer_target_[k].get()})) {
      ensemble_target_parameters_.push_back(p);
    }
  }
  temperature_ = Temperature();
  temperature_->to(context_.device);
  {
    at::NoGradGuard no_grad;
    temperature_->log_alpha.fill_(std::log(rlpd.initial_temperature()));
  }
  FusedAdamOptions temperature = adam;
  temperature.max_grad_norm = 0;
  temperature_optimizer_ =
      std::make_unique<FusedAdam>(ParametersOf({temperature_.get()}), temperature);
}

at::Tensor Omiga::EnsembleQTot(int k, bool target, const at::Tensor& obs, const at::Tensor& actions,
                               const at::Tensor& state) {
  WithIds(obs);  // sizes the id cache for this batch
  LayerNormMlp& q = target ? ensemble_q_target_[k] : ensemble_q_[k];
  networks::OmigaMixer& mixer = target ? ensemble_mixer_target_[k] : ensemble_mixer_[k];
  const at::Tensor local = q->forward(at::cat({obs, actions, ids_}, -1)).squeeze(-1);  // [B, N]
  auto [w, b] = mixer->forward(state);
  return networks::OmigaMixerImpl::Mix(w, b, local);
}

absl::StatusOr<at::Tensor> Omiga::StepEnsemble(const TrainingBatch& batch,
                                               const at::Tensor& target) {
  at::Tensor loss = at::zeros({}, batch.reward.options());
  for (int k = 0; k < ensemble_size(); ++k) {
    loss = loss + (EnsembleQTot(k, false, batch.obs, batch.actions, batch.state) - target.detach())
                      .pow(2)
                      .mean();
  }
  for (auto& optimizer : ensemble_optimizers_) optimizer->ZeroGrad();
  loss.backward();
  if (context_.reduce_gradients) {
    std::vector<at::Tensor> gradients;
    for (const at::Tensor& p : ensemble_parameters_) gradients.push_back(p.grad());
    RETURN_IF_ERROR(context_.reduce_gradients(gradients));
  }
  for (auto& optimizer : ensemble_optimizers_) optimizer->Step();
  PolyakUpdate(ensemble_target_parameters_, ensemble_parameters_,
               context_.config.target_update_rate());
  return loss.detach();
}

absl::StatusOr<UpdateStats> Omiga::RlpdUpdate(const TrainingBatch& batch) {
  const RlpdConfig& rlpd = context_.config.omiga().rlpd();
  const int64_t rows = batch.size(), minibatches = rlpd.updates_per_batch();
  if (rows < minibatches) {
    return absl::InvalidArgumentError(absl::StrCat("algorithm.omiga.rlpd.updates_per_batch (",
                                                   minibatches, ") exceeds the batch of ", rows,
                                                   " rows: raise learner.batch_size"));
  }
  const double gamma = context_.config.discount();
  const double target_entropy = -0.5 * static_cast<double>(context_.spec.action_size());
  const int members = ensemble_size();
  const at::Tensor alpha = temperature_->log_alpha.exp().detach();

  // updates_per_batch critic steps, each on its own rows.
  TrainingBatch part;
  at::Tensor critic_loss;
  for (int64_t u = 0; u < minibatches; ++u) {
    part = Rows(batch, u * rows / minibatches, (u + 1) * rows / minibatches);
    at::Tensor y;
    {
      at::NoGradGuard no_grad;
      auto [next_actions, next_log_prob] = policy_->SampleWithLogProb(WithIds(part.next_obs));
      std::vector<at::Tensor> next_q;
      for (int k = 0; k < members; ++k) {
        next_q.push_back(EnsembleQTot(k, true, part.next_obs, next_actions, part.next_state));
      }
      const at::Tensor subset =
          at::randperm(members, at::TensorOptions().dtype(at::kLong).device(part.reward.device()))
              .slice(0, 0, rlpd.target_subset());
      y = part.reward +
          gamma * (1 - part.terminated) *
              (SubsetMinimum(at::stack(next_q), subset) - alpha * next_log_prob.sum(-1));
    }
    ASSIGN_OR_RETURN(critic_loss, StepEnsemble(part, y));
  }

  // One actor and temperature step on the last minibatch (RLPD's order), on the ensemble mean.
  auto [actions, log_prob] = policy_->SampleWithLogProb(WithIds(part.obs));
  at::Tensor q_mean = at::zeros({}, part.reward.options());
  for (int k = 0; k < members; ++k) {
    q_mean = q_mean + EnsembleQTot(k, false, part.obs, actions, part.state) / members;
  }
  const at::Tensor policy_loss = (alpha * log_prob.sum(-1) - q_mean).mean();
  const at::Tensor alpha_loss = TemperatureLoss(temperature_->log_alpha, log_prob, target_entropy);
  ASSIGN_OR_RETURN(const double policy_grad_norm, StepSoftActor(policy_loss, alpha_loss));
  for (auto& optimizer : ensemble_optimizers_) optimizer->ZeroGrad();
  ++updates_;
  return StatsOf({{"q_loss", critic_loss / members},
                  {"policy_loss", policy_loss},
                  {"alpha_loss", alpha_loss},
                  {"q_tot_mean", q_mean.mean()},
                  {"alpha", alpha},
                  {"entropy", -log_prob.mean()}},
                 {{"policy_grad_norm", policy_grad_norm}});
}

}  // namespace tandem::learner
