#include "common/rng.h"

#include <set>

#include "gtest/gtest.h"

namespace tandem {
namespace {

TEST(Rng, SameSeedAndPathGiveTheSameStream) {
  Rng a(DeriveSeed(42, {SeedStream::kEnv, 3, 7}));
  Rng b(DeriveSeed(42, {SeedStream::kEnv, 3, 7}));
  for (int i = 0; i < 100; ++i) EXPECT_EQ(a(), b());
}

TEST(Rng, DifferentPathsGiveDistinctSeeds) {
  std::set<uint64_t> seeds;
  for (uint64_t actor = 0; actor < 32; ++actor) {
    for (uint64_t env = 0; env < 32; ++env) {
      seeds.insert(DeriveSeed(1, {SeedStream::kEnv, actor, env}));
    }
  }
  EXPECT_EQ(seeds.size(), 32u * 32u);
  EXPECT_NE(DeriveSeed(1, {SeedStream::kEnv, 1, 2}), DeriveSeed(1, {SeedStream::kEnv, 2, 1}));
  EXPECT_NE(DeriveSeed(1, {SeedStream::kEnv}), DeriveSeed(2, {SeedStream::kEnv}));
  EXPECT_NE(DeriveSeed(1, {SeedStream::kEnv}), DeriveSeed(1, {SeedStream::kActor}));
}

TEST(Rng, UniformUnitStaysInRangeWithTheRightMean) {
  Rng rng(7);
  double sum = 0;
  const int n = 100000;
  for (int i = 0; i < n; ++i) {
    double u = UniformUnit(rng);
    ASSERT_GE(u, 0.0);
    ASSERT_LT(u, 1.0);
    sum += u;
  }
  // Standard error of the mean is sqrt(1/12/n) ~ 0.0009; 5 sigma.
  EXPECT_NEAR(sum / n, 0.5, 0.0046);
}

TEST(Rng, UniformIndexCoversTheRange) {
  Rng rng(3);
  std::set<uint64_t> seen;
  for (int i = 0; i < 1000; ++i) {
    uint64_t k = UniformIndex(rng, 5);
    ASSERT_LT(k, 5u);
    seen.insert(k);
  }
  EXPECT_EQ(seen.size(), 5u);
}

}  // namespace
}  // namespace tandem
