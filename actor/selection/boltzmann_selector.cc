// boltzmann: each agent draws its discrete action from softmax(Q_i(tau_i, .) / temperature) over
// its available actions (selector.temperature), using the online agent's Q values.
#include <cmath>
#include <vector>

#include "actor/selection/selector.h"

namespace tandem::actor {
namespace {

class BoltzmannSelector : public ActionSelector {
 public:
  explicit BoltzmannSelector(const SelectorConfig& config) : temperature_(config.temperature()) {
    needs_.discrete = true;
    needs_.request.agent_q = true;
  }

  const SelectorNeeds& needs() const override { return needs_; }

  absl::Status Select(const policies::Proposals& proposals, const SelectionInput& input, Rng& rng,
                      SelectionOutput out) override {
    if (!(temperature_ > 0)) {
      return absl::InvalidArgumentError("selector.temperature must be > 0 for boltzmann");
    }
    const int64_t k = input.action_size;
    const float* q = proposals.agent_q.data_ptr<float>();
    std::vector<double> weights(k);
    for (int64_t row = 0; row < static_cast<int64_t>(out.discrete.size()); ++row) {
      const float* values = q + row * k;
      double best = -INFINITY;
      for (int64_t j = 0; j < k; ++j) best = std::max(best, static_cast<double>(values[j]));
      if (std::isinf(best)) return absl::FailedPreconditionError("no action is available");
      double total = 0;
      for (int64_t j = 0; j < k; ++j) {
        // Unavailable actions carry -inf and get weight exactly 0.
        weights[j] = std::exp((values[j] - best) / temperature_);
        total += weights[j];
      }
      double u = UniformUnit(rng) * total;
      int64_t pick = -1;
      for (int64_t j = 0; j < k; ++j) {
        if (weights[j] == 0) continue;
        pick = j;  // the last available action absorbs rounding at the top end
        if (u < weights[j]) break;
        u -= weights[j];
      }
      out.discrete[row] = static_cast<int32_t>(pick);
    }
    for (Hybrid& hybrid : out.hybrids) hybrid = 0;
    return absl::OkStatus();
  }

 private:
  SelectorNeeds needs_;
  const double temperature_;
};

}  // namespace

TANDEM_REGISTER(SelectorRegistry, "boltzmann", (SelectorEntry{[](const SelectorConfig& config) {
                  return std::unique_ptr<ActionSelector>(new BoltzmannSelector(config));
                }}));

}  // namespace tandem::actor
