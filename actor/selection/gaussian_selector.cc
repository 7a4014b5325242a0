// gaussian: the online policy's deterministic continuous action plus N(0, noise_std^2) noise per
// dimension, clipped to the agent's box (the behaviour policy of dataset collection; TD3-style
// exploration).
#include <algorithm>
#include <random>

#include "actor/selection/selector.h"

namespace tandem::actor {
namespace {

class GaussianSelector : public ActionSelector {
 public:
  explicit GaussianSelector(const SelectorConfig& config) : noise_std_(config.noise_std()) {
    needs_.continuous = true;
    needs_.request.online = policies::ProposalMode::kDeterministic;
  }

  const SelectorNeeds& needs() const override { return needs_; }

  absl::Status Select(const policies::Proposals& proposals, const SelectionInput& input, Rng& rng,
                      SelectionOutput out) override {
    CopyProposal(proposals.online, out);
    const size_t per_env = input.action_low.size();
    for (size_t j = 0; j < out.continuous.size(); ++j) {
      const size_t k = j % per_env;
      const double noisy = out.continuous[j] + noise_std_ * normal_(rng);
      out.continuous[j] =
          static_cast<float>(std::clamp(noisy, static_cast<double>(input.action_low[k]),
                                        static_cast<double>(input.action_high[k])));
    }
    for (Hybrid& hybrid : out.hybrids) hybrid = 0;
    return absl::OkStatus();
  }

 private:
  SelectorNeeds needs_;
  const double noise_std_;
  std::normal_distribution<double> normal_{0.0, 1.0};
};

}  // namespace

TANDEM_REGISTER(SelectorRegistry, "gaussian", (SelectorEntry{[](const SelectorConfig& config) {
                  return std::unique_ptr<ActionSelector>(new GaussianSelector(config));
                }}));

}  // namespace tandem::actor
