// Sim2O's selectors over hybrid joint actions (continuous actions, OMIGA's factorized critic):
//   cbs         Coordinated Beam Search with Boltzmann pruning and pick (the paper's method)
//   cbs-greedy  Greedy-Sim2O: top-K pruning, argmax pick
//   cbs-random  Random-Sim2O: uniform pruning and pick
//   exhaustive  the argmax over all 2^N hybrids (N <= 16)
//   pex         PEX-MA: the whole team offline or online, by softmax(Q_tot / beta) over the two
// Each asks for a sampled online proposal, the deterministic offline proposal and the critic's
// local values of both plus the mixer weights, then scores hybrids with `FactorizedScorer`.
#include <vector>

#include "actor/selection/beam_search.h"
#include "actor/selection/selector.h"
#include "common/status_macros.h"

namespace tandem::actor {
namespace {

enum class Search { kBeam, kExhaustive, kPex };

AgentOrder ToAgentOrder(SelectorConfig::AgentOrder order) {
  switch (order) {
    case SelectorConfig::AGENT_ORDER_FORWARD:
      return AgentOrder::kForward;
    case SelectorConfig::AGENT_ORDER_REVERSE:
      return AgentOrder::kReverse;
    default:
      return AgentOrder::kRandom;
  }
}

class HybridSelector : public ActionSelector {
 public:
  HybridSelector(const SelectorConfig& config, Search search, BeamRule rule)
      : search_(search),
        temperature_(config.temperature()),
        beam_{config.beam_width(), config.temperature(), ToAgentOrder(config.agent_order()), rule} {
    needs_.continuous = true;
    needs_.request.online = policies::ProposalMode::kSample;
    needs_.request.offline = policies::ProposalMode::kDeterministic;
    needs_.request.critic = true;
  }

  const SelectorNeeds& needs() const override { return needs_; }

  absl::Status Select(const policies::Proposals& proposals, const SelectionInput& input, Rng& rng,
                      SelectionOutput out) override {
    const int64_t n = input.num_agents;
    const float* q_off = proposals.q_offline.data_ptr<float>();
    const float* q_on = proposals.q_online.data_ptr<float>();
    const float* w = proposals.mixer_weights.data_ptr<float>();
    const float* bias = proposals.mixer_bias.data_ptr<float>();
    for (int64_t e = 0; e < input.num_envs; ++e) {
      FactorizedScorer scorer(std::vector<double>(w + e * n, w + (e + 1) * n),
                              std::vector<double>(q_off + e * n, q_off + (e + 1) * n),
                              std::vector<double>(q_on + e * n, q_on + (e + 1) * n), bias[e]);
      switch (search_) {
        case Search::kExhaustive: {
          ASSIGN_OR_RETURN(out.hybrids[e], ExhaustiveSearch(scorer));
          break;
        }
        case Search::kPex:
          out.hybrids[e] = PolicyExpansionChoice(scorer, temperature_, rng);
          break;
        case Search::kBeam:
          out.hybrids[e] = CoordinatedBeamSearch(scorer, beam_, rng).executed;
          break;
      }
    }
    ComposeHybrids(proposals, out.hybrids, input, out);
    return absl::OkStatus();
  }

 private:
  SelectorNeeds needs_;
  const Search search_;
  const double temperature_;
  const BeamSearchOptions beam_;
};

SelectorEntry Make(Search search, BeamRule rule) {
  return SelectorEntry{[search, rule](const SelectorConfig& config) {
    return std::unique_ptr<ActionSelector>(new HybridSelector(config, search, rule));
  }};
}

}  // namespace

TANDEM_REGISTER(SelectorRegistry, "cbs", Make(Search::kBeam, BeamRule::kSample));
TANDEM_REGISTER(SelectorRegistry, "cbs-greedy", Make(Search::kBeam, BeamRule::kGreedy));
TANDEM_REGISTER(SelectorRegistry, "cbs-random", Make(Search::kBeam, BeamRule::kRandom));
TANDEM_REGISTER(SelectorRegistry, "exhaustive", Make(Search::kExhaustive, BeamRule::kGreedy));
TANDEM_REGISTER(SelectorRegistry, "pex", Make(Search::kPex, BeamRule::kSample));

}  // namespace tandem::actor
