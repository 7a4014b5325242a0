#include "replay_server/prioritized_selector.h"

#include <cmath>
#include <map>
#include <vector>

#include "gtest/gtest.h"

namespace tandem::replay {
namespace {

// Pearson's chi-square of `draws` samples against the expected probabilities of the live slots.
double ChiSquare(PrioritizedSelector& selector, const std::map<int64_t, double>& expected,
                 int draws, uint64_t seed) {
  Rng rng(seed);
  std::map<int64_t, int> counts;
  for (int i = 0; i < draws; ++i) {
    const SelectedSlot selected = selector.Sample(rng);
    EXPECT_TRUE(expected.count(selected.slot)) << "drew dead or zero-weight slot " << selected.slot;
    EXPECT_NEAR(selected.probability, expected.at(selected.slot), 1e-12);
    ++counts[selected.slot];
  }
  double chi = 0;
  for (const auto& [slot, p] : expected) {
    const double e = p * draws;
    chi += (counts[slot] - e) * (counts[slot] - e) / e;
  }
  return chi;
}

// Upper 0.1% critical values of chi-square by degrees of freedom.
double Critical(int dof) {
  static const std::map<int, double> table = {{3, 16.27}, {4, 18.47}, {5, 20.52}, {6, 22.46},
                                              {7, 24.32}, {8, 26.12}, {9, 27.88}};
  return table.at(dof);
}

TEST(PrioritizedSelector, DrawsInProportionToPriorityAfterUpdatesAndRemovals) {
  PrioritizedSelector selector(/*capacity=*/13, /*exponent=*/1.0);
  std::map<int64_t, double> priority;
  for (int64_t slot = 0; slot < 10; ++slot) {
    priority[slot] = 1.0 + slot;
    selector.Insert(slot, priority[slot]);
  }
  auto expected = [&] {
    double total = 0;
    for (const auto& [slot, p] : priority) total += p;
    std::map<int64_t, double> out;
    for (const auto& [slot, p] : priority) out[slot] = p / total;
    return out;
  };
  EXPECT_EQ(selector.size(), 10);
  EXPECT_LT(ChiSquare(selector, expected(), 200000, 1), Critical(9));

  ASSERT_TRUE(selector.UpdatePriority(3, 20.0).ok());
  ASSERT_TRUE(selector.UpdatePriority(9, 0.5).ok());
  priority[3] = 20.0;
  priority[9] = 0.5;
  ASSERT_TRUE(selector.Remove(0).ok());
  ASSERT_TRUE(selector.Remove(7).ok());
  priority.erase(0);
  priority.erase(7);
  EXPECT_EQ(selector.size(), 8);
  EXPECT_LT(ChiSquare(selector, expected(), 200000, 2), Critical(7));

  // A removed slot can hold a new item again.
  selector.Insert(7, 4.0);
  priority[7] = 4.0;
  EXPECT_LT(ChiSquare(selector, expected(), 200000, 3), Critical(8));
  double total = 0;
  for (const auto& [slot, p] : priority) total += p;
  EXPECT_NEAR(selector.total_weight(), total, 1e-9);
}

TEST(PrioritizedSelector, ExponentFlattensPriorities) {
  PrioritizedSelector selector(/*capacity=*/4, /*exponent=*/0.5);
  const std::vector<double> priorities = {1, 4, 9, 16};
  for (int64_t slot = 0; slot < 4; ++slot) selector.Insert(slot, priorities[slot]);
  // Weights sqrt(p) = 1, 2, 3, 4.
  const std::map<int64_t, double> expected = {{0, 0.1}, {1, 0.2}, {2, 0.3}, {3, 0.4}};
  EXPECT_LT(ChiSquare(selector, expected, 100000, 4), Critical(3));
}

TEST(PrioritizedSelector, BadUpdatesAreRefusedAndChangeNothing) {
  PrioritizedSelector selector(4, 1.0);
  selector.Insert(0, 1.0);
  selector.Insert(1, 3.0);
  EXPECT_EQ(selector.UpdatePriority(2, 1.0).code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(selector.UpdatePriority(9, 1.0).code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(selector.UpdatePriority(0, -1.0).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(selector.UpdatePriority(0, std::nan("")).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(selector.Remove(3).code(), absl::StatusCode::kNotFound);
  EXPECT_DOUBLE_EQ(selector.total_weight(), 4.0);
}

TEST(PrioritizedSelector, ZeroPrioritiesAreNeverDrawnWhileOthersHaveWeight) {
  PrioritizedSelector selector(6, 1.0);
  selector.Insert(0, 0.0);
  selector.Insert(1, 2.0);
  selector.Insert(2, 0.0);
  Rng rng(5);
  for (int i = 0; i < 10000; ++i) EXPECT_EQ(selector.Sample(rng).slot, 1);
  ASSERT_TRUE(selector.UpdatePriority(1, 0.0).ok());
  // All weights zero: uniform over the live items.
  std::map<int64_t, int> counts;
  for (int i = 0; i < 3000; ++i) ++counts[selector.Sample(rng).slot];
  EXPECT_EQ(counts.size(), 3u);
}

TEST(UniformSelector, HasNoPrioritiesToUpdate) {
  UniformSelector selector(4);
  selector.Insert(0, 1.0);
  EXPECT_EQ(selector.UpdatePriority(0, 2.0).code(), absl::StatusCode::kUnimplemented);
  EXPECT_EQ(selector.Remove(0).code(), absl::StatusCode::kUnimplemented);
}

}  // namespace
}  // namespace tandem::replay
