#include "actor/selection/exploration.h"

#include <bitset>
#include <cmath>
#include <vector>

#include "gtest/gtest.h"

namespace tandem::actor {
namespace {

int PopCount(Hybrid h) { return static_cast<int>(std::bitset<64>(h).count()); }

TEST(Exploration, CentralizedRuleExploresExactlyZeroOrOneAgent) {
  Rng rng(1);
  const int trials = 20000, n = 5;
  const double epsilon = 0.3;
  int exploring = 0;
  std::vector<int> per_agent(n, 0);
  for (int t = 0; t < trials; ++t) {
    const Hybrid h = ChooseExplorers(ExplorationRule::kSequentialCentralized, epsilon, n, rng);
    ASSERT_LE(PopCount(h), 1);
    if (h != 0) {
      ++exploring;
      for (int i = 0; i < n; ++i) per_agent[i] += (h >> i) & 1;
    }
  }
  const double sd = std::sqrt(trials * epsilon * (1 - epsilon));
  EXPECT_NEAR(exploring, trials * epsilon, 5 * sd);
  // The explorer is uniform over agents: chi-squared with 4 dof, p = 0.001 -> 18.47.
  double chi2 = 0;
  for (int c : per_agent) chi2 += std::pow(c - exploring / 5.0, 2) / (exploring / 5.0);
  EXPECT_LT(chi2, 18.47);
}

// Counts of exploring agents follow Binomial(n, p): chi-squared over 0..n.
void ExpectBinomial(ExplorationRule rule, double epsilon, int n, double p) {
  Rng rng(2);
  const int trials = 30000;
  std::vector<int> counts(n + 1, 0);
  for (int t = 0; t < trials; ++t) ++counts[PopCount(ChooseExplorers(rule, epsilon, n, rng))];
  double chi2 = 0;
  int cells = 0;
  for (int k = 0; k <= n; ++k) {
    const double expected = trials * std::tgamma(n + 1) /
                            (std::tgamma(k + 1) * std::tgamma(n - k + 1)) * std::pow(p, k) *
                            std::pow(1 - p, n - k);
    if (expected < 5) continue;  // too rare to test
    chi2 += std::pow(counts[k] - expected, 2) / expected;
    ++cells;
  }
  ASSERT_GE(cells, 2);
  // Critical values at p = 0.001 for 1..5 degrees of freedom.
  const double critical[] = {0, 10.83, 13.82, 16.27, 18.47, 20.52};
  EXPECT_LT(chi2, critical[std::min(cells - 1, 5)]);
}

TEST(Exploration, DecentralizedRuleIsBinomialWithEpsilonOverN) {
  ExpectBinomial(ExplorationRule::kSequentialDecentralized, 0.6, 4, 0.6 / 4);
}

TEST(Exploration, IndependentRuleIsBinomialWithEpsilon) {
  ExpectBinomial(ExplorationRule::kIndependent, 0.3, 4, 0.3);
}

TEST(Exploration, EpsilonAnnealsLinearly) {
  EXPECT_DOUBLE_EQ(EpsilonAt(1.0, 0.05, 1000, 0), 1.0);
  EXPECT_DOUBLE_EQ(EpsilonAt(1.0, 0.05, 1000, 500), 0.525);
  EXPECT_DOUBLE_EQ(EpsilonAt(1.0, 0.05, 1000, 1000), 0.05);
  EXPECT_DOUBLE_EQ(EpsilonAt(1.0, 0.05, 1000, 99999), 0.05);
}

TEST(Exploration, RandomActionsStayInTheBoxAndAmongAvailableActions) {
  Rng rng(3);
  std::vector<float> low = {-1, 0}, high = {1, 0.5}, out(2);
  for (int t = 0; t < 1000; ++t) {
    RandomContinuousAction(low, high, rng, absl::MakeSpan(out));
    ASSERT_TRUE(out[0] >= -1 && out[0] <= 1 && out[1] >= 0 && out[1] <= 0.5);
  }
  std::vector<uint8_t> available = {0, 1, 0, 1, 1};
  std::vector<int> seen(5, 0);
  for (int t = 0; t < 3000; ++t) {
    auto action = RandomAvailableAction(available, rng);
    ASSERT_TRUE(action.ok());
    ++seen[*action];
  }
  EXPECT_EQ(seen[0] + seen[2], 0);
  for (int j : {1, 3, 4}) EXPECT_NEAR(seen[j], 1000, 120);
  EXPECT_TRUE(
      absl::IsFailedPrecondition(RandomAvailableAction(std::vector<uint8_t>{0, 0}, rng).status()));
}

}  // namespace
}  // namespace tandem::actor
