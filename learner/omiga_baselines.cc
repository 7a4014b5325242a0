// The online updates of Sim2O's AWAC-MA and PROTO-MA baselines over OMIGA's networks (the losses
// are in learner/o2o_baselines.h). Both update the critic first and the actor through the updated
// critic (CORL's and PROTO's order), and leave OMIGA's V branch untouched.
#include <ATen/ATen.h>

#include "common/networks/omiga_mixer.h"
#include "common/status_macros.h"
#include "learner/o2o_baselines.h"
#include "learner/omiga.h"

namespace tandem::learner {

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
  const at::Tensor stats =
      at::stack({critic.q_loss.detach(), policy_loss.detach(), critic.q_tot.detach().mean(),
                 advantage.mean(), weights.mean()})
          .to(at::kCPU);
  const float* values = stats.data_ptr<float>();
  return UpdateStats{{"q_loss", values[0]},
                     {"policy_loss", values[1]},
                     {"q_tot_mean", values[2]},
                     {"advantage_mean", values[3]},
                     {"awac_weight_mean", values[4]},
                     {"policy_grad_norm", policy_grad_norm},
                     {"q_grad_norm", critic.grad_norm}};
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
  policy_optimizer_->ZeroGrad();
  temperature_optimizer_->ZeroGrad();
  (policy_loss + alpha_loss).backward();
  RETURN_IF_ERROR(ReduceGradients({policy_optimizer_.get(), temperature_optimizer_.get()}));
  const double policy_grad_norm = policy_optimizer_->Step();
  temperature_optimizer_->Step();
  q_optimizer_->ZeroGrad();
  PolyakUpdate(target_parameters_, online_parameters_, context_.config.target_update_rate());
  PolyakUpdate(reference_parameters_, policy_parameters_, proto.reference_update_rate());
  ++updates_;
  const at::Tensor stats =
      at::stack({critic.q_loss.detach(), policy_loss.detach(), alpha_loss.detach(),
                 critic.q_tot.detach().mean(), alpha.squeeze(), -log_prob.detach().mean(),
                 log_ratio.detach().mean()})
          .to(at::kCPU);
  const float* values = stats.data_ptr<float>();
  return UpdateStats{{"q_loss", values[0]},
                     {"policy_loss", values[1]},
                     {"alpha_loss", values[2]},
                     {"q_tot_mean", values[3]},
                     {"alpha", values[4]},
                     {"entropy", values[5]},
                     {"reference_log_ratio", values[6]},
                     {"kl_weight", kl_weight},
                     {"policy_grad_norm", policy_grad_norm},
                     {"q_grad_norm", critic.grad_norm}};
}

}  // namespace tandem::learner
