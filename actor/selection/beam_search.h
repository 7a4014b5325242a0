// Coordinated Beam Search (Sim2O, Algorithm 1) over hybrid joint actions, and the ablations.
//
// For one decision: the beam starts as {all-online}. Agents are visited in the configured order;
// for each agent every beam member is copied with that agent switched to its offline action, and
// the K new beam members are drawn without replacement from softmax(Q_tot / beta) over the beam
// plus its copies. After the last agent the executed hybrid is drawn from softmax(Q_tot / beta)
// over the final beam.
//   kSample   the paper's method (Boltzmann pruning and pick)
//   kGreedy   Greedy-Sim2O: keep the top K, execute the argmax
//   kRandom   Random-Sim2O: prune and pick uniformly, ignoring the critic
#ifndef TANDEM_ACTOR_SELECTION_BEAM_SEARCH_H_
#define TANDEM_ACTOR_SELECTION_BEAM_SEARCH_H_

#include <vector>

#include "absl/status/statusor.h"
#include "actor/selection/hybrid_scorer.h"
#include "common/rng.h"

namespace tandem::actor {

enum class AgentOrder { kForward, kReverse, kRandom };
enum class BeamRule { kSample, kGreedy, kRandom };

struct BeamSearchOptions {
  int beam_width = 5;
  double temperature = 5.0;
  AgentOrder order = AgentOrder::kRandom;
  BeamRule rule = BeamRule::kSample;
};

struct BeamSearchResult {
  Hybrid executed = 0;
  // The final beam (at most beam_width hybrids, distinct).
  std::vector<Hybrid> beam;
};

// One CBS decision; needs 1 <= num_agents <= 64.
BeamSearchResult CoordinatedBeamSearch(const HybridScorer& scorer, const BeamSearchOptions& options,
                                       Rng& rng);

// Scores all 2^N hybrids and returns the argmax (the paper's exhaustive ablation); refuses N > 16.
absl::StatusOr<Hybrid> ExhaustiveSearch(const HybridScorer& scorer);

// PEX-MA: the whole team takes the offline joint action (all bits) or the online one (no bits),
// drawn by softmax(Q_tot / beta) over the two.
Hybrid PolicyExpansionChoice(const HybridScorer& scorer, double temperature, Rng& rng);

// Draws `count` distinct indices from softmax(scores / temperature) without replacement
// (sequentially renormalised, as torch.multinomial does); exposed for tests.
std::vector<int> SampleWithoutReplacement(absl::Span<const double> scores, double temperature,
                                          int count, Rng& rng);

}  // namespace tandem::actor

#endif  // TANDEM_ACTOR_SELECTION_BEAM_SEARCH_H_
