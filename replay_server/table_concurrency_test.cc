// The replay table's locking contract under concurrency: inserts (exclusive lock), samples (shared
// lock, const selector) and priority updates (exclusive lock) from many threads at once, on a
// uniform ring and on a prioritized table. Runs in the ordinary suite and, where it matters, in the
// ThreadSanitizer build (CTest label "tsan").
#include <algorithm>
#include <atomic>
#include <thread>
#include <vector>

#include "gtest/gtest.h"
#include "replay_server/rate_limiter.h"
#include "replay_server/table.h"
#include "tests/transition_testing.h"

namespace tandem::replay {
namespace {

// Three writers insert while two samplers draw (and, on a prioritized table, update the priorities
// of what they drew). The table starts with one row so that sampling can begin at once.
void Hammer(Table& table, bool prioritized) {
  const TransitionSchema& schema = table.schema();
  constexpr int kWriters = 3, kBatches = 60, kRows = 16;
  std::atomic<bool> done{false};
  std::atomic<int64_t> bad_rows{0}, samples{0};
  std::vector<std::thread> threads;
  for (int w = 0; w < kWriters; ++w) {
    threads.emplace_back([&, w] {
      for (int b = 0; b < kBatches; ++b) {
        const int64_t first = (w * kBatches + b) * kRows;
        table.Insert(testing::MakeBatch(schema, kRows, first), kRows);
      }
    });
  }
  for (int s = 0; s < 2; ++s) {
    threads.emplace_back([&, s] {
      Rng rng(s + 1);
      TransitionBatch out;
      schema.Allocate(8, &out);
      std::vector<int64_t> keys(8);
      std::vector<double> probabilities(8);
      // At least 50 draws each, even if the writers finish before this thread starts.
      for (int draws = 0; !done.load() || draws < 50; ++draws) {
        if (!table.SampleInto(8, rng, &out, 0, keys.data(), probabilities.data()).ok()) continue;
        samples += 8;
        for (int i = 0; i < 8; ++i) {
          // Every sampled row is whole: its columns agree on one id (no torn copy).
          if (!testing::RowMatchesId(schema, out, i, testing::RowId(out, i))) ++bad_rows;
        }
        if (prioritized) {
          std::vector<double> priorities(keys.size(), 0.5 + s);
          (void)table.UpdatePriorities(keys, priorities);
        }
      }
    });
  }
  for (int w = 0; w < kWriters; ++w) threads[w].join();
  done = true;
  for (size_t t = kWriters; t < threads.size(); ++t) threads[t].join();
  const int64_t total = 1 + kWriters * kBatches * kRows;
  EXPECT_EQ(table.inserted_total(), total);
  EXPECT_EQ(table.size(), std::min<int64_t>(table.capacity(), total));
  EXPECT_EQ(bad_rows.load(), 0);
  EXPECT_GT(samples.load(), 0);
}

TEST(TableConcurrency, UniformRingInsertsAndSamplesFromManyThreads) {
  const TransitionSchema schema = *TransitionSchema::Create(testing::ContinuousSpec());
  auto table = *Table::Create("online", schema, 700, std::make_unique<UniformSelector>(700));
  table->Insert(testing::MakeBatch(schema, 1, 0), 1);
  Hammer(*table, false);
}

TEST(TableConcurrency, PrioritizedTableInsertsSamplesAndUpdatesFromManyThreads) {
  const TransitionSchema schema = *TransitionSchema::Create(testing::DiscreteSpec());
  TableConfig config;
  config.set_selector(TableConfig::SELECTOR_PRIORITIZED);
  auto table = *Table::Create("online", schema, 700, Table::MakeSelector(config, 700));
  table->Insert(testing::MakeBatch(schema, 1, 0), 1);
  Hammer(*table, true);
}

TEST(TableConcurrency, RateLimiterAdmitsInsertsAndSamplesFromManyThreads) {
  RateLimiter limiter(SampleToInsertRatio(2.0, 10, 40));
  std::atomic<int64_t> inserted{0}, sampled{0};
  std::vector<std::thread> threads;
  for (int w = 0; w < 2; ++w) {
    threads.emplace_back([&] {
      for (int i = 0; i < 200; ++i) {
        double waited = 0;
        if (!limiter
                 .AwaitCanInsert(
                     1, absl::Seconds(10), [] { return false; }, &waited)
                 .ok()) {
          return;
        }
        limiter.CommitInsert(1);
        ++inserted;
      }
    });
  }
  for (int s = 0; s < 2; ++s) {
    threads.emplace_back([&] {
      for (int i = 0; i < 200; ++i) {
        double waited = 0;
        if (!limiter
                 .AwaitSample(
                     2, absl::Seconds(10), [] { return false; }, &waited)
                 .ok())
          return;
        sampled += 2;
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  EXPECT_EQ(inserted.load(), 400);
  EXPECT_EQ(sampled.load(), 800);
}

}  // namespace
}  // namespace tandem::replay
