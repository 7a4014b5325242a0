#include "common/bounded_queue.h"

#include <atomic>
#include <memory>
#include <thread>
#include <vector>

#include "absl/synchronization/notification.h"
#include "gtest/gtest.h"

namespace tandem {
namespace {

TEST(BoundedQueue, KeepsFifoOrder) {
  BoundedQueue<int> queue(3);
  ASSERT_TRUE(queue.Push(1).ok());
  ASSERT_TRUE(queue.Push(2).ok());
  int item = 0;
  ASSERT_TRUE(queue.Pop(&item).ok());
  EXPECT_EQ(item, 1);
  ASSERT_TRUE(queue.Pop(&item).ok());
  EXPECT_EQ(item, 2);
}

TEST(BoundedQueue, PushTimesOutWhenFull) {
  BoundedQueue<int> queue(1);
  ASSERT_TRUE(queue.Push(1).ok());
  EXPECT_TRUE(absl::IsDeadlineExceeded(queue.Push(2, absl::Milliseconds(10))));
  EXPECT_EQ(queue.size(), 1u);
}

TEST(BoundedQueue, PopTimesOutWhenEmpty) {
  BoundedQueue<int> queue(1);
  int item = 0;
  EXPECT_TRUE(absl::IsDeadlineExceeded(queue.Pop(&item, absl::Milliseconds(10))));
}

TEST(BoundedQueue, BlockedPushResumesWhenAnItemIsPopped) {
  BoundedQueue<int> queue(1);
  ASSERT_TRUE(queue.Push(1).ok());
  absl::Notification pushed;
  std::thread producer([&] {
    EXPECT_TRUE(queue.Push(2).ok());
    pushed.Notify();
  });
  EXPECT_FALSE(pushed.WaitForNotificationWithTimeout(absl::Milliseconds(50)));
  int item = 0;
  ASSERT_TRUE(queue.Pop(&item).ok());
  EXPECT_TRUE(pushed.WaitForNotificationWithTimeout(absl::Seconds(10)));
  producer.join();
}

TEST(BoundedQueue, CloseWakesEveryWaitingPop) {
  BoundedQueue<int> queue(2);
  std::atomic<int> cancelled{0};
  std::vector<std::thread> consumers;
  for (int i = 0; i < 3; ++i) {
    consumers.emplace_back([&] {
      int item = 0;
      if (absl::IsCancelled(queue.Pop(&item))) ++cancelled;
    });
  }
  absl::SleepFor(absl::Milliseconds(20));
  queue.Close();
  for (auto& t : consumers) t.join();
  EXPECT_EQ(cancelled.load(), 3);
}

TEST(BoundedQueue, CloseWakesAWaitingPush) {
  BoundedQueue<int> queue(1);
  ASSERT_TRUE(queue.Push(1).ok());
  absl::Notification done;
  std::thread producer([&] {
    EXPECT_TRUE(absl::IsCancelled(queue.Push(2)));
    done.Notify();
  });
  EXPECT_FALSE(done.WaitForNotificationWithTimeout(absl::Milliseconds(30)));
  queue.Close();
  EXPECT_TRUE(done.WaitForNotificationWithTimeout(absl::Seconds(10)));
  producer.join();
}

TEST(BoundedQueue, ItemsPushedBeforeCloseCanStillBeDrained) {
  BoundedQueue<std::unique_ptr<int>> queue(4);
  ASSERT_TRUE(queue.Push(std::make_unique<int>(5)).ok());
  queue.Close();
  EXPECT_TRUE(absl::IsCancelled(queue.Push(std::make_unique<int>(6))));
  std::unique_ptr<int> item;
  ASSERT_TRUE(queue.Pop(&item).ok());
  EXPECT_EQ(*item, 5);
  EXPECT_TRUE(absl::IsCancelled(queue.Pop(&item)));
}

TEST(BoundedQueue, ManyProducersAndConsumersDeliverEveryItemOnce) {
  BoundedQueue<int> queue(8);
  constexpr int kProducers = 4, kPerProducer = 2000;
  std::atomic<long> sum{0};
  std::atomic<int> count{0};
  std::vector<std::thread> threads;
  for (int p = 0; p < kProducers; ++p) {
    threads.emplace_back([&, p] {
      for (int i = 0; i < kPerProducer; ++i) ASSERT_TRUE(queue.Push(p * kPerProducer + i).ok());
    });
  }
  std::vector<std::thread> consumers;
  for (int c = 0; c < 3; ++c) {
    consumers.emplace_back([&] {
      int item = 0;
      while (queue.Pop(&item).ok()) {
        sum += item;
        ++count;
      }
    });
  }
  for (auto& t : threads) t.join();
  queue.Close();
  for (auto& t : consumers) t.join();
  const long n = kProducers * kPerProducer;
  EXPECT_EQ(count.load(), n);
  EXPECT_EQ(sum.load(), n * (n - 1) / 2);
}

}  // namespace
}  // namespace tandem
