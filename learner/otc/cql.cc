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
  for (int k = 0; k < 2; ++k) {
    cql->q_[k] = networks::AgentMlp(networks::BcqCriticOptions(shapes));
    cql->q_target_[k] = networks::AgentMlp(networks::BcqCriticOptions(shapes));
    CopyParameters(*cql->q_[k], *cql->q_target_[k]);
  }
  cql->temperature_ = Temperature(std::vector<int64_t>{shapes.num_agents, 1, 1});
  for (torch::nn::Module* m : {static_cast<torch::nn::Module*>(cql->actor_.get()),
                               static_cast<torch::nn::Module*>(cql->q_[0].get()),
                               static_cast<torch::nn::Module*>(cql->q_[1].get()),
                               static_cast<torch::nn::Module*>(cql->q_target_[0].get()),
                               static_cast<torch::nn::Module*>(cql->q_target_[1].get()),
                               static_cast<torch::nn::Module*>(cql->temperature_.get())}) {
    m->to(context.device);
  }
  Freeze(*cql->q_target_[0]);
  Freeze(*cql->q_target_[1]);
  FusedAdamOptions adam;
  adam.max_grad_norm = 0;
  adam.learning_rate = otc.actor_learning_rate();
  cql->actor_optimizer_ = std::make_unique<FusedAdam>(ParametersOf({cql->actor_.get()}), adam);
  cql->temperature_optimizer_ =
      std::make_unique<FusedAdam>(ParametersOf({cql->temperature_.get()}), adam);
  adam.learning_rate = otc.critic_learning_rate();
  cql->critic_optimizer_ =
      std::make_unique<FusedAdam>(ParametersOf({cql->q_[0].get(), cql->q_[1].get()}), adam);
  cql->target_parameters_ = ParametersOf({cql->q_target_[0].get(), cql->q_target_[1].get()});
  cql->online_parameters_ = ParametersOf({cql->q_[0].get(), cql->q_[1].get()});
  cql->InitCorrector(correction, shapes.state_input);
  return cql;
}

std::vector<std::pair<std::string, torch::nn::Module*>> DecentralizedCql::AgentModules() {
  return {{"actor", actor_.get()},
          {"q1", q_[0].get()},
          {"q2", q_[1].get()},
          {"q1_target", q_target_[0].get()},
          {"q2_target", q_target_[1].get()},
          {"temperature", temperature_.get()}};
}

std::vector<std::pair<std::string, torch::nn::Module*>> DecentralizedCql::PublishedModules() {
  return {{"actor", actor_.get()}, {"q1", q_[0].get()}};
}

std::vector<std::pair<std::string, FusedAdam*>> DecentralizedCql::AgentOptimizers() {
  return {{"actor", actor_optimizer_.get()},
          {"critic", critic_optimizer_.get()},
          {"temperature", temperature_optimizer_.get()}};
}

at::Tensor DecentralizedCql::QValue(const at::Tensor& input, const at::Tensor& actions) {
  at::NoGradGuard no_grad;
  return q_[0]->forward(at::cat({input, actions}, -1));
}

at::Tensor DecentralizedCql::StateValue(const at::Tensor& input) {
  at::NoGradGuard no_grad;
  return q_[0]->forward(at::cat({input, networks::GaussianActorMode(*actor_, input)}, -1));
}

at::Tensor DecentralizedCql::Target(const AgentBatch& b) {
  at::NoGradGuard no_grad;
  const at::Tensor next = networks::SquashedGaussianSample(*actor_, b.next_input).actions;
  const at::Tensor in = at::cat({b.next_input, next}, -1);
  const at::Tensor q = at::min(q_target_[0]->forward(in), q_target_[1]->forward(in));
  return b.reward + b.not_done * context_.config.discount() * q;
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
  const at::Tensor sampled_in = at::cat({x, sampled.actions}, -1);
  const at::Tensor data_in = at::cat({b.input, b.actions}, -1);
  std::vector<at::Tensor> terms;
  for (networks::AgentMlp& q : q_) {
    const at::Tensor scores = (q->forward(sampled_in) - sampled.log_mu).view({n, m, per_row});
    terms.push_back(at::logsumexp(scores, -1, /*keepdim=*/true) - q->forward(data_in));
  }
  return terms;
}

UpdateStats DecentralizedCql::UpdateOn(const AgentBatch& b) {
  const OtcConfig& otc = context_.config.otc();
  // Actor and temperature on the current critics.
  const networks::GaussianDraw draw = networks::SquashedGaussianSample(*actor_, b.input);
  const at::Tensor alpha = temperature_->log_alpha.exp();
  at::Tensor policy_q;
  {
    const at::Tensor in = at::cat({b.input, draw.actions}, -1);
    policy_q = at::min(q_[0]->forward(in), q_[1]->forward(in));
  }
  const at::Tensor actor_loss = (alpha.detach() * draw.log_prob - policy_q).mean();
  const double target_entropy = -static_cast<double>(b.actions.size(-1));
  const at::Tensor temperature_loss =
      -(temperature_->log_alpha * (draw.log_prob.detach() + target_entropy)).mean();
  OptimizerStep(context_, *actor_optimizer_, actor_loss);
  OptimizerStep(context_, *temperature_optimizer_, temperature_loss);

  const at::Tensor y = Target(b);
  const at::Tensor in = at::cat({b.input, b.actions}, -1);
  const at::Tensor q1 = q_[0]->forward(in), q2 = q_[1]->forward(in);
  const std::vector<at::Tensor> conservative = ConservativeTerms(b, SampleActions(b));
  const at::Tensor conservative_loss = conservative[0].mean() + conservative[1].mean();
  const at::Tensor critic_loss =
      (q1 - y).pow(2).mean() + (q2 - y).pow(2).mean() + otc.cql_alpha() * conservative_loss;
  OptimizerStep(context_, *critic_optimizer_, critic_loss);
  PolyakUpdate(target_parameters_, online_parameters_, context_.config.target_update_rate());
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
