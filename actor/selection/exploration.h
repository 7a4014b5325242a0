// Exploration rules that pick which agents act randomly in a step (the rest follow the policy):
//   kIndependent              epsilon-greedy: every agent explores with probability epsilon
//   kSequentialCentralized    OVMSE's sequential exploration: with probability epsilon exactly one
//                             uniformly chosen agent explores, the others act greedily
//   kSequentialDecentralized  OVMSE Algorithm 2: every agent explores with probability epsilon / N,
//                             so on average as many agents explore as in the centralized rule
// "Random action" means uniform in the agent's box (continuous) or uniform over its available
// actions (discrete).
#ifndef TANDEM_ACTOR_SELECTION_EXPLORATION_H_
#define TANDEM_ACTOR_SELECTION_EXPLORATION_H_

#include <cstdint>

#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "actor/selection/hybrid_scorer.h"
#include "common/rng.h"

namespace tandem::actor {

enum class ExplorationRule { kIndependent, kSequentialCentralized, kSequentialDecentralized };

// Bitmask of the agents that explore this step (bit i: agent i acts randomly); 1 <= n <= 64.
Hybrid ChooseExplorers(ExplorationRule rule, double epsilon, int num_agents, Rng& rng);

// Linear annealing: epsilon_start at step 0, epsilon_end from `anneal_steps` on.
double EpsilonAt(double epsilon_start, double epsilon_end, int64_t anneal_steps, int64_t step);

// Writes a uniform random action inside [low, high] per dimension.
void RandomContinuousAction(absl::Span<const float> low, absl::Span<const float> high, Rng& rng,
                            absl::Span<float> out);

// A uniform random index among the actions marked available (1); fails if none is.
absl::StatusOr<int32_t> RandomAvailableAction(absl::Span<const uint8_t> available, Rng& rng);

}  // namespace tandem::actor

#endif  // TANDEM_ACTOR_SELECTION_EXPLORATION_H_
