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
  bcq->actor_ = networks::AgentMlp(actor);
  bcq->actor_target_ = networks::AgentMlp(actor);
  CopyParameters(*bcq->actor_, *bcq->actor_target_);
  for (torch::nn::Module* m : {static_cast<torch::nn::Module*>(bcq->vae_.get()),
                               static_cast<torch::nn::Module*>(bcq->actor_.get()),
                               static_cast<torch::nn::Module*>(bcq->actor_target_.get())}) {
    m->to(context.device);
  }
  Freeze(*bcq->actor_target_);
  bcq->critics_ = TwinCritics(shapes, context.device, otc.critic_learning_rate());
  FusedAdamOptions adam;
  adam.max_grad_norm = 0;  // BCQ does not clip
  adam.learning_rate = otc.vae_learning_rate();
  bcq->vae_optimizer_ = std::make_unique<FusedAdam>(ParametersOf({bcq->vae_.get()}), adam);
  adam.learning_rate = otc.actor_learning_rate();
  bcq->actor_optimizer_ = std::make_unique<FusedAdam>(ParametersOf({bcq->actor_.get()}), adam);
  bcq->actor_target_parameters_ = ParametersOf({bcq->actor_target_.get()});
  bcq->actor_parameters_ = ParametersOf({bcq->actor_.get()});
  bcq->InitCorrector(correction, shapes.state_input);
  return bcq;
}

std::vector<std::pair<std::string, torch::nn::Module*>> DecentralizedBcq::AgentModules() {
  std::vector<std::pair<std::string, torch::nn::Module*>> modules = {
      {"vae", vae_.get()}, {"actor", actor_.get()}, {"actor_target", actor_target_.get()}};
  for (const auto& named : critics_.Modules()) modules.push_back(named);
  return modules;
}

std::vector<std::pair<std::string, torch::nn::Module*>> DecentralizedBcq::PublishedModules() {
  return {{"vae", vae_.get()}, {"actor", actor_.get()}, {"q1", &critics_.online(0)}};
}

std::vector<std::pair<std::string, FusedAdam*>> DecentralizedBcq::AgentOptimizers() {
  return {{"vae", vae_optimizer_.get()},
          {"actor", actor_optimizer_.get()},
          {"critic", critics_.optimizer()}};
}

at::Tensor DecentralizedBcq::Perturb(const at::Tensor& input, const at::Tensor& actions,
                                     bool target) {
  return networks::BcqPerturb(target ? *actor_target_ : *actor_, input, actions,
                              context_.config.otc().bcq_perturbation());
}

at::Tensor DecentralizedBcq::Act(const at::Tensor& input, int64_t candidates) {
  at::NoGradGuard no_grad;
  return networks::BcqSelect(*vae_, *actor_, critics_.online(0), input, candidates,
                             context_.config.otc().bcq_perturbation());
}

at::Tensor DecentralizedBcq::QValue(const at::Tensor& input, const at::Tensor& actions) {
  at::NoGradGuard no_grad;
  return critics_.Q(0, input, actions);
}

at::Tensor DecentralizedBcq::StateValue(const at::Tensor& input) {
  at::NoGradGuard no_grad;
  return critics_.Q(0, input, Perturb(input, vae_->Decode(input), false));
}

at::Tensor DecentralizedBcq::Target(const AgentBatch& b) {
  at::NoGradGuard no_grad;
  const OtcConfig& otc = context_.config.otc();
  const int64_t n = b.num_agents(), rows = b.size(), samples = otc.bcq_sampled_actions();
  const at::Tensor x2 = b.next_input.repeat_interleave(samples, 1);
  const at::Tensor a2 = Perturb(x2, vae_->Decode(x2), true);
  const at::Tensor q1 = critics_.TargetQ(0, x2, a2), q2 = critics_.TargetQ(1, x2, a2);
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
  const at::Tensor q1 = critics_.Q(0, b.input, b.actions), q2 = critics_.Q(1, b.input, b.actions);
  const at::Tensor critic_loss = (q1 - y).pow(2).mean() + (q2 - y).pow(2).mean();
  critics_.Step(context_, critic_loss);

  // Actor: the perturbation that maximises Q1 around the generative model's actions.
  const at::Tensor sampled = vae_->Decode(b.input).detach();
  const at::Tensor actor_loss = -critics_.Q(0, b.input, Perturb(b.input, sampled, false)).mean();
  step(*actor_optimizer_, actor_loss);
  PolyakUpdate(actor_target_parameters_, actor_parameters_, context_.config.target_update_rate());
  critics_.UpdateTargets(context_.config.target_update_rate());
  ++updates_;
  const at::Tensor stats =
      at::stack({vae_loss.detach(), critic_loss.detach(), actor_loss.detach(), q1.detach().mean()})
          .to(at::kCPU);
  const float* v = stats.data_ptr<float>();
  return {{"vae_loss", v[0]}, {"q_loss", v[1]}, {"policy_loss", v[2]}, {"q_mean", v[3]}};
}

TANDEM_REGISTER(AlgorithmRegistry, "dec_bcq", FactoryOf<DecentralizedBcq>());

}  // namespace tandem::learner::otc
