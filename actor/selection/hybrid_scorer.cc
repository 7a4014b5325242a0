#include "actor/selection/hybrid_scorer.h"

namespace tandem::actor {

FactorizedScorer::FactorizedScorer(std::vector<double> weights, std::vector<double> q_offline,
                                   std::vector<double> q_online, double bias)
    : weights_(std::move(weights)),
      q_offline_(std::move(q_offline)),
      q_online_(std::move(q_online)),
      bias_(bias) {
  all_online_ = bias_;
  switch_gain_.resize(weights_.size());
  for (size_t i = 0; i < weights_.size(); ++i) {
    all_online_ += weights_[i] * q_online_[i];
    switch_gain_[i] = weights_[i] * (q_offline_[i] - q_online_[i]);
  }
}

void FactorizedScorer::Score(absl::Span<const Hybrid> hybrids, absl::Span<double> scores) const {
  const int n = num_agents();
  for (size_t k = 0; k < hybrids.size(); ++k) {
    double score = all_online_;
    for (int i = 0; i < n; ++i) {
      if ((hybrids[k] >> i) & 1) score += switch_gain_[i];
    }
    scores[k] = score;
  }
}

}  // namespace tandem::actor
