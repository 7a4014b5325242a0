// Scores hybrid joint actions for Coordinated Beam Search and its relatives. A hybrid is a bitmask
// over agents: bit i set means agent i takes its offline proposal, clear means its online one.
//
// `FactorizedScorer` is exact for mixers of the form Q_tot(s, a) = sum_i w_i(s) Q_i(o_i, a_i) +
// b(s) (OMIGA): from the 2N local values Q_i(o_i, a_off_i), Q_i(o_i, a_on_i) and one mixer
// evaluation, every hybrid's Q_tot costs N multiply-adds, so a whole beam search needs one batched
// critic pass per step instead of one per candidate. A non-factorizable critic (QMIX) implements
// the same interface with a batched mixer pass per call.
#ifndef TANDEM_ACTOR_SELECTION_HYBRID_SCORER_H_
#define TANDEM_ACTOR_SELECTION_HYBRID_SCORER_H_

#include <cstdint>
#include <vector>

#include "absl/types/span.h"

namespace tandem::actor {

// Bit i set: agent i takes its offline action.
using Hybrid = uint64_t;

class HybridScorer {
 public:
  virtual ~HybridScorer() = default;
  virtual int num_agents() const = 0;
  // Q_tot of each hybrid in `hybrids`, written to `scores`.
  virtual void Score(absl::Span<const Hybrid> hybrids, absl::Span<double> scores) const = 0;
};

class FactorizedScorer : public HybridScorer {
 public:
  // Per agent: mixer weight w_i(s), local values of the offline and the online proposal; bias b(s).
  FactorizedScorer(std::vector<double> weights, std::vector<double> q_offline,
                   std::vector<double> q_online, double bias);
  int num_agents() const override { return static_cast<int>(weights_.size()); }
  void Score(absl::Span<const Hybrid> hybrids, absl::Span<double> scores) const override;

 private:
  std::vector<double> weights_, q_offline_, q_online_;
  double bias_;
  // Q_tot of the all-online hybrid, and each agent's change when it switches to offline.
  double all_online_ = 0;
  std::vector<double> switch_gain_;
};

}  // namespace tandem::actor

#endif  // TANDEM_ACTOR_SELECTION_HYBRID_SCORER_H_
