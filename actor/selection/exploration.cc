#include "actor/selection/exploration.h"

#include <algorithm>

namespace tandem::actor {

Hybrid ChooseExplorers(ExplorationRule rule, double epsilon, int num_agents, Rng& rng) {
  Hybrid explorers = 0;
  switch (rule) {
    case ExplorationRule::kIndependent:
    case ExplorationRule::kSequentialDecentralized: {
      const double p = rule == ExplorationRule::kIndependent ? epsilon : epsilon / num_agents;
      for (int i = 0; i < num_agents; ++i) {
        if (UniformUnit(rng) < p) explorers |= Hybrid{1} << i;
      }
      break;
    }
    case ExplorationRule::kSequentialCentralized:
      if (UniformUnit(rng) < epsilon) explorers = Hybrid{1} << UniformIndex(rng, num_agents);
      break;
  }
  return explorers;
}

double EpsilonAt(double epsilon_start, double epsilon_end, int64_t anneal_steps, int64_t step) {
  if (anneal_steps <= 0 || step >= anneal_steps) return epsilon_end;
  const double progress = static_cast<double>(step) / static_cast<double>(anneal_steps);
  return epsilon_start + (epsilon_end - epsilon_start) * progress;
}

void RandomContinuousAction(absl::Span<const float> low, absl::Span<const float> high, Rng& rng,
                            absl::Span<float> out) {
  for (size_t j = 0; j < out.size(); ++j) {
    out[j] = static_cast<float>(low[j] + (high[j] - low[j]) * UniformUnit(rng));
  }
}

absl::StatusOr<int32_t> RandomAvailableAction(absl::Span<const uint8_t> available, Rng& rng) {
  const int64_t count = std::count(available.begin(), available.end(), uint8_t{1});
  if (count == 0) return absl::FailedPreconditionError("no action is available to this agent");
  int64_t pick = static_cast<int64_t>(UniformIndex(rng, count));
  for (size_t j = 0; j < available.size(); ++j) {
    if (available[j] == 1 && pick-- == 0) return static_cast<int32_t>(j);
  }
  return absl::InternalError("unreachable");
}

}  // namespace tandem::actor
