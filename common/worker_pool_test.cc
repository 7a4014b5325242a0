#include "common/worker_pool.h"

#include <atomic>
#include <set>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "gtest/gtest.h"

namespace tandem {
namespace {

TEST(WorkerPool, RunsEveryIndexOnceOnItsFixedThread) {
  for (int threads : {1, 2, 3}) {
    WorkerPool pool(threads);
    EXPECT_EQ(pool.threads(), threads);
    for (int n : {0, 1, 2, 7}) {
      std::vector<int> runs(n, 0);
      std::vector<std::thread::id> ran_on(n);
      ASSERT_TRUE(pool.ForEach(n,
                               [&](int i) {
                                 ++runs[i];
                                 ran_on[i] = std::this_thread::get_id();
                                 return absl::OkStatus();
                               })
                      .ok());
      for (int i = 0; i < n; ++i) {
        EXPECT_EQ(runs[i], 1) << "threads " << threads << " n " << n << " index " << i;
        // Index i runs on thread i % threads; thread 0 is the caller.
        if (i % threads == 0) {
          EXPECT_EQ(ran_on[i], std::this_thread::get_id());
        }
        if (i >= threads) {
          EXPECT_EQ(ran_on[i], ran_on[i % threads]);
        }
      }
    }
  }
}

TEST(WorkerPool, UsesDistinctThreadsInParallel) {
  WorkerPool pool(2);
  // Both indices wait for each other: this finishes only if they run at the same time.
  std::atomic<int> arrived{0};
  ASSERT_TRUE(pool.ForEach(2,
                           [&](int) {
                             ++arrived;
                             while (arrived.load() < 2) std::this_thread::yield();
                             return absl::OkStatus();
                           })
                  .ok());
  EXPECT_EQ(arrived.load(), 2);
}

TEST(WorkerPool, ReturnsTheFirstThreadsErrorAndStaysUsable) {
  WorkerPool pool(2);
  absl::Status status = pool.ForEach(6, [](int i) {
    if (i == 3 || i == 4) return absl::InternalError(absl::StrCat("index ", i));
    return absl::OkStatus();
  });
  // Thread 0 takes 0, 2, 4; thread 1 takes 1, 3, 5: thread 0's error is reported.
  EXPECT_EQ(status.message(), "index 4");
  std::vector<int> runs(5, 0);
  EXPECT_TRUE(pool.ForEach(5,
                           [&](int i) {
                             ++runs[i];
                             return absl::OkStatus();
                           })
                  .ok());
  EXPECT_EQ(runs, std::vector<int>(5, 1));
}

}  // namespace
}  // namespace tandem
