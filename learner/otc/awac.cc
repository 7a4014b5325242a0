#include "learner/otc/awac.h"

#include <ATen/ATen.h>
#include <torch/utils.h>

#include "common/networks/decentralized_networks.h"
#include "common/status_macros.h"
#include "learner/module_util.h"

namespace tandem::learner::otc {

absl::StatusOr<std::unique_ptr<DecentralizedAwac>> DecentralizedAwac::Create(
    const AlgorithmContext& context) {
  const TransitionSpec& spec = context.spec;
  if (spec.action_type() != ACTION_TYPE_CONTINUOUS || spec.episode_steps() > 0) {
    return absl::InvalidArgumentError(
        "algorithm dec_awac: needs continuous transitions (MA-MuJoCo, MPE), not discrete "
        "actions or episode items");
  }
  const OtcConfig& otc = context.config.otc();
  if (!(otc.awac_lambda() > 0) || !(otc.awac_max_weight() > 0)) {
    return absl::InvalidArgumentError("algorithm.otc: awac_lambda and awac_max_weight must be > 0");
  }
  ASSIGN_OR_RETURN(const networks::BcqShapes shapes,
                   networks::BcqShapesFor(spec, context.config));  // Table 3: 64, 64
  ASSIGN_OR_RETURN(const CorrectorOptions correction, CorrectorOptionsFor(context, shapes));
  std::unique_ptr<DecentralizedAwac> awac(new DecentralizedAwac(context));
  torch::manual_seed(context.seed);
  awac->actor_ = networks::AgentMlp(networks::GaussianActorOptions(shapes));
  awac->actor_->to(context.device);
  awac->critics_ = TwinCritics(shapes, context.device, otc.critic_learning_rate());
  FusedAdamOptions adam;
  adam.max_grad_norm = 0;
  adam.learning_rate = otc.actor_learning_rate();
  awac->actor_optimizer_ = std::make_unique<FusedAdam>(ParametersOf({awac->actor_.get()}), adam);
  awac->InitCorrector(correction, shapes.state_input);
  return awac;
}

std::vector<std::pair<std::string, torch::nn::Module*>> DecentralizedAwac::AgentModules() {
  std::vector<std::pair<std::string, torch::nn::Module*>> modules = {{"actor", actor_.get()}};
  for (const auto& named : critics_.Modules()) modules.push_back(named);
  return modules;
}

std::vector<std::pair<std::string, torch::nn::Module*>> DecentralizedAwac::PublishedModules() {
  return {{"actor", actor_.get()}, {"q1", &critics_.online(0)}};
}

std::vector<std::pair<std::string, FusedAdam*>> DecentralizedAwac::AgentOptimizers() {
  return {{"actor", actor_optimizer_.get()}, {"critic", critics_.optimizer()}};
}

at::Tensor DecentralizedAwac::MinQ(const at::Tensor& input, const at::Tensor& actions,
                                   bool target) {
  at::NoGradGuard no_grad;
  return target ? critics_.MinTarget(input, actions) : critics_.Min(input, actions);
}

at::Tensor DecentralizedAwac::QValue(const at::Tensor& input, const at::Tensor& actions) {
  at::NoGradGuard no_grad;
  return critics_.Q(0, input, actions);
}

at::Tensor DecentralizedAwac::StateValue(const at::Tensor& input) {
  at::NoGradGuard no_grad;
  return critics_.Q(0, input, networks::GaussianActorMode(*actor_, input));
}

at::Tensor DecentralizedAwac::Target(const AgentBatch& b) {
  at::NoGradGuard no_grad;
  const at::Tensor next = networks::AwacSample(*actor_, b.next_input);
  return b.reward + b.not_done * context_.config.discount() * MinQ(b.next_input, next, true);
}

at::Tensor DecentralizedAwac::Weights(const AgentBatch& b) {
  at::NoGradGuard no_grad;
  const OtcConfig& otc = context_.config.otc();
  const at::Tensor advantage = MinQ(b.input, b.actions, false) -
                               MinQ(b.input, networks::AwacSample(*actor_, b.input), false);
  return at::exp(advantage / otc.awac_lambda()).clamp_max(otc.awac_max_weight());
}

UpdateStats DecentralizedAwac::UpdateOn(const AgentBatch& b) {
  const at::Tensor y = Target(b);
  const at::Tensor q1 = critics_.Q(0, b.input, b.actions), q2 = critics_.Q(1, b.input, b.actions);
  const at::Tensor critic_loss = (q1 - y).pow(2).mean() + (q2 - y).pow(2).mean();
  critics_.Step(context_, critic_loss);
  // The weights with the updated critics, as AWAC does.
  const at::Tensor weights = Weights(b);
  const at::Tensor actor_loss =
      -(weights * networks::AwacLogProb(*actor_, b.input, b.actions)).mean();
  OptimizerStep(context_, *actor_optimizer_, actor_loss);
  critics_.UpdateTargets(context_.config.target_update_rate());
  ++updates_;
  const at::Tensor values =
      at::stack({critic_loss.detach(), q1.detach().mean(), actor_loss.detach(), weights.mean()})
          .to(at::kCPU);
  return {{"q_loss", values[0].item<double>()},
          {"q_mean", values[1].item<double>()},
          {"policy_loss", values[2].item<double>()},
          {"awac_weight_mean", values[3].item<double>()}};
}

TANDEM_REGISTER(AlgorithmRegistry, "dec_awac", FactoryOf<DecentralizedAwac>());

}  // namespace tandem::learner::otc
