#include "replay_server/record_io.h"

#include <filesystem>
#include <fstream>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace tandem::replay {
namespace {

std::string TempFile() {
  return ::testing::TempDir() + "/record_io_" +
         ::testing::UnitTest::GetInstance()->current_test_info()->name();
}

void WriteRecords(const std::string& path, int count) {
  auto writer = RecordWriter::Open(path, true);
  ASSERT_TRUE(writer.ok());
  for (int i = 0; i < count; ++i) {
    ASSERT_TRUE((*writer)->Append(RecordType::kBatch, std::string(100 + i, 'a' + i % 26)).ok());
  }
  ASSERT_TRUE((*writer)->Sync().ok());
}

TEST(RecordIo, RecordsReadBackInOrder) {
  const std::string path = TempFile();
  WriteRecords(path, 5);
  auto reader = RecordReader::Open(path);
  ASSERT_TRUE(reader.ok());
  RecordType type;
  std::string payload;
  for (int i = 0; i < 5; ++i) {
    ASSERT_TRUE((*reader)->Next(&type, &payload).ok());
    EXPECT_EQ(type, RecordType::kBatch);
    EXPECT_EQ(payload, std::string(100 + i, 'a' + i % 26));
  }
  EXPECT_TRUE(absl::IsOutOfRange((*reader)->Next(&type, &payload)));
  EXPECT_EQ((*reader)->valid_bytes(), (*reader)->file_size());
}

TEST(RecordIo, AppendingReopensAtTheEnd) {
  const std::string path = TempFile();
  WriteRecords(path, 2);
  {
    auto writer = RecordWriter::Open(path, false);
    ASSERT_TRUE(writer.ok());
    ASSERT_TRUE((*writer)->Append(RecordType::kEnd, "2").ok());
  }
  auto reader = RecordReader::Open(path);
  RecordType type;
  std::string payload;
  ASSERT_TRUE((*reader)->Next(&type, &payload).ok());
  ASSERT_TRUE((*reader)->Next(&type, &payload).ok());
  ASSERT_TRUE((*reader)->Next(&type, &payload).ok());
  EXPECT_EQ(type, RecordType::kEnd);
}

TEST(RecordIo, EveryTruncationPointIsDetectedAsTorn) {
  const std::string path = TempFile();
  WriteRecords(path, 3);
  const auto full = std::filesystem::file_size(path);
  const int64_t two_records = 2 * kRecordHeaderBytes + 100 + 101;
  for (uint64_t cut = two_records + 1; cut < full; cut += 7) {
    std::filesystem::copy_file(path, path + ".cut",
                               std::filesystem::copy_options::overwrite_existing);
    std::filesystem::resize_file(path + ".cut", cut);
    auto reader = RecordReader::Open(path + ".cut");
    RecordType type;
    std::string payload;
    ASSERT_TRUE((*reader)->Next(&type, &payload).ok());
    ASSERT_TRUE((*reader)->Next(&type, &payload).ok());
    absl::Status status = (*reader)->Next(&type, &payload);
    ASSERT_TRUE(absl::IsDataLoss(status)) << "cut at " << cut << ": " << status;
    EXPECT_EQ((*reader)->valid_bytes(), two_records);
  }
}

TEST(RecordIo, FlippedPayloadByteIsDetected) {
  const std::string path = TempFile();
  WriteRecords(path, 1);
  {
    std::fstream file(path, std::ios::in | std::ios::out | std::ios::binary);
    file.seekp(kRecordHeaderBytes + 50);
    file.put('#');
  }
  auto reader = RecordReader::Open(path);
  RecordType type;
  std::string payload;
  absl::Status status = (*reader)->Next(&type, &payload);
  EXPECT_TRUE(absl::IsDataLoss(status));
  EXPECT_THAT(status.message(), ::testing::HasSubstr("checksum"));
}

TEST(RecordIo, CorruptLengthIsNotTrusted) {
  const std::string path = TempFile();
  WriteRecords(path, 1);
  {
    std::fstream file(path, std::ios::in | std::ios::out | std::ios::binary);
    file.seekp(12);  // high bytes of the length field
    file.put('\x7f');
  }
  auto reader = RecordReader::Open(path);
  RecordType type;
  std::string payload;
  EXPECT_THAT((*reader)->Next(&type, &payload).message(),
              ::testing::HasSubstr("corrupt record header"));
}

}  // namespace
}  // namespace tandem::replay
