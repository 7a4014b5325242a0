#include "replay_server/wal.h"

#include <filesystem>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/transition_testing.h"

namespace tandem::replay {
namespace {

namespace fs = std::filesystem;
using testing::ContinuousSpec;
using testing::MakeBatch;
using testing::RowId;

class WalTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = ::testing::TempDir() + "/wal_" +
           ::testing::UnitTest::GetInstance()->current_test_info()->name();
    fs::remove_all(dir_);
    schema_ = std::make_unique<TransitionSchema>(*TransitionSchema::Create(ContinuousSpec()));
  }

  WalOptions Options(int64_t snapshot_bytes = int64_t{1} << 30) {
    WalOptions options;
    options.dir = dir_;
    options.snapshot_every_bytes = snapshot_bytes;
    return options;
  }

  // Opens the log, collecting the ids of every recovered row.
  std::unique_ptr<WriteAheadLog> Open(const WalOptions& options, std::vector<int64_t>* ids,
                                      WalRecovery* recovery) {
    auto wal = WriteAheadLog::Open(
        options, std::nullopt,
        [&](const TransitionBatch& batch) {
          for (int64_t i = 0; i < NumTransitions(batch); ++i) {
            ids->push_back(RowId(batch, i));
          }
          return absl::OkStatus();
        },
        recovery);
    EXPECT_TRUE(wal.ok()) << wal.status();
    return wal.ok() ? std::move(*wal) : nullptr;
  }

  std::string dir_;
  std::unique_ptr<TransitionSchema> schema_;
};

std::vector<int64_t> Range(int64_t begin, int64_t end) {
  std::vector<int64_t> ids;
  for (int64_t i = begin; i < end; ++i) ids.push_back(i);
  return ids;
}

TEST_F(WalTest, LoggedBatchesAreRecoveredInOrder) {
  std::vector<int64_t> ids;
  WalRecovery recovery;
  {
    auto wal = Open(Options(), &ids, &recovery);
    EXPECT_FALSE(recovery.spec.has_value());
    ASSERT_TRUE(wal->SetSpec(schema_->spec()).ok());
    for (int b = 0; b < 5; ++b) ASSERT_TRUE(wal->Append(MakeBatch(*schema_, 10, b * 10)).ok());
  }
  auto wal = Open(Options(), &ids, &recovery);
  EXPECT_EQ(ids, Range(0, 50));
  EXPECT_EQ(recovery.transitions, 50);
  ASSERT_TRUE(recovery.spec.has_value());
  EXPECT_TRUE(TransitionSchema::Compatible(*recovery.spec, schema_->spec()));
}

TEST_F(WalTest, TornTailIsDroppedAndNewRecordsFollowValidData) {
  std::vector<int64_t> ids;
  WalRecovery recovery;
  {
    auto wal = Open(Options(), &ids, &recovery);
    ASSERT_TRUE(wal->SetSpec(schema_->spec()).ok());
    for (int b = 0; b < 3; ++b) ASSERT_TRUE(wal->Append(MakeBatch(*schema_, 10, b * 10)).ok());
  }
  // A crash in the middle of the third record's write: cut the file 40 bytes short.
  const std::string log = dir_ + "/wal-00000000.log";
  fs::resize_file(log, fs::file_size(log) - 40);
  {
    auto wal = Open(Options(), &ids, &recovery);
    EXPECT_EQ(ids, Range(0, 20));
    EXPECT_EQ(recovery.dropped_records, 1);
    ASSERT_TRUE(wal->Append(MakeBatch(*schema_, 10, 100)).ok());
  }
  ids.clear();
  auto wal = Open(Options(), &ids, &recovery);
  std::vector<int64_t> expected = Range(0, 20);
  for (int64_t i = 100; i < 110; ++i) expected.push_back(i);
  EXPECT_EQ(ids, expected);
  EXPECT_EQ(recovery.dropped_records, 0);
}

TEST_F(WalTest, SnapshotPlusLogRestoresTheTableExactly) {
  auto table = *Table::Create("online", *schema_, 25, std::make_unique<UniformSelector>(25));
  std::vector<int64_t> ids;
  WalRecovery recovery;
  {
    auto wal = Open(Options(/*snapshot_bytes=*/1), &ids, &recovery);
    ASSERT_TRUE(wal->SetSpec(schema_->spec()).ok());
    for (int b = 0; b < 4; ++b) {
      TransitionBatch batch = MakeBatch(*schema_, 10, b * 10);
      ASSERT_TRUE(wal->Append(batch).ok());
      table->Insert(batch, 10);
      if (b == 2) {
        EXPECT_FALSE(wal->ShouldSnapshot(int64_t{1} << 40));  // log smaller than the table
        ASSERT_TRUE(wal->ShouldSnapshot(0));
        ASSERT_TRUE(wal->Snapshot(*table).ok());
      }
    }
  }
  // The snapshot holds the 25 live items after 30 inserts (ids 5..29); the log after it 30..39.
  EXPECT_TRUE(fs::exists(dir_ + "/snapshot-00000000.snap"));
  EXPECT_FALSE(fs::exists(dir_ + "/wal-00000000.log"));
  auto wal = Open(Options(), &ids, &recovery);
  EXPECT_EQ(ids, Range(5, 40));
}

TEST_F(WalTest, IncompleteSnapshotIsIgnoredInFavourOfTheLog) {
  std::vector<int64_t> ids;
  WalRecovery recovery;
  {
    auto wal = Open(Options(), &ids, &recovery);
    ASSERT_TRUE(wal->SetSpec(schema_->spec()).ok());
    ASSERT_TRUE(wal->Append(MakeBatch(*schema_, 10, 0)).ok());
  }
  // A snapshot whose writer died before the end record (renamed by hand to look final).
  {
    auto writer = RecordWriter::Open(dir_ + "/snapshot-00000000.snap", true);
    ASSERT_TRUE((*writer)->Append(RecordType::kSpec, schema_->spec().SerializeAsString()).ok());
    ASSERT_TRUE((*writer)
                    ->Append(RecordType::kBatch, MakeBatch(*schema_, 3, 500).SerializeAsString())
                    .ok());
  }
  fs::copy_file(dir_ + "/wal-00000000.log", dir_ + "/wal-00000001.log");
  fs::remove(dir_ + "/wal-00000000.log");
  auto wal = Open(Options(), &ids, &recovery);
  EXPECT_EQ(ids, Range(0, 10));
}

TEST_F(WalTest, DataOfAnotherShapeIsRefused) {
  std::vector<int64_t> ids;
  WalRecovery recovery;
  {
    auto wal = Open(Options(), &ids, &recovery);
    ASSERT_TRUE(wal->SetSpec(schema_->spec()).ok());
    ASSERT_TRUE(wal->Append(MakeBatch(*schema_, 4, 0)).ok());
  }
  auto wal = WriteAheadLog::Open(
      Options(), ContinuousSpec(2, 5, 7, 2),
      [](const TransitionBatch&) { return absl::OkStatus(); }, &recovery);
  ASSERT_FALSE(wal.ok());
  EXPECT_TRUE(absl::IsFailedPrecondition(wal.status()));
  EXPECT_THAT(wal.status().message(), ::testing::HasSubstr("different shape"));
}

TEST_F(WalTest, IntervalPolicySyncsInTheBackground) {
  std::vector<int64_t> ids;
  WalRecovery recovery;
  WalOptions options = Options();
  options.fsync_policy = ReplayConfig::FSYNC_INTERVAL;
  options.fsync_interval = absl::Milliseconds(5);
  {
    auto wal = Open(options, &ids, &recovery);
    ASSERT_TRUE(wal->SetSpec(schema_->spec()).ok());
    for (int b = 0; b < 20; ++b) ASSERT_TRUE(wal->Append(MakeBatch(*schema_, 5, b * 5)).ok());
  }
  auto wal = Open(Options(), &ids, &recovery);
  EXPECT_EQ(ids, Range(0, 100));
}

}  // namespace
}  // namespace tandem::replay
