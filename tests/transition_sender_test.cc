// The actor's sender against a real replay server over TCP: while the server is away, batches
// beyond the local buffer are dropped and counted; once it is up, everything buffered arrives.

#include "actor/transition_sender.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/config.h"
#include "gtest/gtest.h"
#include "replay_server/replay_server.h"
#include "tests/net_testing.h"
#include "tests/transition_testing.h"

namespace tandem {
namespace {

TEST(TransitionSender, BuffersWhileTheReplayIsAwayThenDeliversAfterReconnecting) {
  const int port = testing::FreeLoopbackPort();
  const std::string address = absl::StrCat("127.0.0.1:", port);
  auto client = replay::ReplayClient::Connect(address, SecurityConfig(), "");
  ASSERT_TRUE(client.ok());
  actor::TransitionSenderOptions options;
  options.max_buffered_transitions = 100;
  options.initial_backoff = absl::Milliseconds(20);
  options.max_backoff = absl::Milliseconds(100);
  actor::TransitionSender sender(std::move(*client), options);
  const TransitionSchema schema = *TransitionSchema::Create(testing::ContinuousSpec());
  // 8 batches of 20 while nobody listens: 5 fit the buffer, 3 are dropped and counted.
  int accepted = 0;
  for (int b = 0; b < 8; ++b) accepted += sender.Enqueue(testing::MakeBatch(schema, 20, b * 20));
  EXPECT_EQ(accepted, 5);
  EXPECT_EQ(sender.dropped_transitions(), 60);
  const absl::Time deadline = absl::Now() + absl::Seconds(20);
  while (sender.reconnects() < 1 && absl::Now() < deadline) absl::SleepFor(absl::Milliseconds(10));
  EXPECT_GE(sender.reconnects(), 1);

  ExperimentConfig config;
  FillDefaults(&config);
  config.mutable_replay()->set_address(address);
  config.mutable_replay()->set_offline_ratio(0);
  auto metrics = *MetricsRegistry::Create("");
  auto server = replay::ReplayServer::Start(config, metrics.get());
  ASSERT_TRUE(server.ok()) << server.status();
  sender.Close(absl::Seconds(30));
  EXPECT_EQ(sender.acknowledged_transitions(), 100);
  EXPECT_EQ(sender.buffered_transitions(), 0);
  EXPECT_EQ((*server)->service().online_size(), 100);
}

TEST(TransitionSender, AReachableReplayAppliesBackPressureInsteadOfDropping) {
  ExperimentConfig config;
  FillDefaults(&config);
  config.mutable_replay()->set_address("127.0.0.1:0");
  config.mutable_replay()->set_offline_ratio(0);
  auto metrics = *MetricsRegistry::Create("");
  auto server = replay::ReplayServer::Start(config, metrics.get());
  ASSERT_TRUE(server.ok());
  auto client = replay::ReplayClient::Connect((*server)->address(), SecurityConfig(), "");
  ASSERT_TRUE(client.ok());
  actor::TransitionSenderOptions options;
  options.max_buffered_transitions = 40;
  actor::TransitionSender sender(std::move(*client), options);
  const TransitionSchema schema = *TransitionSchema::Create(testing::ContinuousSpec());
  for (int b = 0; b < 50; ++b) ASSERT_TRUE(sender.Enqueue(testing::MakeBatch(schema, 20, b * 20)));
  sender.Close(absl::Seconds(30));
  EXPECT_EQ(sender.dropped_transitions(), 0);
  EXPECT_EQ(sender.acknowledged_transitions(), 1000);
}

}  // namespace
}  // namespace tandem
