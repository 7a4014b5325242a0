#include "learner/otc/sampling.h"

#include <ATen/ATen.h>

#include <cmath>
#include <vector>

#include "gtest/gtest.h"

namespace tandem::learner::otc {
namespace {

TEST(OtcBestMatch, EqualsBruteForceL1) {
  at::manual_seed(3);
  const at::Tensor query = at::randn({3, 50, 4});
  const at::Tensor candidates = at::randn({3, 80, 4});
  Rng rng(1);
  const at::Tensor match = BestMatch(query, candidates, rng);
  ASSERT_EQ(match.sizes(), (at::IntArrayRef{3, 50}));
  for (int64_t i = 0; i < 3; ++i) {
    for (int64_t b = 0; b < 50; ++b) {
      int64_t best = -1;
      double best_distance = INFINITY;
      for (int64_t d = 0; d < 80; ++d) {
        double distance = 0;
        for (int64_t e = 0; e < 4; ++e) {
          distance += std::abs(query[i][b][e].item<float>() - candidates[i][d][e].item<float>());
        }
        if (distance < best_distance) {
          best_distance = distance;
          best = d;
        }
      }
      EXPECT_EQ(match[i][b].item<int64_t>(), best) << "agent " << i << " row " << b;
    }
  }
}

// One feature takes the sorted search: the same matches, ties included, as the scan over every
// candidate (the same values with a second, all-zero feature, drawn with the same stream).
TEST(OtcBestMatch, SortedSearchOfOneFeatureEqualsTheScanTiesIncluded) {
  at::manual_seed(4);
  // Values on a coarse grid, so many candidates are equally near, and queries between them.
  const at::Tensor query = (at::randn({2, 300, 1}) * 4).round() / 2;
  const at::Tensor candidates = (at::randn({2, 500, 1}) * 3).round() / 2;
  Rng sorted_rng(9), scan_rng(9);
  const at::Tensor sorted = BestMatch(query, candidates, sorted_rng);
  const at::Tensor scanned =
      BestMatch(at::cat({query, at::zeros_like(query)}, -1),
                at::cat({candidates, at::zeros_like(candidates)}, -1), scan_rng);
  EXPECT_TRUE(at::equal(sorted, scanned));
  // Ties were drawn: some query saw more than one equally near candidate.
  const at::Tensor distance = (query - candidates.transpose(1, 2)).abs();  // [2, 300, 500]
  const at::Tensor nearest = distance.amin(-1, true);
  EXPECT_GT(((distance == nearest).sum(-1) > 1).sum().item<int64_t>(), 100);
}

TEST(OtcBestMatch, AgentsMatchOnlyAmongTheirOwnCandidates) {
  // Agent 0's nearest candidate is row 1, agent 1's row 0, for the same query.
  const at::Tensor query = at::zeros({2, 1, 1});
  const at::Tensor candidates = at::tensor({5.f, 0.1f, 0.2f, 5.f}).reshape({2, 2, 1});
  Rng rng(2);
  const at::Tensor match = BestMatch(query, candidates, rng);
  EXPECT_EQ(match[0][0].item<int64_t>(), 1);
  EXPECT_EQ(match[1][0].item<int64_t>(), 0);
}

TEST(OtcBestMatch, TiesAreDrawnUniformly) {
  // Candidates 1 and 3 are both at distance 1 from the query; 0 and 2 are farther.
  const at::Tensor query = at::zeros({1, 1, 1});
  const at::Tensor candidates = at::tensor({3.f, 1.f, -2.f, -1.f}).reshape({1, 4, 1});
  Rng rng(7);
  int first = 0;
  const int trials = 4000;
  for (int t = 0; t < trials; ++t) {
    const int64_t m = BestMatch(query, candidates, rng)[0][0].item<int64_t>();
    ASSERT_TRUE(m == 1 || m == 3) << m;
    first += m == 1;
  }
  // Binomial(4000, 1/2): standard deviation 31.6; five of them either side.
  EXPECT_NEAR(first, trials / 2, 5 * std::sqrt(trials * 0.25));
}

TEST(OtcMatchedDistance, IsTheL1DistanceToTheMatchedRow) {
  const at::Tensor query = at::tensor({1.f, 2.f, 0.f, 0.f}).reshape({1, 2, 2});
  const at::Tensor candidates = at::tensor({0.f, 0.f, 1.f, 3.f, -1.f, 1.f}).reshape({1, 3, 2});
  const at::Tensor match = at::tensor({1L, 2L}).reshape({1, 2});
  const at::Tensor distance = MatchedDistance(query, candidates, match);
  EXPECT_FLOAT_EQ(distance[0][0].item<float>(), 0.f + 1.f);  // |1-1| + |2-3|
  EXPECT_FLOAT_EQ(distance[0][1].item<float>(), 1.f + 1.f);  // |0+1| + |0-1|
}

TEST(OtcRankProbabilities, FollowTheFormula) {
  // Distances 0.3, 0.1, 0.2 have ranks 3, 1, 2.
  const at::Tensor distance = at::tensor({0.3, 0.1, 0.2, 0.3, 0.1, 0.2}).reshape({2, 3});
  const at::Tensor p = RankProbabilities(distance, {1.0, 0.0});
  const double total = 1.0 + 1.0 / 2 + 1.0 / 3;
  EXPECT_NEAR(p[0][0].item<double>(), (1.0 / 3) / total, 1e-12);
  EXPECT_NEAR(p[0][1].item<double>(), 1.0 / total, 1e-12);
  EXPECT_NEAR(p[0][2].item<double>(), (1.0 / 2) / total, 1e-12);
  for (int j = 0; j < 3; ++j) EXPECT_NEAR(p[1][j].item<double>(), 1.0 / 3, 1e-12);  // alpha 0
  // alpha 2: (1/rank)^2.
  const at::Tensor q = RankProbabilities(distance.slice(0, 0, 1), {2.0});
  const double total2 = 1.0 + 1.0 / 4 + 1.0 / 9;
  EXPECT_NEAR(q[0][2].item<double>(), (1.0 / 4) / total2, 1e-12);
}

TEST(OtcRankProbabilities, EqualDistancesKeepTheirOrder) {
  const at::Tensor distance = at::tensor({0.5, 0.5, 0.5}).reshape({1, 3});
  const at::Tensor p = RankProbabilities(distance, {1.0});
  EXPECT_GT(p[0][0].item<double>(), p[0][1].item<double>());
  EXPECT_GT(p[0][1].item<double>(), p[0][2].item<double>());
}

TEST(OtcDrawByProbability, FrequenciesMatchTheProbabilities) {
  const at::Tensor p = at::tensor({0.5, 0.3, 0.2, 0.0, 0.1, 0.9}).reshape({2, 3});
  Rng rng(11);
  const int64_t count = 20000;
  const at::Tensor rows = DrawByProbability(p, count, rng);
  ASSERT_EQ(rows.sizes(), (at::IntArrayRef{2, count}));
  for (int64_t i = 0; i < 2; ++i) {
    const at::Tensor counts = at::bincount(rows[i], {}, 3);
    for (int64_t j = 0; j < 3; ++j) {
      const double prob = p[i][j].item<double>();
      const double sd = std::sqrt(count * prob * (1 - prob));
      EXPECT_NEAR(counts[j].item<int64_t>(), count * prob, 5 * sd + 1e-9)
          << "agent " << i << " row " << j;
    }
  }
}

TEST(OtcNormalizeByMean, DividesEachAgentByItsMean) {
  const at::Tensor v = at::tensor({1.f, 3.f, -2.f, -6.f, 0.f, 0.f}).reshape({3, 2});
  const at::Tensor n = NormalizeByMean(v);
  EXPECT_FLOAT_EQ(n[0][0].item<float>(), 0.5f);
  EXPECT_FLOAT_EQ(n[0][1].item<float>(), 1.5f);
  EXPECT_FLOAT_EQ(n[1][0].item<float>(), 0.5f);  // the sign of the mean divides out
  EXPECT_FLOAT_EQ(n[2][1].item<float>(), 0.f);   // a zero mean leaves values unchanged
}

TEST(OtcAdaptAlpha, ScalesByTheRatioOfDistances) {
  EXPECT_DOUBLE_EQ(AdaptAlpha(0.5, 3.0, 2.0), 0.75);
  EXPECT_DOUBLE_EQ(AdaptAlpha(0.5, 1.0, 2.0), 0.25);
  EXPECT_DOUBLE_EQ(AdaptAlpha(0.5, 1.0, 0.0), 0.5);
}

TEST(OtcCorrect, PrefersTransitionsWhoseNextStateMatchesOnline) {
  // Row 0 of B matches online row 0 with the same next state; row 1 matches online row 1 but its
  // next state differs by 4. With a large alpha nearly every draw is row 0.
  const at::Tensor match_b = at::tensor({0.f, 10.f}).reshape({1, 2, 1});
  const at::Tensor match_d = at::tensor({0.1f, 10.1f}).reshape({1, 2, 1});
  const at::Tensor next_b = at::tensor({1.f, 5.f}).reshape({1, 2, 1});
  const at::Tensor next_d = at::tensor({1.f, 1.f}).reshape({1, 2, 1});
  Rng rng(5);
  const Correction correction = Correct(match_b, match_d, next_b, next_d, {8.0}, 1000, rng);
  ASSERT_EQ(correction.mean_distance.size(), 1u);
  EXPECT_NEAR(correction.mean_distance[0], (0.0 + 4.0) / 2, 1e-6);
  const double share = (correction.rows == 0).to(at::kDouble).mean().item<double>();
  EXPECT_GT(share, 0.99);
  // alpha 0: no correction, both rows alike.
  const Correction uniform = Correct(match_b, match_d, next_b, next_d, {0.0}, 4000, rng);
  EXPECT_NEAR((uniform.rows == 0).to(at::kDouble).mean().item<double>(), 0.5, 0.04);
}

}  // namespace
}  // namespace tandem::learner::otc
