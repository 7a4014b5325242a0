// The learner's two phases against a real replay server (in-process gRPC): offline pretraining at
// rho = 1 writes an offline checkpoint; the online phase starts from it, trains on batches mixed
// at rho from the dataset and actor inserts, publishes weights and resumes from its checkpoint.
#include <ATen/ATen.h>

#include <filesystem>
#include <thread>

#include "common/config.h"
#include "common/parameter_client.h"
#include "common/replay_client.h"
#include "gtest/gtest.h"
#include "learner/learner.h"
#include "replay_server/replay_server.h"
#include "tests/transition_testing.h"

namespace tandem {
namespace {

namespace fs = std::filesystem;

TEST(LearnerPhases, OfflineThenOnlineThenResume) {
  const std::string dir = ::testing::TempDir() + "/learner_phases";
  fs::remove_all(dir);
  fs::create_directories(dir);
  const TransitionSpec spec = testing::ContinuousSpec(2, 6, 12, 2);
  const TransitionSchema schema = *TransitionSchema::Create(spec);
  {
    auto writer = DatasetWriter::Create(dir + "/offline.h5", spec, {});
    ASSERT_TRUE(writer.ok());
    ASSERT_TRUE((*writer)->Append(testing::MakeBatch(schema, 500, 0)).ok());
    ASSERT_TRUE((*writer)->Finish().ok());
  }
  ExperimentConfig config;
  config.mutable_dataset()->set_path(dir + "/offline.h5");
  config.mutable_replay()->set_offline_ratio(0.5);
  config.mutable_replay()->set_min_size_to_sample(64);
  config.mutable_algorithm()->set_hidden_size(16);
  config.mutable_algorithm()->mutable_ovm()->set_enabled(true);
  config.mutable_learner()->set_batch_size(32);
  config.mutable_learner()->set_publish_every_updates(10);
  config.mutable_learner()->set_device("cpu");
  FillDefaults(&config);
  config.mutable_replay()->set_address("127.0.0.1:0");
  auto metrics = *MetricsRegistry::Create("");
  auto replay = replay::ReplayServer::Start(config, metrics.get());
  ASSERT_TRUE(replay.ok()) << replay.status();
  replay::ReplayClient client((*replay)->InProcessChannel(), "");

  // Offline phase: rho = 1 regardless of the server's rho.
  learner::LearnerOptions offline;
  offline.config = config;
  offline.spec = spec;
  offline.phase = "offline";
  offline.checkpoint_path = dir + "/offline.pt";
  offline.metrics = metrics.get();
  {
    auto learner = learner::Learner::Create(offline, client);
    ASSERT_TRUE(learner.ok()) << learner.status();
    ASSERT_TRUE((*learner)->Train(40, nullptr, nullptr).ok());
  }
  ASSERT_TRUE(fs::exists(offline.checkpoint_path));

  // Online phase: actors insert while the learner trains at rho = 0.5.
  auto parameters = learner::ParameterServer::Start("127.0.0.1:0", SecurityConfig(), metrics.get());
  ASSERT_TRUE(parameters.ok());
  ParameterSubscriber subscriber((*parameters)->InProcessChannel(), {});
  learner::LearnerOptions online = offline;
  online.phase = "online";
  online.checkpoint_path = dir + "/online.pt";
  online.publisher = &(*parameters)->service();
  auto learner = learner::Learner::Create(online, client);
  ASSERT_TRUE(learner.ok());
  ASSERT_TRUE((*learner)->StartOnlineFrom(offline.checkpoint_path).ok());
  EXPECT_EQ((*learner)->algorithm().updates(), 40);
  std::thread actor([&] {
    auto writer = client.NewWriter();
    for (int b = 0; b < 10; ++b) {
      ASSERT_TRUE(writer->Write(testing::MakeBatch(schema, 20, 100000 + b * 20)).ok());
    }
    ASSERT_TRUE(writer->Finish().ok());
  });
  ASSERT_TRUE((*learner)->Train(70, nullptr, nullptr).ok());
  actor.join();
  EXPECT_EQ((*learner)->algorithm().updates(), 70);
  EXPECT_TRUE(subscriber.WaitForVersion(0, absl::Seconds(10)));
  EXPECT_GT(
      metrics->GetCounter("tandem_replay_sampled_transitions_total", "", {{"table", "online"}})
          .Value(),
      0);

  // Starting online from an online checkpoint is refused; resuming it restores the counters.
  auto other = learner::Learner::Create(online, client);
  ASSERT_TRUE(other.ok());
  EXPECT_TRUE(absl::IsFailedPrecondition((*other)->StartOnlineFrom(online.checkpoint_path)));
  auto resumed = learner::Learner::Create(online, client);
  ASSERT_TRUE(resumed.ok());
  auto info = (*resumed)->Restore(online.checkpoint_path);
  ASSERT_TRUE(info.ok()) << info.status();
  EXPECT_EQ((*resumed)->algorithm().updates(), 70);
  (*parameters)->Shutdown();
  (*replay)->Shutdown();
}

}  // namespace
}  // namespace tandem
