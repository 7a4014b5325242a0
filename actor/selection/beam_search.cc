#include "actor/selection/beam_search.h"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "absl/strings/str_cat.h"

namespace tandem::actor {
namespace {

std::vector<int> TopK(absl::Span<const double> scores, int count) {
  std::vector<int> index(scores.size());
  std::iota(index.begin(), index.end(), 0);
  std::stable_sort(index.begin(), index.end(), [&](int a, int b) { return scores[a] > scores[b]; });
  index.resize(std::min<size_t>(count, index.size()));
  return index;
}

std::vector<double> Scores(const HybridScorer& scorer, const std::vector<Hybrid>& hybrids) {
  std::vector<double> scores(hybrids.size());
  scorer.Score(hybrids, absl::MakeSpan(scores));
  return scores;
}

}  // namespace

std::vector<int> SampleWithoutReplacement(absl::Span<const double> scores, double temperature,
                                          int count, Rng& rng) {
  const double top = *std::max_element(scores.begin(), scores.end());
  std::vector<double> weights(scores.size());
  double total = 0;
  for (size_t j = 0; j < scores.size(); ++j) {
    weights[j] = std::exp((scores[j] - top) / temperature);
    total += weights[j];
  }
  std::vector<int> picked;
  count = std::min<int>(count, static_cast<int>(scores.size()));
  while (static_cast<int>(picked.size()) < count) {
    double u = UniformUnit(rng) * total;
    int chosen = -1;
    for (size_t j = 0; j < weights.size(); ++j) {
      if (weights[j] <= 0) continue;
      chosen = static_cast<int>(j);
      if (u < weights[j]) break;
      u -= weights[j];
    }
    picked.push_back(chosen);
    total -= weights[chosen];
    weights[chosen] = 0;
    if (total <= 0) {  // only zero-weight (underflowed) candidates left: take them in order
      for (size_t j = 0; j < weights.size() && static_cast<int>(picked.size()) < count; ++j) {
        if (std::find(picked.begin(), picked.end(), static_cast<int>(j)) == picked.end()) {
          picked.push_back(static_cast<int>(j));
        }
      }
    }
  }
  return picked;
}

BeamSearchResult CoordinatedBeamSearch(const HybridScorer& scorer, const BeamSearchOptions& options,
                                       Rng& rng) {
  const int n = scorer.num_agents();
  std::vector<int> order(n);
  std::iota(order.begin(), order.end(), 0);
  if (options.order == AgentOrder::kReverse) std::reverse(order.begin(), order.end());
  if (options.order == AgentOrder::kRandom) {
    for (int i = n - 1; i > 0; --i) std::swap(order[i], order[UniformIndex(rng, i + 1)]);
  }
  const int k = std::max(1, options.beam_width);
  std::vector<Hybrid> beam = {0};
  std::vector<Hybrid> candidates;
  for (int agent : order) {
    candidates = beam;
    for (Hybrid h : beam) candidates.push_back(h | (Hybrid{1} << agent));
    if (static_cast<int>(candidates.size()) <= k) {
      beam = candidates;
      continue;
    }
    std::vector<int> keep;
    switch (options.rule) {
      case BeamRule::kSample:
        keep = SampleWithoutReplacement(Scores(scorer, candidates), options.temperature, k, rng);
        break;
      case BeamRule::kGreedy:
        keep = TopK(Scores(scorer, candidates), k);
        break;
      case BeamRule::kRandom:
        keep = SampleWithoutReplacement(std::vector<double>(candidates.size(), 0.0), 1.0, k, rng);
        break;
    }
    beam.clear();
    for (int index : keep) beam.push_back(candidates[index]);
  }
  BeamSearchResult result;
  result.beam = beam;
  switch (options.rule) {
    case BeamRule::kSample:
      result.executed =
          beam[SampleWithoutReplacement(Scores(scorer, beam), options.temperature, 1, rng)[0]];
      break;
    case BeamRule::kGreedy:
      result.executed = beam[TopK(Scores(scorer, beam), 1)[0]];
      break;
    case BeamRule::kRandom:
      result.executed = beam[UniformIndex(rng, beam.size())];
      break;
  }
  return result;
}

absl::StatusOr<Hybrid> ExhaustiveSearch(const HybridScorer& scorer) {
  const int n = scorer.num_agents();
  if (n > 16) {
    return absl::InvalidArgumentError(absl::StrCat(
        "exhaustive selection scores all 2^N hybrids; refusing N = ", n, " agents (max 16)"));
  }
  std::vector<Hybrid> all(size_t{1} << n);
  std::iota(all.begin(), all.end(), Hybrid{0});
  return all[TopK(Scores(scorer, all), 1)[0]];
}

Hybrid PolicyExpansionChoice(const HybridScorer& scorer, double temperature, Rng& rng) {
  const int n = scorer.num_agents();
  const Hybrid all_offline = n >= 64 ? ~Hybrid{0} : (Hybrid{1} << n) - 1;
  const std::vector<Hybrid> options = {0, all_offline};
  return options[SampleWithoutReplacement(Scores(scorer, options), temperature, 1, rng)[0]];
}

}  // namespace tandem::actor
