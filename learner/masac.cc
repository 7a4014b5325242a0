#include "learner/masac.h"

#include <ATen/ATen.h>
#include <torch/utils.h>

#include "common/networks/architectures.h"
#include "common/status_macros.h"
#include "learner/module_util.h"

namespace tandem::learner {

absl::StatusOr<std::unique_ptr<Masac>> Masac::Create(const AlgorithmContext& context) {
  const TransitionSpec& spec = context.spec;
  if (spec.action_type() != ACTION_TYPE_CONTINUOUS) {
    return absl::InvalidArgumentError(
        "algorithm masac: needs continuous actions (MA-MuJoCo); this spec is discrete");
  }
  std::unique_ptr<Masac> masac(new Masac(context));
  const int64_t n = spec.num_agents(), a = spec.action_size();
  masac->num_agents_ = n;
  masac->target_entropy_ = -static_cast<double>(n * a);
  torch::manual_seed(context.seed);
  masac->policy_ = networks::TanhGaussianPolicy(networks::OmigaPolicyOptions(spec, context.config));
  const auto q_options = networks::OmigaCriticOptions(spec, context.config);
  const auto mixer_options = networks::OmigaMixerOptionsFor(spec, context.config);
  for (int k = 0; k < 2; ++k) {
    masac->q_[k] = networks::Mlp(q_options);
    masac->q_target_[k] = networks::Mlp(q_options);
    masac->mixer_[k] = networks::OmigaMixer(mixer_options);
    masac->mixer_target_[k] = networks::OmigaMixer(mixer_options);
    CopyParameters(*masac->q_[k], *masac->q_target_[k]);
    CopyParameters(*masac->mixer_[k], *masac->mixer_target_[k]);
  }
  masac->temperature_ = Temperature();
  for (auto& [name, module] : masac->Modules()) module->to(context.device);
  for (int k = 0; k < 2; ++k) {
    Freeze(*masac->q_target_[k]);
    Freeze(*masac->mixer_target_[k]);
  }
  FusedAdamOptions adam;
  adam.learning_rate = context.config.learning_rate();
  adam.max_grad_norm = context.config.max_grad_norm();
  masac->policy_optimizer_ =
      std::make_unique<FusedAdam>(ParametersOf({masac->policy_.get()}), adam);
  masac->critic_optimizer_ =
      std::make_unique<FusedAdam>(ParametersOf({masac->q_[0].get(), masac->mixer_[0].get(),
                                                masac->q_[1].get(), masac->mixer_[1].get()}),
                                  adam);
  FusedAdamOptions temperature = adam;
  temperature.max_grad_norm = 0;
  masac->alpha_optimizer_ =
      std::make_unique<FusedAdam>(ParametersOf({masac->temperature_.get()}), temperature);
  masac->target_parameters_ =
      ParametersOf({masac->q_target_[0].get(), masac->mixer_target_[0].get(),
                    masac->q_target_[1].get(), masac->mixer_target_[1].get()});
  masac->online_parameters_ = ParametersOf(
      {masac->q_[0].get(), masac->mixer_[0].get(), masac->q_[1].get(), masac->mixer_[1].get()});
  return masac;
}

std::vector<std::pair<std::string, torch::nn::Module*>> Masac::Modules() {
  return {{"policy", policy_.get()},
          {"q", q_[0].get()},
          {"mixer", mixer_[0].get()},
          {"q2", q_[1].get()},
          {"mixer2", mixer_[1].get()},
          {"q_target", q_target_[0].get()},
          {"mixer_target", mixer_target_[0].get()},
          {"q2_target", q_target_[1].get()},
          {"mixer2_target", mixer_target_[1].get()},
          {"temperature", temperature_.get()}};
}

std::vector<std::pair<std::string, torch::nn::Module*>> Masac::PublishedModules() {
  return {{"policy", policy_.get()}, {"q", q_[0].get()}, {"mixer", mixer_[0].get()}};
}

double Masac::alpha() const { return temperature_->log_alpha.exp().item<double>(); }

at::Tensor Masac::Ids(int64_t batch, const at::Tensor& like) {
  if (!ids_.defined() || ids_.size(0) != batch || ids_.device() != like.device()) {
    ids_ = at::eye(num_agents_, like.options())
               .unsqueeze(0)
               .expand({batch, num_agents_, num_agents_})
               .contiguous();
  }
  return ids_;
}

at::Tensor Masac::QTot(int k, bool target, const at::Tensor& obs, const at::Tensor& actions,
                       const at::Tensor& state) {
  const at::Tensor ids = Ids(obs.size(0), obs);
  networks::Mlp& q = target ? q_target_[k] : q_[k];
  networks::OmigaMixer& mixer = target ? mixer_target_[k] : mixer_[k];
  const at::Tensor local = q->forward(at::cat({obs, actions, ids}, -1)).squeeze(-1);  // [B, N]
  auto [w, b] = mixer->forward(state);
  return networks::OmigaMixerImpl::Mix(w, b, local);
}

at::Tensor Masac::Target(const TrainingBatch& batch) {
  at::NoGradGuard no_grad;
  const at::Tensor next_input =
      at::cat({batch.next_obs, Ids(batch.size(), batch.next_obs)}, -1);  // [B, N, O + N]
  auto [next_actions, next_log_prob_per_agent] = policy_->SampleWithLogProb(next_input);
  const at::Tensor next_log_prob = next_log_prob_per_agent.sum(-1);  // [B]
  const at::Tensor next_q = at::min(QTot(0, true, batch.next_obs, next_actions, batch.next_state),
                                    QTot(1, true, batch.next_obs, next_actions, batch.next_state));
  const double gamma = context_.config.discount();
  return batch.reward +
         gamma * (1 - batch.terminated) * (next_q - temperature_->log_alpha.exp() * next_log_prob);
}

absl::StatusOr<UpdateStats> Masac::Update(const TrainingBatch& batch) {
  // Critic.
  const at::Tensor y = Target(batch);
  const at::Tensor q1 = QTot(0, false, batch.obs, batch.actions, batch.state);
  const at::Tensor q2 = QTot(1, false, batch.obs, batch.actions, batch.state);
  const at::Tensor critic_loss = (q1 - y).pow(2).mean() + (q2 - y).pow(2).mean();
  critic_optimizer_->ZeroGrad();
  critic_loss.backward();
  if (context_.reduce_gradients) {
    std::vector<at::Tensor> gradients;
    for (const at::Tensor& p : critic_optimizer_->parameters()) gradients.push_back(p.grad());
    RETURN_IF_ERROR(context_.reduce_gradients(gradients));
  }
  critic_optimizer_->Step();

  // Policy and temperature, through the updated critics (their gradients are discarded).
  const at::Tensor input = at::cat({batch.obs, Ids(batch.size(), batch.obs)}, -1);
  auto [actions, log_prob_per_agent] = policy_->SampleWithLogProb(input);
  const at::Tensor log_prob = log_prob_per_agent.sum(-1);  // [B]
  const at::Tensor q_new = at::min(QTot(0, false, batch.obs, actions, batch.state),
                                   QTot(1, false, batch.obs, actions, batch.state));
  const at::Tensor alpha = temperature_->log_alpha.exp().detach();
  const at::Tensor policy_loss = (alpha * log_prob - q_new).mean();
  const at::Tensor alpha_loss =
      -(temperature_->log_alpha * (log_prob.detach() + target_entropy_)).mean();
  policy_optimizer_->ZeroGrad();
  alpha_optimizer_->ZeroGrad();
  (policy_loss + alpha_loss).backward();
  if (context_.reduce_gradients) {
    std::vector<at::Tensor> gradients;
    for (FusedAdam* optimizer : {policy_optimizer_.get(), alpha_optimizer_.get()}) {
      for (const at::Tensor& p : optimizer->parameters()) gradients.push_back(p.grad());
    }
    RETURN_IF_ERROR(context_.reduce_gradients(gradients));
  }
  policy_optimizer_->Step();
  alpha_optimizer_->Step();
  PolyakUpdate(target_parameters_, online_parameters_, context_.config.target_update_rate());
  ++updates_;
  const at::Tensor stats =
      at::stack({critic_loss.detach(), policy_loss.detach(), alpha_loss.detach(),
                 q1.detach().mean(), temperature_->log_alpha.detach().exp().squeeze(),
                 -log_prob.detach().mean()})
          .to(at::kCPU);
  const float* values = stats.data_ptr<float>();
  return UpdateStats{{"q_loss", values[0]},     {"policy_loss", values[1]},
                     {"alpha_loss", values[2]}, {"q_tot_mean", values[3]},
                     {"alpha", values[4]},      {"entropy", values[5]}};
}

TANDEM_REGISTER(AlgorithmRegistry, "masac", FactoryOf<Masac>());

}  // namespace tandem::learner
