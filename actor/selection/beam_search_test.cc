#include "actor/selection/beam_search.h"

#include <cmath>
#include <map>
#include <set>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace tandem::actor {
namespace {

// A random factorized critic for `n` agents.
FactorizedScorer RandomScorer(int n, uint64_t seed, double scale = 1.0) {
  Rng rng(seed);
  std::vector<double> w(n), off(n), on(n);
  for (int i = 0; i < n; ++i) {
    w[i] = UniformUnit(rng) * 2;
    off[i] = (UniformUnit(rng) * 2 - 1) * scale;
    on[i] = (UniformUnit(rng) * 2 - 1) * scale;
  }
  return FactorizedScorer(w, off, on, UniformUnit(rng));
}

double Score(const HybridScorer& scorer, Hybrid h) {
  double s;
  scorer.Score(absl::MakeConstSpan(&h, 1), absl::MakeSpan(&s, 1));
  return s;
}

TEST(FactorizedScorer, EqualsBruteForceQtotForRandomHybrids) {
  Rng rng(1);
  std::vector<double> w = {0.5, 1.5, 0.2, 2.0, 0.7}, off = {1, -2, 3, 0.5, -1},
                      on = {0, 1, -1, 2, 4};
  const double b = 0.3;
  FactorizedScorer scorer(w, off, on, b);
  for (int trial = 0; trial < 100; ++trial) {
    const Hybrid h = rng() & 31;
    double expected = b;
    for (int i = 0; i < 5; ++i) expected += w[i] * (((h >> i) & 1) ? off[i] : on[i]);
    EXPECT_NEAR(Score(scorer, h), expected, 1e-12);
  }
}

TEST(BeamSearch, BeamNeverExceedsKAndHoldsDistinctHybrids) {
  Rng rng(2);
  for (int n : {1, 3, 6, 9}) {
    FactorizedScorer scorer = RandomScorer(n, n);
    for (int trial = 0; trial < 200; ++trial) {
      BeamSearchResult result = CoordinatedBeamSearch(scorer, {5, 5.0}, rng);
      EXPECT_LE(result.beam.size(), 5u);
      EXPECT_EQ(std::set<Hybrid>(result.beam.begin(), result.beam.end()).size(),
                result.beam.size());
      EXPECT_NE(std::find(result.beam.begin(), result.beam.end(), result.executed),
                result.beam.end());
      EXPECT_LT(result.executed, Hybrid{1} << n);
    }
  }
}

TEST(BeamSearch, WideBeamAndHighTemperatureCoverEveryHybrid) {
  FactorizedScorer scorer = RandomScorer(4, 3);
  Rng rng(3);
  BeamSearchResult result = CoordinatedBeamSearch(scorer, {16, 1e9}, rng);
  EXPECT_EQ(std::set<Hybrid>(result.beam.begin(), result.beam.end()).size(), 16u);
  std::set<Hybrid> executed;
  for (int trial = 0; trial < 2000; ++trial) {
    executed.insert(CoordinatedBeamSearch(scorer, {16, 1e9}, rng).executed);
  }
  EXPECT_EQ(executed.size(), 16u);
}

// Greedy coordinate ascent from all-online in a fixed agent order.
Hybrid CoordinateAscent(const HybridScorer& scorer, const std::vector<int>& order) {
  Hybrid h = 0;
  for (int agent : order) {
    const Hybrid flipped = h | (Hybrid{1} << agent);
    if (Score(scorer, flipped) > Score(scorer, h)) h = flipped;
  }
  return h;
}

TEST(BeamSearch, WidthOneAtLowTemperatureIsGreedyCoordinateAscent) {
  Rng rng(4);
  for (uint64_t seed = 0; seed < 20; ++seed) {
    FactorizedScorer scorer = RandomScorer(6, seed);
    EXPECT_EQ(CoordinatedBeamSearch(scorer, {1, 1e-9, AgentOrder::kForward}, rng).executed,
              CoordinateAscent(scorer, {0, 1, 2, 3, 4, 5}));
    EXPECT_EQ(CoordinatedBeamSearch(scorer, {1, 1e-9, AgentOrder::kReverse}, rng).executed,
              CoordinateAscent(scorer, {5, 4, 3, 2, 1, 0}));
  }
}

TEST(BeamSearch, FinalPickFollowsTheSoftmaxOverTheFinalBeam) {
  // K >= 2^N, so the final beam is every hybrid and the pick is softmax(Q_tot / beta) over all 8.
  FactorizedScorer scorer = RandomScorer(3, 5, 3.0);
  const double beta = 2.0;
  Rng rng(6);
  const int trials = 40000;
  std::map<Hybrid, int> counts;
  for (int t = 0; t < trials; ++t) {
    ++counts[CoordinatedBeamSearch(scorer, {8, beta, AgentOrder::kRandom}, rng).executed];
  }
  std::vector<double> p(8);
  double total = 0;
  for (Hybrid h = 0; h < 8; ++h) total += p[h] = std::exp(Score(scorer, h) / beta);
  double chi2 = 0;
  for (Hybrid h = 0; h < 8; ++h) {
    const double expected = trials * p[h] / total;
    chi2 += std::pow(counts[h] - expected, 2) / expected;
  }
  EXPECT_LT(chi2, 24.32);  // chi-squared, 7 degrees of freedom, p = 0.001
}

TEST(BeamSearch, SamplingWithoutReplacementNeverRepeats) {
  Rng rng(7);
  std::vector<double> scores = {5, 5, 5, 0, 0, -3, 10, 1};
  for (int t = 0; t < 500; ++t) {
    std::vector<int> picked = SampleWithoutReplacement(scores, 1.0, 5, rng);
    ASSERT_EQ(picked.size(), 5u);
    EXPECT_EQ(std::set<int>(picked.begin(), picked.end()).size(), 5u);
  }
  // Extreme scores whose weights underflow still yield distinct picks.
  std::vector<int> picked = SampleWithoutReplacement({0, -1e6, -1e6, -1e6}, 1.0, 4, rng);
  EXPECT_EQ(std::set<int>(picked.begin(), picked.end()).size(), 4u);
}

TEST(BeamSearch, GreedyRuleExecutesTheBestOfItsBeam) {
  Rng rng(8);
  FactorizedScorer scorer = RandomScorer(7, 9);
  BeamSearchResult result =
      CoordinatedBeamSearch(scorer, {3, 5.0, AgentOrder::kForward, BeamRule::kGreedy}, rng);
  for (Hybrid h : result.beam) EXPECT_GE(Score(scorer, result.executed), Score(scorer, h));
}

TEST(BeamSearch, RandomRuleIgnoresTheCritic) {
  // With a critic that strongly prefers all-online, the random rule still switches agents often.
  FactorizedScorer scorer({1, 1, 1, 1}, {-100, -100, -100, -100}, {0, 0, 0, 0}, 0);
  Rng rng(10);
  int switched = 0;
  for (int t = 0; t < 1000; ++t) {
    switched += CoordinatedBeamSearch(scorer, {2, 5.0, AgentOrder::kRandom, BeamRule::kRandom}, rng)
                    .executed != 0;
  }
  EXPECT_GT(switched, 500);
  int sampled_switched = 0;
  for (int t = 0; t < 1000; ++t) {
    sampled_switched += CoordinatedBeamSearch(scorer, {2, 5.0}, rng).executed != 0;
  }
  EXPECT_EQ(sampled_switched, 0);
}

TEST(ExhaustiveSearch, EqualsBruteForceArgmaxAndRefusesLargeTeams) {
  for (uint64_t seed = 0; seed < 10; ++seed) {
    FactorizedScorer scorer = RandomScorer(8, seed);
    Hybrid best = 0;
    for (Hybrid h = 0; h < 256; ++h) {
      if (Score(scorer, h) > Score(scorer, best)) best = h;
    }
    auto chosen = ExhaustiveSearch(scorer);
    ASSERT_TRUE(chosen.ok());
    EXPECT_EQ(*chosen, best);
  }
  EXPECT_THAT(ExhaustiveSearch(RandomScorer(17, 1)).status().message(),
              ::testing::HasSubstr("refusing N = 17"));
}

TEST(PolicyExpansion, SwitchProbabilityMatchesTheSoftmax) {
  // All-online Q_tot = 0.5, all-offline Q_tot = 0.5 + 3 * 0.4 = 1.7; beta = 1.
  FactorizedScorer scorer({1, 1, 1}, {0.4, 0.4, 0.4}, {0, 0, 0}, 0.5);
  Rng rng(11);
  const int trials = 20000;
  int offline = 0;
  for (int t = 0; t < trials; ++t) {
    const Hybrid h = PolicyExpansionChoice(scorer, 1.0, rng);
    ASSERT_TRUE(h == 0 || h == 7);
    offline += h == 7;
  }
  const double p = 1 / (1 + std::exp(-1.2));
  // Binomial sd = sqrt(n p (1 - p)) ~ 58; allow 5 sd.
  EXPECT_NEAR(offline, trials * p, 5 * std::sqrt(trials * p * (1 - p)));
}

}  // namespace
}  // namespace tandem::actor
