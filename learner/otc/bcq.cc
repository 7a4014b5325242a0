#include "learner/otc/bcq.h"

#include <ATen/ATen.h>
#include <torch/utils.h>

#include "absl/strings/str_cat.h"
#include "common/networks/decentralized_networks.h"
#include "common/status_macros.h"
#include "learner/module_util.h"

namespace tandem::learner::otc {
absl::StatusOr<std::unique_ptr<DecentralizedBcq>> DecentralizedBcq::Create(
    const AlgorithmContext& context) {
  const TransitionSpec& spec = context.spec;
  if (spec.action_type() != ACTION_TYPE_CONTINUOUS || spec.episode_steps() > 0) {
    return absl::InvalidArgumentError(
        "algorithm dec_bcq: needs continuous transitions (MA-MuJoCo, MPE), not discrete actions "
        "or episode items");
  }
  const OtcConfig& otc = context.config.otc();
  if (otc.bcq_sampled_actions() < 1) {
    return absl::InvalidArgumentError(absl::StrCat(
        "algorithm.otc.bcq_sampled_actions must be >= 1, got ", otc.bcq_sampled_actions()));
  }
  ASSIGN_OR_RETURN(const networks::BcqShapes shapes, networks::BcqShapesFor(spec, context.config));
  ASSIGN_OR_RETURN(const CorrectorOptions correction, CorrectorOptionsFor(context, shapes));
  std::unique_ptr<DecentralizedBcq> bcq(new DecentralizedBcq(context));
  torch::manual_seed(context.seed);
  bcq->vae_ = networks::ConditionalVae(networks::BcqVaeOptions(shapes));
  const networks::AgentMlpOptions actor = networks::BcqActorOptions(shapes);
  const networks::AgentMlpOptions critic = networks::BcqCriticOptions(shapes);
  bcq->actor_ = networks::AgentMlp(actor);
  bcq->actor_target_ = networks::AgentMlp(actor);
  CopyParameters(*bcq->actor_, *bcq->actor_target_);
  for (int k = 0; k < 2; ++k) {
    bcq->q_[k] = networks::AgentMlp(critic);
    bcq->q_target_[k] = networks::AgentMlp(critic);
    CopyParameters(*bcq->q_[k], *bcq->q_target_[k]);
  }
  for (torch::nn::Module* m : {static_cast<torch::nn::Module*>(bcq->vae_.get()),
                               static_cast<torch::nn::Module*>(bcq->actor_.get()),
                               static_cast<torch::nn::Module*>(bcq->actor_target_.get()),
                               static_cast<torch::nn::Module*>(bcq->q_[0].get()),
                               static_cast<torch::nn::Module*>(bcq->q_[1].get()),
                               static_cast<torch::nn::Module*>(bcq->q_target_[0].get()),
                               static_cast<torch::nn::Module*>(bcq->q_target_[1].get())}) {
    m->to(context.device);
  }
  Freeze(*bcq->actor_target_);
  Freeze(*bcq->q_target_[0]);
  Freeze(*bcq->q_target_[1]);
  FusedAdamOptions adam;
  adam.max_grad_norm = 0;  // BCQ does not clip
  adam.learning_rate = otc.vae_learning_rate();
  bcq->vae_optimizer_ = std::make_unique<FusedAdam>(ParametersOf({bcq->vae_.get()}), adam);
  adam.learning_rate = otc.actor_learning_rate();
  bcq->actor_optimizer_ = std::make_unique<FusedAdam>(ParametersOf({bcq->actor_.get()}), adam);
  adam.learning_rate = otc.critic_learning_rate();
  bcq->critic_optimizer_ =
      std::make_unique<FusedAdam>(ParametersOf({bcq->q_[0].get(), bcq->q_[1].get()}), adam);
  bcq->target_parameters_ =
      ParametersOf({bcq->actor_target_.get(), bcq->q_target_[0].get(), bcq->q_target_[1].get()});
  bcq->online_parameters_ = ParametersOf({bcq->actor_.get(), bcq->q_[0].get(), bcq->q_[1].get()});
  bcq->InitCorrector(correction, shapes.state_input);
  return bcq;
}

std::vector<std::pair<std::string, torch::nn::Module*>> DecentralizedBcq::AgentModules() {
  return {{"vae", vae_.get()},
          {"actor", actor_.get()},
          {"actor_target", actor_target_.get()},
          {"q1", q_[0].get()},
          {"q2", q_[1].get()},
          {"q1_target", q_target_[0].get()},
          {"q2_target", q_target_[1].get()}};
}

std::vector<std::pair<std::string, torch::nn::Module*>> DecentralizedBcq::PublishedModules() {
  return {{"vae", vae_.get()}, {"actor", actor_.get()}, {"q1", q_[0].get()}};
}

std::vector<std::pair<std::string, FusedAdam*>> DecentralizedBcq::AgentOptimizers() {
  return {{"vae", vae_optimizer_.get()},
          {"actor", actor_optimizer_.get()},
          {"critic", critic_optimizer_.get()}};
}

at::Tensor DecentralizedBcq::Perturb(const at::Tensor& input, const at::Tensor& actions,
                                     bool target) {
  return networks::BcqPerturb(target ? *actor_target_ : *actor_, input, actions,
                              context_.config.otc().bcq_perturbation());
}

at::Tensor DecentralizedBcq::Act(const at::Tensor& input, int64_t candidates) {
  at::NoGradGuard no_grad;
  return networks::BcqSelect(*vae_, *actor_, *q_[0], input, candidates,
                             context_.config.otc().bcq_perturbation());
}

at::Tensor DecentralizedBcq::QValue(const at::Tensor& input, const at::Tensor& actions) {
  at::NoGradGuard no_grad;
  return q_[0]->forward(at::cat({input, actions}, -1));
}

at::Tensor DecentralizedBcq::StateValue(const at::Tensor& input) {
  at::NoGradGuard no_grad;
  return q_[0]->forward(at::cat({input, Perturb(input, vae_->Decode(input), false)}, -1));
}

at::Tensor DecentralizedBcq::Target(const AgentBatch& b) {
  at::NoGradGuard no_grad;
  const OtcConfig& otc = context_.config.otc();
  const int64_t n = b.num_agents(), rows = b.size(), samples = otc.bcq_sampled_actions();
  const at::Tensor x2 = b.next_input.repeat_interleave(samples, 1);
  const at::Tensor a2 = Perturb(x2, vae_->Decode(x2), true);
  const at::Tensor in2 = at::cat({x2, a2}, -1);
  const at::Tensor q1 = q_target_[0]->forward(in2), q2 = q_target_[1]->forward(in2);
  const double lambda = otc.bcq_lambda();
  const at::Tensor soft = lambda * at::min(q1, q2) + (1 - lambda) * at::max(q1, q2);
  const at::Tensor best = std::get<0>(soft.view({n, rows, samples}).max(-1)).unsqueeze(-1);
  return b.reward + b.not_done * context_.config.discount() * best;
}

UpdateStats DecentralizedBcq::UpdateOn(const AgentBatch& b) {
  auto step = [this](FusedAdam& optimizer, const at::Tensor& loss) {
    OptimizerStep(context_, optimizer, loss);
  };
  // Generative model of the data's actions.
  auto [vae_loss, reconstruction] = vae_->Loss(b.input, b.actions);
  step(*vae_optimizer_, vae_loss);

  // Critic: soft clipped double Q over n decoded, perturbed next actions.
  const at::Tensor y = Target(b);
  const at::Tensor in = at::cat({b.input, b.actions}, -1);
  const at::Tensor q1 = q_[0]->forward(in), q2 = q_[1]->forward(in);
  const at::Tensor critic_loss = (q1 - y).pow(2).mean() + (q2 - y).pow(2).mean();
  step(*critic_optimizer_, critic_loss);

  // Actor: the perturbation that maximises Q1 around the generative model's actions.
  const at::Tensor sampled = vae_->Decode(b.input).detach();
  const at::Tensor actor_loss =
      -q_[0]->forward(at::cat({b.input, Perturb(b.input, sampled, false)}, -1)).mean();
  step(*actor_optimizer_, actor_loss);
  PolyakUpdate(target_parameters_, online_parameters_, context_.config.target_update_rate());
  ++updates_;
  const at::Tensor stats =
      at::stack({vae_loss.detach(), critic_loss.detach(), actor_loss.detach(), q1.detach().mean()})
          .to(at::kCPU);
  const float* v = stats.data_ptr<float>();
  return {{"vae_loss", v[0]}, {"q_loss", v[1]}, {"policy_loss", v[2]}, {"q_mean", v[3]}};
}

TANDEM_REGISTER(AlgorithmRegistry, "dec_bcq", FactoryOf<DecentralizedBcq>());

}  // namespace tandem::learner::otc
