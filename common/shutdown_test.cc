#include "common/shutdown.h"

#include <csignal>
#include <thread>

#include "absl/synchronization/notification.h"
#include "gtest/gtest.h"

namespace tandem {
namespace {

TEST(Shutdown, SigtermSetsTheFlagAndRecordsTheSignal) {
  ResetShutdownForTesting();
  InstallShutdownHandlers();
  EXPECT_FALSE(ShutdownRequested());
  std::raise(SIGTERM);
  EXPECT_TRUE(ShutdownRequested());
  EXPECT_EQ(ShutdownSignal(), SIGTERM);
  ResetShutdownForTesting();
}

TEST(Shutdown, SigintSetsTheFlag) {
  ResetShutdownForTesting();
  InstallShutdownHandlers();
  std::raise(SIGINT);
  EXPECT_TRUE(ShutdownRequested());
  EXPECT_EQ(ShutdownSignal(), SIGINT);
  ResetShutdownForTesting();
}

TEST(Shutdown, WaitTimesOutWithoutARequest) {
  ResetShutdownForTesting();
  EXPECT_FALSE(WaitForShutdown(absl::Milliseconds(30)));
}

TEST(Shutdown, WaitReturnsWhenAnotherThreadRequestsShutdown) {
  ResetShutdownForTesting();
  absl::Notification woke;
  std::thread waiter([&] {
    EXPECT_TRUE(WaitForShutdown(absl::Seconds(30)));
    woke.Notify();
  });
  EXPECT_FALSE(woke.WaitForNotificationWithTimeout(absl::Milliseconds(30)));
  RequestShutdown();
  EXPECT_TRUE(woke.WaitForNotificationWithTimeout(absl::Seconds(10)));
  waiter.join();
  EXPECT_EQ(ShutdownSignal(), 0);
  ResetShutdownForTesting();
}

}  // namespace
}  // namespace tandem
