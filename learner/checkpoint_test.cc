#include "learner/checkpoint.h"

#include <ATen/ATen.h>

#include <filesystem>
#include <fstream>

#include "common/config.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "learner/omiga.h"

namespace tandem::learner {
namespace {

AlgorithmContext Context(int obs) {
  AlgorithmContext context;
  context.spec.set_num_agents(3);
  context.spec.set_obs_size(obs);
  context.spec.set_state_size(3 * obs);
  context.spec.set_action_type(ACTION_TYPE_CONTINUOUS);
  context.spec.set_action_size(2);
  FillDefaults(&context.config);
  context.config.set_hidden_size(16);
  context.config.set_mixer_hidden_size(8);
  return context;
}

TrainingBatch Batch(int obs, int seed) {
  at::manual_seed(seed);
  TrainingBatch b;
  b.obs = at::randn({16, 3, obs});
  b.next_obs = at::randn({16, 3, obs});
  b.state = b.obs.reshape({16, -1});
  b.next_state = b.next_obs.reshape({16, -1});
  b.actions = at::rand({16, 3, 2}) * 2 - 1;
  b.reward = at::randn({16});
  b.terminated = at::zeros({16});
  return b;
}

std::string Path(const std::string& name) { return ::testing::TempDir() + "/checkpoint_" + name; }

TEST(Checkpoint, ResumedTrainingIsIdenticalToUninterruptedTraining) {
  auto a = Omiga::Create(Context(4));
  ASSERT_TRUE(a.ok());
  for (int i = 0; i < 5; ++i) ASSERT_TRUE((*a)->Update(Batch(4, i)).ok());
  (*a)->set_env_steps(1234);
  const std::string path = Path("resume.pt");
  ASSERT_TRUE(SaveCheckpoint(path, **a, {"omiga", Context(4).spec, 0, 0, "offline"}).ok());

  auto b = Omiga::Create(Context(4));
  ASSERT_TRUE(b.ok());
  auto info = LoadCheckpoint(path, **b);
  ASSERT_TRUE(info.ok()) << info.status();
  EXPECT_EQ(info->updates, 5);
  EXPECT_EQ((*b)->updates(), 5);
  EXPECT_EQ((*b)->env_steps(), 1234);
  EXPECT_EQ(info->phase, "offline");
  EXPECT_EQ((*b)->q_optimizer().step(), 5);

  for (int i = 5; i < 8; ++i) {
    auto sa = (*a)->Update(Batch(4, i));
    auto sb = (*b)->Update(Batch(4, i));
    ASSERT_TRUE(sa.ok() && sb.ok());
    EXPECT_DOUBLE_EQ(sa->at("q_loss"), sb->at("q_loss"));
  }
  auto modules_a = (*a)->Modules(), modules_b = (*b)->Modules();
  for (size_t m = 0; m < modules_a.size(); ++m) {
    auto pa = modules_a[m].second->parameters(), pb = modules_b[m].second->parameters();
    for (size_t i = 0; i < pa.size(); ++i)
      EXPECT_TRUE(at::equal(pa[i], pb[i])) << modules_a[m].first;
  }
}

TEST(Checkpoint, MismatchedShapeIsRefusedAndLeavesTheAlgorithmUnchanged) {
  auto small = Omiga::Create(Context(4));
  ASSERT_TRUE(small.ok());
  const std::string path = Path("small.pt");
  ASSERT_TRUE(SaveCheckpoint(path, **small, {"omiga", Context(4).spec, 0, 0, "offline"}).ok());
  auto other = Omiga::Create(Context(5));
  ASSERT_TRUE(other.ok());
  const at::Tensor before = (*other)->q()->parameters()[0].clone();
  auto info = LoadCheckpoint(path, **other);
  ASSERT_FALSE(info.ok());
  EXPECT_TRUE(absl::IsFailedPrecondition(info.status()));
  EXPECT_THAT(info.status().message(), ::testing::HasSubstr("another shape"));
  EXPECT_TRUE(at::equal(before, (*other)->q()->parameters()[0]));
}

TEST(Checkpoint, CorruptOrMissingFilesAreClearErrors) {
  auto omiga = Omiga::Create(Context(4));
  ASSERT_TRUE(omiga.ok());
  EXPECT_TRUE(absl::IsNotFound(LoadCheckpoint(Path("none.pt"), **omiga).status()));
  const std::string path = Path("corrupt.pt");
  ASSERT_TRUE(SaveCheckpoint(path, **omiga, {"omiga", Context(4).spec, 0, 0, "offline"}).ok());
  std::filesystem::resize_file(path, std::filesystem::file_size(path) / 2);
  auto info = LoadCheckpoint(path, **omiga);
  ASSERT_FALSE(info.ok());
  EXPECT_TRUE(absl::IsDataLoss(info.status())) << info.status();
  EXPECT_THAT(info.status().message(), ::testing::HasSubstr(path));
  std::ofstream(Path("text.pt")) << "hello";
  EXPECT_TRUE(absl::IsDataLoss(LoadCheckpoint(Path("text.pt"), **omiga).status()));
}

TEST(Checkpoint, HeaderCanBeReadAlone) {
  auto omiga = Omiga::Create(Context(4));
  ASSERT_TRUE(omiga.ok());
  const std::string path = Path("header.pt");
  ASSERT_TRUE(SaveCheckpoint(path, **omiga, {"omiga", Context(4).spec, 0, 0, "online"}).ok());
  auto info = ReadCheckpointInfo(path);
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(info->algorithm, "omiga");
  EXPECT_EQ(info->phase, "online");
  EXPECT_EQ(info->spec.obs_size(), 4);
}

}  // namespace
}  // namespace tandem::learner
