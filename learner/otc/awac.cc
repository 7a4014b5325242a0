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
  for (int k = 0; k < 2; ++k) {
    awac->q_[k] = networks::AgentMlp(networks::BcqCriticOptions(shapes));
    awac->q_target_[k] = networks::AgentMlp(networks::BcqCriticOptions(shapes));
    CopyParameters(*awac->q_[k], *awac->q_target_[k]);
  }
  for (networks::AgentMlp* m :
       {&awac->actor_, &awac->q_[0], &awac->q_[1], &awac->q_target_[0], &awac->q_target_[1]}) {
    (*m)->to(context.device);
  }
  Freeze(*awac->q_target_[0]);
  Freeze(*awac->q_target_[1]);
  FusedAdamOptions adam;
  adam.max_grad_norm = 0;
  adam.learning_rate = otc.actor_learning_rate();
  awac->actor_optimizer_ = std::make_unique<FusedAdam>(ParametersOf({awac->actor_.get()}), adam);
  adam.learning_rate = otc.critic_learning_rate();
  awac->critic_optimizer_ =
      std::make_unique<FusedAdam>(ParametersOf({awac->q_[0].get(), awac->q_[1].get()}), adam);
  awac->target_parameters_ = ParametersOf({awac->q_target_[0].get(), awac->q_target_[1].get()});
  awac->online_parameters_ = ParametersOf({awac->q_[0].get(), awac->q_[1].get()});
  awac->InitCorrector(correction, shapes.state_input);
  return awac;
}

std::vector<std::pair<std::string, torch::nn::Module*>> DecentralizedAwac::AgentModules() {
  return {{"actor", actor_.get()},
          {"q1", q_[0].get()},
          {"q2", q_[1].get()},
          {"q1_target", q_target_[0].get()},
          {"q2_target", q_target_[1].get()}};
}

std::vector<std::pair<std::string, torch::nn::Module*>> DecentralizedAwac::PublishedModules() {
  return {{"actor", actor_.get()}, {"q1", q_[0].get()}};
}

std::vector<std::pair<std::string, FusedAdam*>> DecentralizedAwac::AgentOptimizers() {
  return {{"actor", actor_optimizer_.get()}, {"critic", critic_optimizer_.get()}};
}

at::Tensor DecentralizedAwac::MinQ(const at::Tensor& input, const at::Tensor& actions,
                                   bool target) {
  at::NoGradGuard no_grad;
  const at::Tensor in = at::cat({input, actions}, -1);
  networks::AgentMlp* q = target ? q_target_ : q_;
  return at::min(q[0]->forward(in), q[1]->forward(in));
}

at::Tensor DecentralizedAwac::QValue(const at::Tensor& input, const at::Tensor& actions) {
  at::NoGradGuard no_grad;
  return q_[0]->forward(at::cat({input, actions}, -1));
}

at::Tensor DecentralizedAwac::StateValue(const at::Tensor& input) {
  at::NoGradGuard no_grad;
  return q_[0]->forward(at::cat({input, networks::GaussianActorMode(*actor_, input)}, -1));
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
  const at::Tensor in = at::cat({b.input, b.actions}, -1);
  const at::Tensor q1 = q_[0]->forward(in), q2 = q_[1]->forward(in);
  const at::Tensor critic_loss = (q1 - y).pow(2).mean() + (q2 - y).pow(2).mean();
  OptimizerStep(context_, *critic_optimizer_, critic_loss);
  // The weights with the updated critics, as AWAC does.
  const at::Tensor weights = Weights(b);
  const at::Tensor actor_loss =
      -(weights * networks::AwacLogProb(*actor_, b.input, b.actions)).mean();
  OptimizerStep(context_, *actor_optimizer_, actor_loss);
  PolyakUpdate(target_parameters_, online_parameters_, context_.config.target_update_rate());
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
