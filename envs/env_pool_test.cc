#include "envs/env_pool.h"

#include <cstring>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace tandem::envs {
namespace {

// Steps a pool with a fixed action pattern; returns every obs buffer and reward concatenated.
std::vector<float> RunPool(int threads, int steps) {
  auto pool =
      EnvPool::Create("mamujoco/HalfCheetah-6x1", 5, 42, threads, {{"episode_limit", "20"}});
  EXPECT_TRUE(pool.ok()) << pool.status();
  EXPECT_TRUE((*pool)->ResetAll().ok());
  const EnvSpec& spec = (*pool)->spec();
  std::vector<float> actions(5 * spec.num_agents * spec.action_size);
  std::vector<float> trace;
  for (int t = 0; t < steps; ++t) {
    for (size_t j = 0; j < actions.size(); ++j) actions[j] = std::sin(0.1 * t + j);
    EXPECT_TRUE((*pool)->Step(actions).ok());
    trace.insert(trace.end(), (*pool)->obs().begin(), (*pool)->obs().end());
    trace.insert(trace.end(), (*pool)->reward().begin(), (*pool)->reward().end());
    EXPECT_TRUE((*pool)->ResetFinished().ok());
  }
  return trace;
}

TEST(EnvPool, ThreadedStepsEqualInlineSteps) {
  std::vector<float> inline_trace = RunPool(1, 50);
  std::vector<float> threaded = RunPool(3, 50);
  ASSERT_EQ(inline_trace.size(), threaded.size());
  EXPECT_EQ(std::memcmp(inline_trace.data(), threaded.data(), inline_trace.size() * 4), 0);
}

TEST(EnvPool, EnvsGetDistinctSeeds) {
  auto pool = EnvPool::Create("mamujoco/Hopper-3x1", 4, 1);
  ASSERT_TRUE(pool.ok());
  ASSERT_TRUE((*pool)->ResetAll().ok());
  const size_t per = (*pool)->spec().num_agents * (*pool)->spec().obs_size;
  const float* obs = (*pool)->obs().data();
  for (int i = 1; i < 4; ++i) EXPECT_NE(std::memcmp(obs, obs + i * per, per * 4), 0);
}

TEST(EnvPool, FinishedEpisodesRestart) {
  auto pool = EnvPool::Create("mamujoco/HalfCheetah-2x3", 2, 3, 1, {{"episode_limit", "3"}});
  ASSERT_TRUE(pool.ok());
  ASSERT_TRUE((*pool)->ResetAll().ok());
  std::vector<float> zero(2 * 2 * 3, 0.f);
  for (int t = 1; t <= 7; ++t) {
    ASSERT_TRUE((*pool)->Step(zero).ok());
    EXPECT_EQ((*pool)->truncated()[0], t % 3 == 0) << t;
    ASSERT_TRUE((*pool)->ResetFinished().ok());
    EXPECT_EQ((*pool)->env(0).episode_step(), t % 3);
  }
  EXPECT_EQ((*pool)->total_steps(), 14);
}

TEST(EnvPool, WrongActionCountIsAnError) {
  auto pool = EnvPool::Create("mamujoco/HalfCheetah-6x1", 2, 1);
  ASSERT_TRUE(pool.ok());
  ASSERT_TRUE((*pool)->ResetAll().ok());
  EXPECT_THAT((*pool)->Step(std::vector<float>(5, 0.f)).message(),
              ::testing::HasSubstr("expected 12"));
}

TEST(EnvPool, BadArgumentsAreRejected) {
  EXPECT_FALSE(EnvPool::Create("mamujoco/HalfCheetah-6x1", 0, 1).ok());
  EXPECT_FALSE(EnvPool::Create("mamujoco/HalfCheetah-6x1", 2, 1, 0).ok());
  EXPECT_FALSE(EnvPool::Create("mamujoco/Nope-1x1", 2, 1).ok());
}

}  // namespace
}  // namespace tandem::envs
