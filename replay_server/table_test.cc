#include "replay_server/table.h"

#include <map>
#include <set>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/transition_testing.h"

namespace tandem::replay {
namespace {

using testing::ContinuousSpec;
using testing::DiscreteSpec;
using testing::MakeBatch;
using testing::RowId;

std::unique_ptr<Table> MakeTable(const TransitionSchema& schema, int64_t capacity) {
  return *Table::Create("online", schema, capacity, std::make_unique<UniformSelector>(capacity));
}

// Samples `count` rows and returns the batch plus keys.
TransitionBatch Sample(Table& table, int64_t count, Rng& rng, std::vector<int64_t>* keys) {
  TransitionBatch out;
  table.schema().Allocate(count, &out);
  keys->assign(count, -1);
  std::vector<double> probabilities(count);
  EXPECT_TRUE(table.SampleInto(count, rng, &out, 0, keys->data(), probabilities.data()).ok());
  return out;
}

TEST(Table, SampledRowsAreExactCopiesOfInsertedRows) {
  for (const TransitionSpec& spec : {ContinuousSpec(), DiscreteSpec()}) {
    TransitionSchema schema = *TransitionSchema::Create(spec);
    auto table = MakeTable(schema, 100);
    EXPECT_EQ(table->Insert(MakeBatch(schema, 30, 0), 30), 0);
    EXPECT_EQ(table->Insert(MakeBatch(schema, 20, 30), 20), 30);
    EXPECT_EQ(table->size(), 50);
    Rng rng(1);
    std::vector<int64_t> keys;
    TransitionBatch out = Sample(*table, 200, rng, &keys);
    for (int64_t i = 0; i < 200; ++i) {
      ASSERT_EQ(RowId(out, i), keys[i]);
      ASSERT_TRUE(testing::RowMatchesId(schema, out, i, keys[i]));
      ASSERT_LT(keys[i], 50);
    }
    EXPECT_EQ(table->sampled_total(), 200);
  }
}

TEST(Table, FifoRingEvictsTheOldestItems) {
  TransitionSchema schema = *TransitionSchema::Create(ContinuousSpec());
  auto table = MakeTable(schema, 64);
  for (int b = 0; b < 10; ++b) table->Insert(MakeBatch(schema, 25, b * 25), 25);
  EXPECT_EQ(table->size(), 64);
  EXPECT_EQ(table->inserted_total(), 250);
  Rng rng(2);
  std::vector<int64_t> keys;
  TransitionBatch out = Sample(*table, 2000, rng, &keys);
  std::set<int64_t> seen(keys.begin(), keys.end());
  EXPECT_EQ(*seen.begin(), 250 - 64);
  EXPECT_EQ(*seen.rbegin(), 249);
  EXPECT_EQ(seen.size(), 64u);
}

TEST(Table, BatchLargerThanCapacityKeepsItsNewestRows) {
  TransitionSchema schema = *TransitionSchema::Create(ContinuousSpec());
  auto table = MakeTable(schema, 10);
  table->Insert(MakeBatch(schema, 25, 0), 25);
  std::vector<int64_t> chunk_ids;
  ASSERT_TRUE(table
                  ->ForEachChunk(4,
                                 [&](const TransitionBatch& chunk) {
                                   for (int64_t i = 0; i < NumTransitions(chunk); ++i) {
                                     chunk_ids.push_back(RowId(chunk, i));
                                   }
                                   return absl::OkStatus();
                                 })
                  .ok());
  EXPECT_THAT(chunk_ids, ::testing::ElementsAre(15, 16, 17, 18, 19, 20, 21, 22, 23, 24));
}

TEST(Table, ForEachChunkVisitsLiveItemsOldestFirstAcrossTheWrap) {
  TransitionSchema schema = *TransitionSchema::Create(ContinuousSpec());
  auto table = MakeTable(schema, 8);
  table->Insert(MakeBatch(schema, 6, 0), 6);
  table->Insert(MakeBatch(schema, 5, 6), 5);  // wraps: ids 3..10 live
  std::vector<int64_t> ids;
  ASSERT_TRUE(table
                  ->ForEachChunk(3,
                                 [&](const TransitionBatch& chunk) {
                                   EXPECT_LE(NumTransitions(chunk), 3);
                                   for (int64_t i = 0; i < NumTransitions(chunk); ++i) {
                                     ids.push_back(RowId(chunk, i));
                                   }
                                   return absl::OkStatus();
                                 })
                  .ok());
  EXPECT_THAT(ids, ::testing::ElementsAre(3, 4, 5, 6, 7, 8, 9, 10));
}

TEST(Table, UniformSamplingHitsEveryItemEvenly) {
  TransitionSchema schema = *TransitionSchema::Create(ContinuousSpec());
  auto table = MakeTable(schema, 10);
  table->Insert(MakeBatch(schema, 10, 0), 10);
  Rng rng(3);
  std::vector<int64_t> keys;
  const int n = 20000;
  Sample(*table, n, rng, &keys);
  std::vector<int> counts(10, 0);
  for (int64_t key : keys) ++counts[key];
  // Each count is Binomial(20000, 0.1): sd ~ 42; allow 5 sd.
  for (int c : counts) EXPECT_NEAR(c, 2000, 212);
}

TEST(Table, EmptyTableRefusesToSample) {
  TransitionSchema schema = *TransitionSchema::Create(ContinuousSpec());
  auto table = MakeTable(schema, 10);
  TransitionBatch out;
  schema.Allocate(1, &out);
  int64_t key;
  double probability;
  Rng rng(4);
  EXPECT_TRUE(absl::IsFailedPrecondition(table->SampleInto(1, rng, &out, 0, &key, &probability)));
}

TEST(Table, SamplesLandAtTheRequestedOffset) {
  TransitionSchema schema = *TransitionSchema::Create(ContinuousSpec());
  auto table = MakeTable(schema, 10);
  table->Insert(MakeBatch(schema, 1, 7), 1);
  TransitionBatch out = MakeBatch(schema, 4, 100);
  int64_t keys[2];
  double probabilities[2];
  Rng rng(5);
  ASSERT_TRUE(table->SampleInto(2, rng, &out, 2, keys, probabilities).ok());
  EXPECT_EQ(RowId(out, 0), 100);
  EXPECT_EQ(RowId(out, 1), 101);
  EXPECT_EQ(RowId(out, 2), 7);
  EXPECT_EQ(RowId(out, 3), 7);
  EXPECT_DOUBLE_EQ(probabilities[0], 1.0);
}

TEST(Table, InsertedPrioritiesAndTheDefaultMaximumWeighPrioritizedSampling) {
  TransitionSchema schema = *TransitionSchema::Create(ContinuousSpec());
  TableConfig config;
  config.set_selector(TableConfig::SELECTOR_PRIORITIZED);
  config.set_priority_exponent(1.0);
  auto table = *Table::Create("online", schema, 8, Table::MakeSelector(config, 8));
  EXPECT_EQ(table->selector_name(), "prioritized");
  const std::vector<double> priorities = {0, 0, 6, 0};
  table->Insert(MakeBatch(schema, 4, 0), 4, priorities);
  // No priorities given: the new item gets the highest so far (6), as in prioritized replay.
  table->Insert(MakeBatch(schema, 1, 4), 1);
  Rng rng(3);
  std::vector<int64_t> keys;
  Sample(*table, 2000, rng, &keys);
  std::map<int64_t, int> counts;
  for (int64_t key : keys) ++counts[key];
  EXPECT_EQ(counts.size(), 2u);
  EXPECT_NEAR(counts[2] / 2000.0, 0.5, 0.05);
  EXPECT_NEAR(counts[4] / 2000.0, 0.5, 0.05);
  // Key 9 was never inserted; key 2's update counts, the table has no uniform fallback to hide it.
  auto missing = table->UpdatePriorities(std::vector<int64_t>{2, 9}, std::vector<double>{0, 1});
  ASSERT_TRUE(missing.ok());
  EXPECT_EQ(*missing, 1);
  Sample(*table, 500, rng, &keys);
  for (int64_t key : keys) EXPECT_EQ(key, 4);
}

TEST(Table, UniformTablesRefusePriorityUpdates) {
  TransitionSchema schema = *TransitionSchema::Create(ContinuousSpec());
  auto table = MakeTable(schema, 8);
  table->Insert(MakeBatch(schema, 4, 0), 4);
  EXPECT_TRUE(absl::IsFailedPrecondition(
      table->UpdatePriorities(std::vector<int64_t>{1}, std::vector<double>{2}).status()));
}

}  // namespace
}  // namespace tandem::replay
