#include "replay_server/rate_limiter.h"

#include <atomic>
#include <thread>
#include <vector>

#include "absl/synchronization/notification.h"
#include "gtest/gtest.h"

namespace tandem::replay {
namespace {

constexpr absl::Duration kForever = absl::InfiniteDuration();

TEST(RateLimiter, SampleToInsertRatioCentresTheWindow) {
  RateLimiterOptions options = SampleToInsertRatio(4.0, 100, 50.0);
  EXPECT_DOUBLE_EQ(options.min_diff, 350);
  EXPECT_DOUBLE_EQ(options.max_diff, 450);
}

TEST(RateLimiter, SamplingBlocksUntilMinSizeThenUnblocks) {
  RateLimiter limiter(SampleToInsertRatio(0, 10, 0));
  absl::Notification sampled;
  std::thread sampler([&] {
    EXPECT_TRUE(limiter.AwaitSample(4, kForever, nullptr, nullptr).ok());
    sampled.Notify();
  });
  limiter.CommitInsert(9);
  EXPECT_FALSE(sampled.WaitForNotificationWithTimeout(absl::Milliseconds(50)));
  limiter.CommitInsert(1);
  EXPECT_TRUE(sampled.WaitForNotificationWithTimeout(absl::Seconds(10)));
  sampler.join();
  EXPECT_EQ(limiter.samples(), 4);
}

TEST(RateLimiter, WithoutARatioInsertsNeverBlock) {
  RateLimiter limiter(SampleToInsertRatio(0, 1, 0));
  for (int i = 0; i < 100; ++i) {
    ASSERT_TRUE(limiter.AwaitCanInsert(1000, absl::ZeroDuration(), nullptr, nullptr).ok());
    limiter.CommitInsert(1000);
  }
}

TEST(RateLimiter, SamplesBlockWhenAheadOfInsertsAndResumeAfterAnInsert) {
  // spi = 2: each inserted transition allows two sampled ones; window 20 +- 10.
  RateLimiter limiter(SampleToInsertRatio(2.0, 10, 10.0));
  limiter.CommitInsert(10);                                               // diff = 20
  ASSERT_TRUE(limiter.AwaitSample(10, kForever, nullptr, nullptr).ok());  // diff = 10
  EXPECT_TRUE(absl::IsDeadlineExceeded(
      limiter.AwaitSample(1, absl::Milliseconds(30), nullptr, nullptr)));  // 9 < min_diff 10
  absl::Notification sampled;
  std::thread sampler([&] {
    EXPECT_TRUE(limiter.AwaitSample(1, kForever, nullptr, nullptr).ok());
    sampled.Notify();
  });
  EXPECT_FALSE(sampled.WaitForNotificationWithTimeout(absl::Milliseconds(50)));
  ASSERT_TRUE(limiter.AwaitCanInsert(1, kForever, nullptr, nullptr).ok());
  limiter.CommitInsert(1);  // diff = 12
  EXPECT_TRUE(sampled.WaitForNotificationWithTimeout(absl::Seconds(10)));
  sampler.join();
}

TEST(RateLimiter, InsertsBlockWhenAheadOfSamplesAndResumeAfterASample) {
  RateLimiter limiter(SampleToInsertRatio(1.0, 10, 5.0));  // window [5, 15]
  limiter.CommitInsert(15);                                // diff = 15
  EXPECT_TRUE(absl::IsDeadlineExceeded(
      limiter.AwaitCanInsert(1, absl::Milliseconds(30), nullptr, nullptr)));
  absl::Notification inserted;
  std::thread inserter([&] {
    EXPECT_TRUE(limiter.AwaitCanInsert(1, kForever, nullptr, nullptr).ok());
    limiter.CommitInsert(1);
    inserted.Notify();
  });
  EXPECT_FALSE(inserted.WaitForNotificationWithTimeout(absl::Milliseconds(50)));
  ASSERT_TRUE(limiter.AwaitSample(3, kForever, nullptr, nullptr).ok());  // diff = 12
  EXPECT_TRUE(inserted.WaitForNotificationWithTimeout(absl::Seconds(10)));
  inserter.join();
}

TEST(RateLimiter, CloseWakesBlockedCallersWithCancelled) {
  RateLimiter limiter(SampleToInsertRatio(1.0, 100, 5.0));
  std::atomic<int> cancelled{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < 3; ++i) {
    threads.emplace_back([&] {
      if (absl::IsCancelled(limiter.AwaitSample(1, kForever, nullptr, nullptr))) ++cancelled;
    });
  }
  absl::SleepFor(absl::Milliseconds(30));
  limiter.Close();
  for (auto& t : threads) t.join();
  EXPECT_EQ(cancelled.load(), 3);
}

TEST(RateLimiter, CancelFunctionEndsTheWait) {
  RateLimiter limiter(SampleToInsertRatio(0, 100, 0));
  std::atomic<bool> gone{false};
  absl::Notification done;
  std::thread sampler([&] {
    EXPECT_TRUE(absl::IsCancelled(limiter.AwaitSample(
        1, kForever, [&] { return gone.load(); }, nullptr)));
    done.Notify();
  });
  EXPECT_FALSE(done.WaitForNotificationWithTimeout(absl::Milliseconds(30)));
  gone = true;
  EXPECT_TRUE(done.WaitForNotificationWithTimeout(absl::Seconds(10)));
  sampler.join();
}

TEST(RateLimiter, BatchesLargerThanTheWindowNeverDeadlock) {
  // Window width 4 but batches of 64 inserts and 128 samples: only the "other side waits" rule
  // lets them progress. Both loops must finish.
  RateLimiter limiter(SampleToInsertRatio(2.0, 64, 2.0));
  constexpr int kRounds = 200;
  std::thread inserter([&] {
    for (int i = 0; i < kRounds; ++i) {
      ASSERT_TRUE(limiter.AwaitCanInsert(64, absl::Seconds(30), nullptr, nullptr).ok());
      limiter.CommitInsert(64);
    }
  });
  std::thread sampler([&] {
    for (int i = 0; i < kRounds - 1; ++i) {
      ASSERT_TRUE(limiter.AwaitSample(128, absl::Seconds(30), nullptr, nullptr).ok());
    }
  });
  inserter.join();
  sampler.join();
  EXPECT_EQ(limiter.inserts(), 64 * kRounds);
}

TEST(RateLimiter, RatioIsHeldWithinTheWindowUnderLoad) {
  const double spi = 4.0;
  RateLimiter limiter(SampleToInsertRatio(spi, 100, 200.0));
  std::atomic<bool> stop{false};
  double worst = 0;
  std::thread sampler([&] {
    while (!stop) {
      if (!limiter.AwaitSample(32, absl::Milliseconds(50), nullptr, nullptr).ok()) continue;
    }
  });
  for (int i = 0; i < 500; ++i) {
    ASSERT_TRUE(limiter.AwaitCanInsert(8, absl::Seconds(30), nullptr, nullptr).ok());
    limiter.CommitInsert(8);
    // The window applies once min_size_to_sample (100) is reached; before, samples just wait.
    if (limiter.inserts() < 100) continue;
    const double diff = limiter.inserts() * spi - limiter.samples();
    worst = std::max(worst, std::abs(diff - 400.0));
  }
  stop = true;
  sampler.join();
  // Window is 400 +- 200. The "other side waits" rule may overshoot by one batch (32), and
  // reading inserts() and samples() under two separate locks may see one more sample batch.
  EXPECT_LE(worst, 200.0 + 2 * 32.0);
}

TEST(RateLimiter, RestoreCentresTheDiff) {
  RateLimiter limiter(SampleToInsertRatio(2.0, 10, 6.0));
  limiter.Restore(1000);
  EXPECT_EQ(limiter.inserts(), 1000);
  EXPECT_EQ(limiter.samples(), 2000 - 20);
}

}  // namespace
}  // namespace tandem::replay
