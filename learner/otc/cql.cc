#include "learner/otc/cql.h"

#include <ATen/ATen.h>
#include <torch/utils.h>

#include <cmath>

#include "common/networks/decentralized_networks.h"
#include "common/status_macros.h"

namespace tandem::learner::otc {

absl::StatusOr<std::unique_ptr<DecentralizedCql>> DecentralizedCql::Create(
    const AlgorithmContext& context) {
  const TransitionSpec& spec = context.spec;
  if (spec.action_type() != ACTION_TYPE_CONTINUOUS || spec.episode_steps() > 0) {
    return absl::InvalidArgumentError(
        "algorithm dec_cql: needs continuous transitions (MA-MuJoCo, MPE), not discrete actions "
        "or episode items");
  }
  const OtcConfig& otc = context.config.otc();
  if (!(otc.cql_alpha() >= 0) || otc.cql_sampled_actions() < 1) {
    return absl::InvalidArgumentError(
        "algorithm.otc: cql_alpha must be >= 0 and cql_sampled_actions >= 1");
  }
  ASSIGN_OR_RETURN(const networks::BcqShapes shapes,
                   networks::Td3BcShapesFor(spec, context.config));  // Table 3: 256, 256
  ASSIGN_OR_RETURN(const CorrectorOptions correction, CorrectorOptionsFor(context, shapes));
  std::unique_ptr<DecentralizedCql> cql(new DecentralizedCql(context));
  torch::manual_seed(context.seed);
  cql->actor_ = networks::AgentMlp(networks::GaussianActorOptions(shapes));
  cql->actor_->to(context.device);
  cql->critics_ = TwinCritics(shapes, context.device, otc.critic_learning_rate());
  cql->temperature_ = Temperature(std::vector<int64_t>{shapes.num_agents, 1, 1});
  cql->temperature_->to(context.device);
  FusedAdamOptions adam;
  adam.max_grad_norm = 0;
  adam.learning_rate = otc.actor_learning_rate();
  cql->actor_optimizer_ = std::make_unique<FusedAdam>(ParametersOf({cql->actor_.get()}), adam);
  cql->temperature_optimizer_ =
      std::make_unique<FusedAdam>(ParametersOf({cql->temperature_.get()}), adam);
  cql->InitCorrector(correction, shapes.state_input);
  return cql;
}

std::vector<std::pair<std::string, torch::nn::Module*>> DecentralizedCql::AgentModules() {
  std::vector<std::pair<std::string, torch::nn::Module*>> modules = {{"actor", actor_.get()}};
  for (const auto& named : critics_.Modules()) modules.push_back(named);
  modules.push_back({"temperature", temperature_.get()});
  return modules;
}

std::vector<std::pair<std::string, torch::nn::Module*>> DecentralizedCql::PublishedModules() {
  return {{"actor", actor_.get()}, {"q1", &critics_.online(0)}};
}

std::vector<std::pair<std::string, FusedAdam*>> DecentralizedCql::AgentOptimizers() {
  return {{"actor", actor_optimizer_.get()},
          {"critic", critics_.optimizer()},
          {"temperature", temperature_optimizer_.get()}};
}

at::Tensor DecentralizedCql::QValue(const at::Tensor& input, const at::Tensor& actions) {
  at::NoGradGuard no_grad;
  return critics_.Q(0, input, actions);
}

at::Tensor DecentralizedCql::StateValue(const at::Tensor& input) {
  at::NoGradGuard no_grad;
  return critics_.Q(0, input, networks::GaussianActorMode(*actor_, input));
}

at::Tensor DecentralizedCql::Target(const AgentBatch& b) {
  at::NoGradGuard no_grad;
  const at::Tensor next = networks::SquashedGaussianSample(*actor_, b.next_input).actions;
  return b.reward +
         b.not_done * context_.config.discount() * critics_.MinTarget(b.next_input, next);
}

DecentralizedCql::Sampled DecentralizedCql::SampleActions(const AgentBatch& b) {
  at::NoGradGuard no_grad;
  const int64_t k = context_.config.otc().cql_sampled_actions();
  const int64_t n = b.num_agents(), m = b.size(), a = b.actions.size(-1);
  const at::Tensor uniform = at::rand({n, m * k, a}, b.actions.options()) * 2 - 1;
  const at::Tensor log_uniform = at::full({n, m * k, 1}, -a * std::log(2.0), b.actions.options());
  const networks::GaussianDraw current =
      networks::SquashedGaussianSample(*actor_, b.input.repeat_interleave(k, 1));
  const networks::GaussianDraw next =
      networks::SquashedGaussianSample(*actor_, b.next_input.repeat_interleave(k, 1));
  // Row-major per transition: [uniform k | current k | next k].
  auto per_row = [&](const at::Tensor& t) { return t.view({n, m, k, t.size(-1)}); };
  const at::Tensor actions =
      at::cat({per_row(uniform), per_row(current.actions), per_row(next.actions)}, 2)
          .view({n, m * 3 * k, a});
  const at::Tensor log_mu =
      at::cat({per_row(log_uniform), per_row(current.log_prob), per_row(next.log_prob)}, 2)
          .view({n, m * 3 * k, 1});
  return {actions, log_mu};
}

std::vector<at::Tensor> DecentralizedCql::ConservativeTerms(const AgentBatch& b,
                                                            const Sampled& sampled) {
  const int64_t n = b.num_agents(), m = b.size();
  const int64_t per_row = sampled.actions.size(1) / m;
  const at::Tensor x = b.input.repeat_interleave(per_row, 1);
  std::vector<at::Tensor> terms;
  for (int j = 0; j < 2; ++j) {
    const at::Tensor scores =
        (critics_.Q(j, x, sampled.actions) - sampled.log_mu).view({n, m, per_row});
    terms.push_back(at::logsumexp(scores, -1, /*keepdim=*/true) -
                    critics_.Q(j, b.input, b.actions));
  }
  return terms;
}

UpdateStats DecentralizedCql::UpdateOn(const AgentBatch& b) {
  const OtcConfig& otc = context_.config.otc();
  // Actor and temperature on the current critics.
  const networks::GaussianDraw draw = networks::SquashedGaussianSample(*actor_, b.input);
  const at::Tensor alpha = temperature_->log_alpha.exp();
  const at::Tensor policy_q = critics_.Min(b.input, draw.actions);
  const at::Tensor actor_loss = (alpha.detach() * draw.log_prob - policy_q).mean();
  const double target_entropy = -static_cast<double>(b.actions.size(-1));
  const at::Tensor temperature_loss =
      -(temperature_->log_alpha * (draw.log_prob.detach() + target_entropy)).mean();
  OptimizerStep(context_, *actor_optimizer_, actor_loss);
  OptimizerStep(context_, *temperature_optimizer_, temperature_loss);

  const at::Tensor y = Target(b);
  const at::Tensor q1 = critics_.Q(0, b.input, b.actions), q2 = critics_.Q(1, b.input, b.actions);
  const std::vector<at::Tensor> conservative = ConservativeTerms(b, SampleActions(b));
  const at::Tensor conservative_loss = conservative[0].mean() + conservative[1].mean();
  const at::Tensor critic_loss =
      (q1 - y).pow(2).mean() + (q2 - y).pow(2).mean() + otc.cql_alpha() * conservative_loss;
  critics_.Step(context_, critic_loss);
  critics_.UpdateTargets(context_.config.target_update_rate());
  ++updates_;
  const at::Tensor values =
      at::stack({critic_loss.detach(), q1.detach().mean(), actor_loss.detach(),
                 conservative_loss.detach(), alpha.detach().mean()})
          .to(at::kCPU);
  return {{"q_loss", values[0].item<double>()},
          {"q_mean", values[1].item<double>()},
          {"policy_loss", values[2].item<double>()},
          {"cql_term", values[3].item<double>()},
          {"alpha", values[4].item<double>()}};
}

TANDEM_REGISTER(AlgorithmRegistry, "dec_cql", FactoryOf<DecentralizedCql>());

}  // namespace tandem::learner::otc
