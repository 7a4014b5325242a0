#include "common/networks/decentralized_networks.h"

#include <ATen/ATen.h>

#include "absl/strings/str_cat.h"

namespace tandem::networks {

absl::StatusOr<BcqShapes> BcqShapesFor(const TransitionSpec& spec,
                                       const AlgorithmConfig& algorithm) {
  return DecentralizedShapesFor(spec, algorithm, {64, 64});  // Table 3, BCQ and AWAC
}

absl::StatusOr<BcqShapes> Td3BcShapesFor(const TransitionSpec& spec,
                                         const AlgorithmConfig& algorithm) {
  return DecentralizedShapesFor(spec, algorithm, {256, 256});  // Table 3, CQL and TD3+BC
}

absl::StatusOr<BcqShapes> DecentralizedShapesFor(const TransitionSpec& spec,
                                                 const AlgorithmConfig& algorithm,
                                                 std::vector<int64_t> default_hidden) {
  const OtcConfig& otc = algorithm.otc();
  BcqShapes shapes;
  if (otc.agent_input() == "state") {
    shapes.state_input = true;
  } else if (otc.agent_input() == "observation") {
    shapes.state_input = false;
  } else {
    return absl::InvalidArgumentError(
        absl::StrCat("algorithm.otc.agent_input must be \"state\" or \"observation\", got \"",
                     otc.agent_input(), "\""));
  }
  for (int size : otc.hidden_sizes()) {
    if (size < 1) {
      return absl::InvalidArgumentError(
          absl::StrCat("algorithm.otc.hidden_sizes must be >= 1, got ", size));
    }
  }
  shapes.num_agents = spec.num_agents();
  shapes.input_size = shapes.state_input ? spec.state_size() : spec.obs_size();
  shapes.action_size = spec.action_size();
  shapes.hidden_sizes =
      otc.hidden_sizes().empty()
          ? std::move(default_hidden)
          : std::vector<int64_t>(otc.hidden_sizes().begin(), otc.hidden_sizes().end());
  return shapes;
}

ConditionalVaeOptions BcqVaeOptions(const BcqShapes& s) {
  return {s.num_agents, s.input_size, s.action_size, 2 * s.action_size, s.hidden_sizes};
}

AgentMlpOptions BcqActorOptions(const BcqShapes& s) {
  return {s.num_agents, s.input_size + s.action_size, s.hidden_sizes, s.action_size};
}

AgentMlpOptions BcqCriticOptions(const BcqShapes& s) {
  return {s.num_agents, s.input_size + s.action_size, s.hidden_sizes, 1};
}

AgentMlpOptions Td3BcActorOptions(const BcqShapes& s) {
  return {s.num_agents, s.input_size, s.hidden_sizes, s.action_size};
}

AgentMlpOptions GaussianActorOptions(const BcqShapes& s) {
  return {s.num_agents, s.input_size, s.hidden_sizes, 2 * s.action_size};
}

at::Tensor GaussianActorMode(AgentMlpImpl& actor, const at::Tensor& input) {
  const at::Tensor out = actor.forward(input);
  return at::tanh(out.narrow(-1, 0, out.size(-1) / 2));
}

namespace {

constexpr double kLogSqrtTwoPi = 0.91893853320467274178;

// log N(x; mean, std) summed over the last dimension, keepdim.
at::Tensor NormalLogProb(const at::Tensor& x, const at::Tensor& mean, const at::Tensor& log_std) {
  return (-0.5 * ((x - mean) * at::exp(-log_std)).pow(2) - log_std - kLogSqrtTwoPi)
      .sum(-1, /*keepdim=*/true);
}

}  // namespace

at::Tensor AwacLogProb(AgentMlpImpl& actor, const at::Tensor& input, const at::Tensor& actions) {
  const at::Tensor out = actor.forward(input);
  const int64_t a = out.size(-1) / 2;
  return NormalLogProb(actions, at::tanh(out.narrow(-1, 0, a)), out.narrow(-1, a, a).clamp(-6, 0));
}

at::Tensor AwacSample(AgentMlpImpl& actor, const at::Tensor& input) {
  const at::Tensor out = actor.forward(input);
  const int64_t a = out.size(-1) / 2;
  const at::Tensor mean = at::tanh(out.narrow(-1, 0, a));
  const at::Tensor std = at::exp(out.narrow(-1, a, a).clamp(-6, 0));
  return (mean + std * at::randn_like(mean)).clamp(-1, 1);
}

GaussianDraw SquashedGaussianSample(AgentMlpImpl& actor, const at::Tensor& input) {
  const at::Tensor out = actor.forward(input);
  const int64_t a = out.size(-1) / 2;
  const at::Tensor mean = out.narrow(-1, 0, a);
  const at::Tensor log_std = out.narrow(-1, a, a).clamp(-20, 2);
  const at::Tensor u = mean + at::exp(log_std) * at::randn_like(mean);
  const at::Tensor action = at::tanh(u);
  // log pi(tanh u) = log N(u) - sum log(1 - tanh(u)^2), the latter as 2 (log 2 - u -
  // softplus(-2u)).
  const at::Tensor correction =
      (2 * (std::log(2.0) - u - at::softplus(-2 * u))).sum(-1, /*keepdim=*/true);
  return {action, NormalLogProb(u, mean, log_std) - correction};
}

at::Tensor BcqPerturb(AgentMlpImpl& actor, const at::Tensor& input, const at::Tensor& actions,
                      double phi) {
  return (actions + phi * at::tanh(actor.forward(at::cat({input, actions}, -1)))).clamp(-1, 1);
}

at::Tensor BcqSelect(ConditionalVaeImpl& vae, AgentMlpImpl& actor, AgentMlpImpl& q1,
                     const at::Tensor& input, int64_t candidates, double phi,
                     std::optional<at::Generator> generator) {
  const int64_t n = input.size(0), m = input.size(1);
  const at::Tensor x = input.repeat_interleave(candidates, 1);
  const at::Tensor actions = BcqPerturb(actor, x, vae.Decode(x, {}, generator), phi);
  const at::Tensor q = q1.forward(at::cat({x, actions}, -1)).view({n, m, candidates});
  const at::Tensor per_row = actions.view({n, m, candidates, -1});
  const at::Tensor index = q.argmax(-1).view({n, m, 1, 1}).expand({n, m, 1, per_row.size(3)});
  return per_row.gather(2, index).squeeze(2);
}

}  // namespace tandem::networks
