#include "learner/otc/td3_bc.h"

#include <ATen/ATen.h>
#include <torch/utils.h>

#include "absl/strings/str_cat.h"
#include "common/networks/decentralized_networks.h"
#include "common/status_macros.h"
#include "learner/module_util.h"

namespace tandem::learner::otc {

absl::StatusOr<std::unique_ptr<DecentralizedTd3Bc>> DecentralizedTd3Bc::Create(
    const AlgorithmContext& context) {
  const TransitionSpec& spec = context.spec;
  if (spec.action_type() != ACTION_TYPE_CONTINUOUS || spec.episode_steps() > 0) {
    return absl::InvalidArgumentError(
        "algorithm dec_td3_bc: needs continuous transitions (MA-MuJoCo, MPE), not discrete "
        "actions or episode items");
  }
  const OtcConfig& otc = context.config.otc();
  if (otc.td3_policy_delay() < 1 || otc.td3_policy_noise() < 0 || otc.td3_noise_clip() < 0 ||
      otc.td3_bc_alpha() < 0) {
    return absl::InvalidArgumentError(
        "algorithm.otc: td3_policy_delay must be >= 1 and td3_policy_noise, td3_noise_clip and "
        "td3_bc_alpha >= 0");
  }
  ASSIGN_OR_RETURN(const networks::BcqShapes shapes,
                   networks::Td3BcShapesFor(spec, context.config));
  ASSIGN_OR_RETURN(const CorrectorOptions correction, CorrectorOptionsFor(context, shapes));
  std::unique_ptr<DecentralizedTd3Bc> td3(new DecentralizedTd3Bc(context));
  torch::manual_seed(context.seed);
  td3->actor_ = networks::AgentMlp(networks::Td3BcActorOptions(shapes));
  td3->actor_target_ = networks::AgentMlp(networks::Td3BcActorOptions(shapes));
  CopyParameters(*td3->actor_, *td3->actor_target_);
  td3->actor_->to(context.device);
  td3->actor_target_->to(context.device);
  Freeze(*td3->actor_target_);
  td3->critics_ = TwinCritics(shapes, context.device, otc.critic_learning_rate());
  FusedAdamOptions adam;
  adam.max_grad_norm = 0;  // TD3+BC does not clip
  adam.learning_rate = otc.actor_learning_rate();
  td3->actor_optimizer_ = std::make_unique<FusedAdam>(ParametersOf({td3->actor_.get()}), adam);
  td3->actor_target_parameters_ = ParametersOf({td3->actor_target_.get()});
  td3->actor_parameters_ = ParametersOf({td3->actor_.get()});
  td3->InitCorrector(correction, shapes.state_input);
  return td3;
}

std::vector<std::pair<std::string, torch::nn::Module*>> DecentralizedTd3Bc::AgentModules() {
  std::vector<std::pair<std::string, torch::nn::Module*>> modules = {
      {"actor", actor_.get()}, {"actor_target", actor_target_.get()}};
  for (const auto& named : critics_.Modules()) modules.push_back(named);
  return modules;
}

std::vector<std::pair<std::string, torch::nn::Module*>> DecentralizedTd3Bc::PublishedModules() {
  return {{"actor", actor_.get()}, {"q1", &critics_.online(0)}};
}

std::vector<std::pair<std::string, FusedAdam*>> DecentralizedTd3Bc::AgentOptimizers() {
  return {{"actor", actor_optimizer_.get()}, {"critic", critics_.optimizer()}};
}

at::Tensor DecentralizedTd3Bc::Policy(const at::Tensor& input, bool target) {
  return at::tanh((target ? actor_target_ : actor_)->forward(input));
}

at::Tensor DecentralizedTd3Bc::QValue(const at::Tensor& input, const at::Tensor& actions) {
  at::NoGradGuard no_grad;
  return critics_.Q(0, input, actions);
}

at::Tensor DecentralizedTd3Bc::StateValue(const at::Tensor& input) {
  at::NoGradGuard no_grad;
  return critics_.Q(0, input, Policy(input, false));
}

at::Tensor DecentralizedTd3Bc::Target(const AgentBatch& b) {
  at::NoGradGuard no_grad;
  const OtcConfig& otc = context_.config.otc();
  const at::Tensor target_action = Policy(b.next_input, true);
  const at::Tensor noise = (at::randn_like(target_action) * otc.td3_policy_noise())
                               .clamp(-otc.td3_noise_clip(), otc.td3_noise_clip());
  const at::Tensor q = critics_.MinTarget(b.next_input, (target_action + noise).clamp(-1, 1));
  return b.reward + b.not_done * context_.config.discount() * q;
}

at::Tensor DecentralizedTd3Bc::ActorLoss(const AgentBatch& b) {
  const at::Tensor pi = Policy(b.input, false);
  const at::Tensor q = critics_.Q(0, b.input, pi);  // [N, B, 1]
  // lambda per agent, so that no agent's scale depends on another's values.
  const at::Tensor lambda =
      context_.config.otc().td3_bc_alpha() / q.abs().mean({1, 2}, /*keepdim=*/true).detach();
  return (-(lambda * q)).mean() + (pi - b.actions).pow(2).mean();
}

UpdateStats DecentralizedTd3Bc::UpdateOn(const AgentBatch& b) {
  const at::Tensor y = Target(b);
  const at::Tensor q1 = critics_.Q(0, b.input, b.actions), q2 = critics_.Q(1, b.input, b.actions);
  const at::Tensor critic_loss = (q1 - y).pow(2).mean() + (q2 - y).pow(2).mean();
  critics_.Step(context_, critic_loss);
  UpdateStats stats;
  if (updates_ % context_.config.otc().td3_policy_delay() == 0) {
    const at::Tensor actor_loss = ActorLoss(b);
    OptimizerStep(context_, *actor_optimizer_, actor_loss);
    PolyakUpdate(actor_target_parameters_, actor_parameters_, context_.config.target_update_rate());
    critics_.UpdateTargets(context_.config.target_update_rate());
    stats["policy_loss"] = actor_loss.item<double>();
  }
  ++updates_;
  const at::Tensor values = at::stack({critic_loss.detach(), q1.detach().mean()}).to(at::kCPU);
  stats["q_loss"] = values[0].item<double>();
  stats["q_mean"] = values[1].item<double>();
  return stats;
}

TANDEM_REGISTER(AlgorithmRegistry, "dec_td3_bc", FactoryOf<DecentralizedTd3Bc>());

}  // namespace tandem::learner::otc
