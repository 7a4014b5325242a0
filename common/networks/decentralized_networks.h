// The per-agent networks of OTC's decentralized agents (learner/otc/: BCQ, TD3+BC, AWAC and CQL),
// shaped in one place for the learner that trains them and the actors that act with them, and the
// shared computations: BCQ's perturbation a + Phi tanh(xi(x, a)) and action selection (decode
// candidates, perturb, keep the one with the highest Q1), TD3+BC's deterministic actor, and the
// Gaussian actors of AWAC and CQL. Every tensor is agent-major: [N, M, ...].
#ifndef TANDEM_COMMON_NETWORKS_DECENTRALIZED_NETWORKS_H_
#define TANDEM_COMMON_NETWORKS_DECENTRALIZED_NETWORKS_H_

#include <ATen/core/Generator.h>
#include <ATen/core/Tensor.h>

#include <optional>
#include <vector>

#include "absl/status/statusor.h"
#include "common/networks/agent_mlp.h"
#include "common/networks/conditional_vae.h"
#include "proto/config.pb.h"
#include "proto/transition.pb.h"

namespace tandem::networks {

struct BcqShapes {
  int64_t num_agents = 0;
  // x_i: the state or the agent's observation (algorithm.otc.agent_input).
  bool state_input = true;
  int64_t input_size = 0;
  int64_t action_size = 0;
  std::vector<int64_t> hidden_sizes;
};

// INVALID_ARGUMENT for an agent_input other than "state" or "observation"; hidden sizes from
// algorithm.otc.hidden_sizes, else `default_hidden` (Table 3's per algorithm).
absl::StatusOr<BcqShapes> DecentralizedShapesFor(const TransitionSpec& spec,
                                                 const AlgorithmConfig& algorithm,
                                                 std::vector<int64_t> default_hidden);
// BCQ's (hidden 64, 64) and TD3+BC's (256, 256).
absl::StatusOr<BcqShapes> BcqShapesFor(const TransitionSpec& spec,
                                       const AlgorithmConfig& algorithm);
absl::StatusOr<BcqShapes> Td3BcShapesFor(const TransitionSpec& spec,
                                         const AlgorithmConfig& algorithm);
// The generative model G(a_i | x) (latent 2 |a_i|), the perturbation xi(x, a) and a critic Q(x, a).
ConditionalVaeOptions BcqVaeOptions(const BcqShapes& shapes);
AgentMlpOptions BcqActorOptions(const BcqShapes& shapes);
AgentMlpOptions BcqCriticOptions(const BcqShapes& shapes);
// TD3+BC's deterministic actor pi(x) (tanh of its output).
AgentMlpOptions Td3BcActorOptions(const BcqShapes& shapes);
// AWAC's and CQL's Gaussian actor: [mean, log std] per action dimension, 2 |a_i| outputs. Both
// act deterministically with tanh(mean) (OTC's deployments exploit without exploring).
AgentMlpOptions GaussianActorOptions(const BcqShapes& shapes);
at::Tensor GaussianActorMode(AgentMlpImpl& actor, const at::Tensor& input);

// AWAC's policy: N(tanh(mean), exp(clamp(log std, -6, 0))^2), unsquashed, so the data's actions
// have a finite likelihood even at the action bounds. Sample: clamped to [-1, 1].
struct GaussianDraw {
  at::Tensor actions;   // [N, M, A]
  at::Tensor log_prob;  // [N, M, 1]
};
at::Tensor AwacLogProb(AgentMlpImpl& actor, const at::Tensor& input, const at::Tensor& actions);
at::Tensor AwacSample(AgentMlpImpl& actor, const at::Tensor& input);
// SAC's (and so CQL's) policy: tanh(u), u ~ N(mean, exp(clamp(log std, -20, 2))^2), with the log
// density of the squashed action. Reparameterised: gradients flow through the draw.
GaussianDraw SquashedGaussianSample(AgentMlpImpl& actor, const at::Tensor& input);

// clamp(a + phi tanh(xi(x, a)), -1, 1).
at::Tensor BcqPerturb(AgentMlpImpl& actor, const at::Tensor& input, const at::Tensor& actions,
                      double phi);
// For each row, `candidates` decoded and perturbed actions, the one Q1 values most: [N, M, A].
at::Tensor BcqSelect(ConditionalVaeImpl& vae, AgentMlpImpl& actor, AgentMlpImpl& q1,
                     const at::Tensor& input, int64_t candidates, double phi,
                     std::optional<at::Generator> generator = {});

}  // namespace tandem::networks

#endif  // TANDEM_COMMON_NETWORKS_DECENTRALIZED_NETWORKS_H_
