// Epsilon-greedy selectors over the online policy's deterministic action, for continuous and
// discrete actions (see exploration.h for the rules):
//   epsilon             every agent explores with probability epsilon
//   sequential-epsilon  OVMSE's sequential exploration: one agent at a time (centralized), or each
//                       with probability epsilon / N (selector.decentralized)
//   random              every agent acts uniformly at random (the random baseline), asking the
//                       policy for nothing
// Epsilon anneals linearly from epsilon_start to epsilon_end over epsilon_anneal_env_steps of the
// actor's env steps. A random action is uniform in the agent's box, or uniform over its available
// discrete actions.
#include "actor/selection/exploration.h"
#include "actor/selection/selector.h"
#include "common/status_macros.h"

namespace tandem::actor {
namespace {

class EpsilonSelector : public ActionSelector {
 public:
  EpsilonSelector(const SelectorConfig& config, bool sequential, bool always_random)
      : config_(config),
        rule_(!sequential              ? ExplorationRule::kIndependent
              : config.decentralized() ? ExplorationRule::kSequentialDecentralized
                                       : ExplorationRule::kSequentialCentralized),
        always_random_(always_random) {
    needs_.continuous = true;
    needs_.discrete = true;
    if (!always_random) needs_.request.online = policies::ProposalMode::kDeterministic;
  }

  const SelectorNeeds& needs() const override { return needs_; }

  double Exploration(int64_t env_steps) const override {
    if (always_random_) return 1.0;
    return EpsilonAt(config_.epsilon_start(), config_.epsilon_end(),
                     config_.epsilon_anneal_env_steps(), env_steps);
  }

  absl::Status Select(const policies::Proposals& proposals, const SelectionInput& input, Rng& rng,
                      SelectionOutput out) override {
    if (!always_random_) CopyProposal(proposals.online, out);
    const double epsilon = EpsilonAt(config_.epsilon_start(), config_.epsilon_end(),
                                     config_.epsilon_anneal_env_steps(), input.env_steps);
    const int64_t n = input.num_agents, a = input.action_size;
    for (int64_t e = 0; e < input.num_envs; ++e) {
      out.hybrids[e] = 0;
      // The random selector explores with every agent and draws only the actions.
      const Hybrid explorers =
          always_random_ ? ~Hybrid{0} : ChooseExplorers(rule_, epsilon, static_cast<int>(n), rng);
      for (int64_t i = 0; i < n; ++i) {
        if (!((explorers >> i) & 1)) continue;
        if (!out.continuous.empty()) {
          RandomContinuousAction(input.action_low.subspan(i * a, a),
                                 input.action_high.subspan(i * a, a), rng,
                                 out.continuous.subspan((e * n + i) * a, a));
        } else if (input.avail.empty()) {
          out.discrete[e * n + i] = static_cast<int32_t>(UniformIndex(rng, a));
        } else {
          ASSIGN_OR_RETURN(out.discrete[e * n + i],
                           RandomAvailableAction(input.avail.subspan((e * n + i) * a, a), rng));
        }
      }
    }
    return absl::OkStatus();
  }

 private:
  SelectorNeeds needs_;
  const SelectorConfig config_;
  const ExplorationRule rule_;
  const bool always_random_;
};

SelectorEntry Make(bool sequential, bool always_random = false) {
  return SelectorEntry{[sequential, always_random](const SelectorConfig& config) {
    return std::unique_ptr<ActionSelector>(new EpsilonSelector(config, sequential, always_random));
  }};
}

}  // namespace

TANDEM_REGISTER(SelectorRegistry, "epsilon", Make(false));
TANDEM_REGISTER(SelectorRegistry, "sequential-epsilon", Make(true));
TANDEM_REGISTER(SelectorRegistry, "random", Make(false, true));

}  // namespace tandem::actor
