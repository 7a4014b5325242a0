#include <cstdint>
#include <vector>

#include "actor/evaluator_role.h"
#include "gtest/gtest.h"

namespace tandem::actor {
namespace {

// The versions a schedule evaluates out of (version, env steps) pairs as they are published.
std::vector<uint64_t> Evaluated(EvaluationSchedule schedule,
                                const std::vector<std::pair<uint64_t, int64_t>>& published) {
  std::vector<uint64_t> versions;
  for (const auto& [version, env_steps] : published) {
    if (schedule.Due(version, env_steps)) versions.push_back(version);
  }
  return versions;
}

TEST(EvaluationSchedule, EveryVersionsCountsFromTheFirstSeen) {
  std::vector<std::pair<uint64_t, int64_t>> published;
  for (uint64_t v = 3; v <= 30; ++v) published.emplace_back(v, 0);
  EXPECT_EQ(Evaluated(EvaluationSchedule(10, 0), published), (std::vector<uint64_t>{3, 13, 23}));
}

// pymarl's test_interval: the first weights published at least every_env_steps after the last
// evaluated ones, however many versions that took.
TEST(EvaluationSchedule, EveryEnvStepsFollowsTheStepsNotTheVersions) {
  const std::vector<std::pair<uint64_t, int64_t>> published = {
      {1, 0},     {2, 3000},  {3, 9999},  {4, 10000}, {5, 12000},
      {6, 19999}, {7, 25000}, {8, 34999}, {9, 35000}, {10, 90000}};
  EXPECT_EQ(Evaluated(EvaluationSchedule(10, 10000), published),
            (std::vector<uint64_t>{1, 4, 7, 9, 10}));
}

// A learner restarted from a checkpoint publishes lower versions again: they are evaluated at once
// and counted from.
TEST(EvaluationSchedule, ALowerVersionStartsTheCountAgain) {
  const std::vector<std::pair<uint64_t, int64_t>> published = {
      {10, 0}, {15, 500}, {20, 1000}, {4, 1100}, {9, 1200}, {14, 1300}};
  EXPECT_EQ(Evaluated(EvaluationSchedule(10, 0), published),
            (std::vector<uint64_t>{10, 20, 4, 14}));
}

}  // namespace
}  // namespace tandem::actor
