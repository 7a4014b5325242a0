// The learner's two phases against a real replay server (in-process gRPC): offline pretraining at
// rho = 1 writes an offline checkpoint; the online phase starts from it, trains on batches mixed
// at rho from the dataset and actor inserts, publishes weights and resumes from its checkpoint.
#include <ATen/ATen.h>

#include <cstring>
#include <filesystem>
#include <limits>
#include <thread>

#include "common/config.h"
#include "common/parameter_client.h"
#include "common/replay_client.h"
#include "gmock/gmock.h"
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
  for (auto& [name, optimizer] : (*learner)->algorithm().Optimizers()) {
    EXPECT_GT(optimizer->step(), 0) << name << ": the offline phase's Adam state carries over";
  }
  {
    // learner.keep_offline_optimizer_state false: the same parameters, fresh Adam moments.
    learner::LearnerOptions fresh = online;
    fresh.config.mutable_learner()->set_keep_offline_optimizer_state(false);
    auto reset = learner::Learner::Create(fresh, client);
    ASSERT_TRUE(reset.ok());
    ASSERT_TRUE((*reset)->StartOnlineFrom(offline.checkpoint_path).ok());
    EXPECT_EQ((*reset)->algorithm().updates(), 40);
    for (auto& [name, optimizer] : (*reset)->algorithm().Optimizers()) {
      EXPECT_EQ(optimizer->step(), 0) << name;
      for (const at::Tensor& m : optimizer->exp_avg()) EXPECT_EQ(m.abs().sum().item<float>(), 0);
      for (const at::Tensor& v : optimizer->exp_avg_sq()) {
        EXPECT_EQ(v.abs().sum().item<float>(), 0);
      }
    }
  }
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
  // The servers shut down in their destructors, after the subscriber and the learners that hold
  // in-process channels to them: gRPC's in-process transport crashes when a call is started on a
  // channel whose server has shut down (the subscriber reconnects after its stream ends).
}

// Whether every parameter and floating buffer of the algorithm's modules is finite.
bool AllFinite(learner::Algorithm& algorithm) {
  for (auto& [name, module] : algorithm.Modules()) {
    for (const at::Tensor& p : module->parameters()) {
      if (!at::isfinite(p).all().item<bool>()) return false;
    }
  }
  return true;
}

TEST(LearnerPhases, NonFiniteUpdatesAreSkippedCountedAndNeverPublishedOrCheckpointed) {
  const std::string dir = ::testing::TempDir() + "/learner_nonfinite";
  fs::remove_all(dir);
  fs::create_directories(dir);
  const TransitionSpec spec = testing::ContinuousSpec(2, 6, 12, 2);
  const TransitionSchema schema = *TransitionSchema::Create(spec);
  // Finite but absurd rows, as a hostile client inserted them into an unauthenticated run:
  // every loss overflows on the first update.
  TransitionBatch absurd = testing::MakeBatch(schema, 200, 0);
  for (Field field : {Field::kReward, Field::kObs, Field::kNextObs, Field::kState,
                      Field::kNextState, Field::kActions}) {
    std::string* data = MutableField(&absurd, field)->mutable_data();
    std::vector<float> values(data->size() / sizeof(float),
                              field == Field::kReward ? 3e38f : 1e30f);
    std::memcpy(data->data(), values.data(), data->size());
  }
  {
    auto writer = DatasetWriter::Create(dir + "/absurd.h5", spec, {});
    ASSERT_TRUE(writer.ok());
    ASSERT_TRUE((*writer)->Append(absurd).ok());
    ASSERT_TRUE((*writer)->Finish().ok());
  }
  ExperimentConfig config;
  config.mutable_dataset()->set_path(dir + "/absurd.h5");
  config.mutable_replay()->set_offline_ratio(1);
  config.mutable_algorithm()->set_hidden_size(16);
  config.mutable_learner()->set_batch_size(32);
  config.mutable_learner()->set_publish_every_updates(1);
  config.mutable_learner()->set_checkpoint_every_updates(1);
  config.mutable_learner()->set_max_nonfinite_updates(4);
  config.mutable_learner()->set_device("cpu");
  FillDefaults(&config);
  config.mutable_replay()->set_address("127.0.0.1:0");
  auto metrics = *MetricsRegistry::Create("");
  auto replay = replay::ReplayServer::Start(config, metrics.get());
  ASSERT_TRUE(replay.ok()) << replay.status();
  replay::ReplayClient client((*replay)->InProcessChannel(), "");
  auto parameters = learner::ParameterServer::Start("127.0.0.1:0", SecurityConfig(), metrics.get());
  ASSERT_TRUE(parameters.ok());
  ParameterSubscriber subscriber((*parameters)->InProcessChannel(), {});

  learner::LearnerOptions options;
  options.config = config;
  options.spec = spec;
  options.phase = "offline";
  options.checkpoint_path = dir + "/offline.pt";
  options.metrics = metrics.get();
  options.publisher = &(*parameters)->service();
  auto learner = learner::Learner::Create(options, client);
  ASSERT_TRUE(learner.ok()) << learner.status();
  absl::Status status = (*learner)->Train(100, nullptr, nullptr);
  // Four skipped updates in a row stop the learner with an error that names the batch.
  EXPECT_TRUE(absl::IsFailedPrecondition(status)) << status;
  EXPECT_THAT(std::string(status.message()), ::testing::HasSubstr("4 updates in a row"));
  EXPECT_THAT(std::string(status.message()), ::testing::HasSubstr("offline:"));
  EXPECT_EQ(metrics->GetCounter("tandem_learner_nonfinite_updates_total", "").Value(), 4);
  // Nothing non-finite was applied: the parameters are the initial, finite ones, and whatever
  // was published or checkpointed holds them.
  EXPECT_TRUE(AllFinite((*learner)->algorithm()));

  // The last line of defence: parameters made non-finite by other means are never published nor
  // written to a checkpoint.
  {
    at::NoGradGuard no_grad;
    auto modules = (*learner)->algorithm().Modules();
    modules.front().second->parameters().front().fill_(std::numeric_limits<float>::quiet_NaN());
  }
  fs::remove(options.checkpoint_path);
  absl::Status published = (*learner)->Publish();
  EXPECT_TRUE(absl::IsFailedPrecondition(published)) << published;
  EXPECT_THAT(std::string(published.message()), ::testing::HasSubstr("non-finite"));
  EXPECT_TRUE(absl::IsFailedPrecondition((*learner)->WriteCheckpoint()));
  EXPECT_FALSE(fs::exists(options.checkpoint_path));
  // The servers shut down in their destructors, after the clients (see above).
}

}  // namespace
}  // namespace tandem
