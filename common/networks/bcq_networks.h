// The per-agent networks of decentralized BCQ (learner/otc/bcq.h), shaped in one place for the
// learner that trains them and the actors that act with them, and BCQ's two shared computations:
// the perturbation a + Phi tanh(xi(x, a)) and the action selection (decode candidates, perturb,
// keep the one with the highest Q1). Every tensor is agent-major: [N, M, ...].
#ifndef TANDEM_COMMON_NETWORKS_BCQ_NETWORKS_H_
#define TANDEM_COMMON_NETWORKS_BCQ_NETWORKS_H_

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

// INVALID_ARGUMENT for an agent_input other than "state" or "observation".
absl::StatusOr<BcqShapes> BcqShapesFor(const TransitionSpec& spec,
                                       const AlgorithmConfig& algorithm);
// The generative model G(a_i | x) (latent 2 |a_i|), the perturbation xi(x, a) and a critic Q(x, a).
ConditionalVaeOptions BcqVaeOptions(const BcqShapes& shapes);
AgentMlpOptions BcqActorOptions(const BcqShapes& shapes);
AgentMlpOptions BcqCriticOptions(const BcqShapes& shapes);

// clamp(a + phi tanh(xi(x, a)), -1, 1).
at::Tensor BcqPerturb(AgentMlpImpl& actor, const at::Tensor& input, const at::Tensor& actions,
                      double phi);
// For each row, `candidates` decoded and perturbed actions, the one Q1 values most: [N, M, A].
at::Tensor BcqSelect(ConditionalVaeImpl& vae, AgentMlpImpl& actor, AgentMlpImpl& q1,
                     const at::Tensor& input, int64_t candidates, double phi,
                     std::optional<at::Generator> generator = {});

}  // namespace tandem::networks

#endif  // TANDEM_COMMON_NETWORKS_BCQ_NETWORKS_H_
