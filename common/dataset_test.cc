#include "common/dataset.h"

#include <hdf5.h>
#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <limits>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/transition_testing.h"

namespace tandem {
namespace {

using testing::ContinuousSpec;
using testing::DiscreteSpec;
using ::testing::HasSubstr;
using testing::MakeBatch;

std::string TempPath(const std::string& name) {
  return ::testing::TempDir() + "/dataset_test_" +
         ::testing::UnitTest::GetInstance()->current_test_info()->name() + "_" + name;
}

// Writes `batches` batches of `rows` transitions with consecutive ids.
std::string WriteDataset(const TransitionSpec& spec, int batches, int rows) {
  const std::string path = TempPath("data.h5");
  TransitionSchema schema = *TransitionSchema::Create(spec);
  DatasetMetadata metadata{"test/env",    "obs_mode=omiga", "omiga",      "medium",
                           "test policy", "test",           std::nullopt, std::nullopt};
  auto writer = DatasetWriter::Create(path, spec, metadata);
  EXPECT_TRUE(writer.ok()) << writer.status();
  for (int b = 0; b < batches; ++b) {
    EXPECT_TRUE((*writer)->Append(MakeBatch(schema, rows, b * rows)).ok());
  }
  EXPECT_TRUE((*writer)->Finish().ok());
  return path;
}

// Reads every column of `source` into one batch.
TransitionBatch ReadAll(OfflineDataSource& source) {
  TransitionSchema schema = *TransitionSchema::Create(source.spec());
  TransitionBatch batch;
  schema.Allocate(source.size(), &batch);
  for (const Column& column : schema.columns()) {
    EXPECT_TRUE(source
                    .ReadColumn(column.field, 0, source.size(),
                                MutableField(&batch, column.field)->mutable_data()->data())
                    .ok());
  }
  return batch;
}

TEST(Dataset, WriteThenReadRoundTripsEveryColumn) {
  for (const TransitionSpec& spec : {ContinuousSpec(3, 5, 7, 2), DiscreteSpec(2, 4, 6, 5)}) {
    const std::string path = WriteDataset(spec, 3, 40);
    auto source = OpenTandemDataset(path);
    ASSERT_TRUE(source.ok()) << source.status();
    EXPECT_EQ((*source)->size(), 120);
    EXPECT_TRUE(TransitionSchema::Compatible((*source)->spec(), spec));
    TransitionSchema schema = *TransitionSchema::Create(spec);
    TransitionBatch all = ReadAll(**source);
    for (int64_t row = 0; row < 120; ++row) {
      ASSERT_TRUE(testing::RowMatchesId(schema, all, row, row)) << "row " << row;
    }
  }
}

// Episode datasets: each row one padded episode; the file records episode_steps and counts env
// steps and episodes from `filled`.
TEST(Dataset, EpisodeDatasetsRoundTripWithTheirLengthsAndReturns) {
  const TransitionSpec spec = testing::EpisodeSpec(3, 5, 7, 4, 6);
  const std::string path = WriteDataset(spec, 2, 5);
  auto source = OpenTandemDataset(path);
  ASSERT_TRUE(source.ok()) << source.status();
  EXPECT_EQ((*source)->size(), 10);
  EXPECT_EQ((*source)->spec().episode_steps(), 6);
  EXPECT_TRUE(TransitionSchema::Compatible((*source)->spec(), spec));
  TransitionSchema schema = *TransitionSchema::Create(spec);
  TransitionBatch all = ReadAll(**source);
  ASSERT_TRUE(schema.Validate(all).ok()) << schema.Validate(all).status();
  int64_t steps = 0;
  double returns = 0;
  for (int64_t row = 0; row < 10; ++row) {
    ASSERT_TRUE(testing::RowMatchesId(schema, all, row, row)) << "row " << row;
    const int64_t length = testing::EpisodeLength(spec, row);
    steps += length;
    returns += static_cast<double>(row) * length;  // every step of episode `row` pays `row`
  }
  auto stats = ReadDatasetStats(path);
  ASSERT_TRUE(stats.ok()) << stats.status();
  EXPECT_EQ(stats->num_transitions, steps);
  EXPECT_EQ(stats->num_episodes, 10);
  EXPECT_NEAR(stats->return_mean, returns / 10, 1e-6);
}

// Combat-env episode datasets record each episode's outcome (/won) and their win rate; merging
// carries the outcomes over; a file where any episode's outcome is unknown records none.
TEST(Dataset, EpisodeOutcomesGiveTheWinRateAndSurviveMerging) {
  const TransitionSpec spec = testing::EpisodeSpec(3, 5, 7, 4, 6);
  TransitionSchema schema = *TransitionSchema::Create(spec);
  const std::string path = TempPath("won.h5");
  auto writer = DatasetWriter::Create(path, spec, {});
  ASSERT_TRUE(writer.ok()) << writer.status();
  const std::vector<uint8_t> first = {1, 0, 1, 1}, second = {0, 1, 0, 0};
  ASSERT_TRUE((*writer)->Append(MakeBatch(schema, 4, 0), &first).ok());
  ASSERT_TRUE((*writer)->Append(MakeBatch(schema, 4, 4), &second).ok());
  const std::vector<uint8_t> too_few = {1};
  EXPECT_THAT((*writer)->Append(MakeBatch(schema, 4, 8), &too_few).message(),
              HasSubstr("1 episode outcomes for 4 episodes"));
  ASSERT_TRUE((*writer)->Finish().ok());
  auto stats = ReadDatasetStats(path);
  ASSERT_TRUE(stats.ok()) << stats.status();
  ASSERT_TRUE(stats->win_rate.has_value());
  EXPECT_DOUBLE_EQ(*stats->win_rate, 4.0 / 8.0);

  const std::string merged = TempPath("merged.h5");
  ASSERT_TRUE(MergeDatasets({path, path}, merged, spec, {}).ok());
  auto source = OpenTandemDataset(merged);
  ASSERT_TRUE(source.ok()) << source.status();
  std::vector<uint8_t> won(16, 9);
  auto has = (*source)->ReadWon(0, 16, won.data());
  ASSERT_TRUE(has.ok()) << has.status();
  EXPECT_TRUE(*has);
  EXPECT_EQ(won, (std::vector<uint8_t>{1, 0, 1, 1, 0, 1, 0, 0, 1, 0, 1, 1, 0, 1, 0, 0}));
  EXPECT_DOUBLE_EQ(*ReadDatasetStats(merged)->win_rate, 0.5);

  const std::string partial = TempPath("partial.h5");
  auto unknown = DatasetWriter::Create(partial, spec, {});
  ASSERT_TRUE((*unknown)->Append(MakeBatch(schema, 4, 0), &first).ok());
  ASSERT_TRUE((*unknown)->Append(MakeBatch(schema, 4, 4)).ok());
  ASSERT_TRUE((*unknown)->Finish().ok());
  EXPECT_FALSE(ReadDatasetStats(partial)->win_rate.has_value());
  auto without = OpenTandemDataset(partial);
  EXPECT_FALSE(*(*without)->ReadWon(0, 8, won.data()));

  // Transition datasets hold no outcomes.
  const TransitionSpec transitions = DiscreteSpec(2, 4, 6, 5);
  auto flat = DatasetWriter::Create(TempPath("flat.h5"), transitions, {});
  EXPECT_THAT(
      (*flat)->Append(MakeBatch(*TransitionSchema::Create(transitions), 4, 0), &first).message(),
      HasSubstr("transition dataset"));
}

TEST(Dataset, MergeAppendsEveryRowOfEachInputInOrderInSmallChunks) {
  const TransitionSpec spec = ContinuousSpec(3, 5, 7, 2);
  const std::string first = WriteDataset(spec, 2, 30);  // ids 0..59
  const std::string second = TempPath("second.h5");
  std::filesystem::copy_file(first, second, std::filesystem::copy_options::overwrite_existing);
  const std::string merged = TempPath("merged.h5");
  ASSERT_TRUE(MergeDatasets({first, second}, merged, spec, {}).ok());
  auto source = OpenTandemDataset(merged);
  ASSERT_TRUE(source.ok()) << source.status();
  ASSERT_EQ((*source)->size(), 120);
  TransitionBatch all = ReadAll(**source);
  TransitionSchema schema = *TransitionSchema::Create(spec);
  for (int64_t row = 0; row < 120; ++row) {
    ASSERT_TRUE(testing::RowMatchesId(schema, all, row, row % 60)) << "row " << row;
  }
  // Chunks smaller than the file give the same rows.
  auto again = OpenTandemDataset(first);
  auto writer = DatasetWriter::Create(TempPath("chunked.h5"), spec, {});
  ASSERT_TRUE(AppendAll(**again, spec, **writer, /*chunk_rows=*/7).ok());
  ASSERT_TRUE((*writer)->Finish().ok());
  auto chunked = OpenTandemDataset(TempPath("chunked.h5"));
  ASSERT_TRUE(chunked.ok()) << chunked.status();
  TransitionBatch rows = ReadAll(**chunked);
  ASSERT_EQ((*chunked)->size(), 60);
  for (int64_t row = 0; row < 60; ++row) {
    ASSERT_TRUE(testing::RowMatchesId(schema, rows, row, row)) << "row " << row;
  }
}

TEST(Dataset, MergeRefusesAnInputOfOtherShapesNamingIt) {
  const std::string other = WriteDataset(DiscreteSpec(2, 4, 6, 5), 1, 10);
  const absl::Status status =
      MergeDatasets({other}, TempPath("merged.h5"), ContinuousSpec(3, 5, 7, 2), {});
  EXPECT_TRUE(absl::IsInvalidArgument(status));
  EXPECT_NE(status.message().find(other), std::string::npos) << status;
  EXPECT_FALSE(std::filesystem::exists(TempPath("merged.h5")));
}

TEST(Dataset, MetadataAndEpisodeStatisticsAreStored) {
  const std::string path = WriteDataset(ContinuousSpec(), 1, 35);
  auto metadata = ReadDatasetMetadata(path);
  ASSERT_TRUE(metadata.ok()) << metadata.status();
  EXPECT_EQ(metadata->env_name, "test/env");
  EXPECT_EQ(metadata->quality, "medium");
  auto stats = ReadDatasetStats(path);
  ASSERT_TRUE(stats.ok());
  // MakeBatch terminates on ids 0, 10, 20, 30: episodes {0}, {1..10}, {11..20}, {21..30}.
  EXPECT_EQ(stats->num_transitions, 35);
  EXPECT_EQ(stats->num_episodes, 4);
  EXPECT_DOUBLE_EQ(stats->return_min, 0);
  EXPECT_DOUBLE_EQ(stats->return_max, 255);  // 21 + ... + 30
  EXPECT_DOUBLE_EQ(stats->return_mean, (0 + 55 + 155 + 255) / 4.0);
}

TEST(Dataset, PartialReadsReturnTheRequestedRows) {
  const std::string path = WriteDataset(ContinuousSpec(), 1, 50);
  auto source = OpenTandemDataset(path);
  ASSERT_TRUE(source.ok());
  std::vector<float> rewards(5);
  ASSERT_TRUE((*source)->ReadColumn(Field::kReward, 20, 5, rewards.data()).ok());
  EXPECT_THAT(rewards, ::testing::ElementsAre(20, 21, 22, 23, 24));
  EXPECT_TRUE(absl::IsOutOfRange((*source)->ReadColumn(Field::kReward, 48, 5, rewards.data())));
}

TEST(Dataset, UnfinishedWriterLeavesNoFile) {
  const std::string path = TempPath("unfinished.h5");
  {
    auto writer = DatasetWriter::Create(path, ContinuousSpec(), {});
    ASSERT_TRUE(writer.ok());
    TransitionSchema schema = *TransitionSchema::Create(ContinuousSpec());
    ASSERT_TRUE((*writer)->Append(MakeBatch(schema, 5, 0)).ok());
  }
  EXPECT_FALSE(std::filesystem::exists(path));
  EXPECT_FALSE(std::filesystem::exists(path + ".tmp"));
}

TEST(Dataset, WriterRejectsInvalidBatches) {
  auto writer = DatasetWriter::Create(TempPath("x.h5"), ContinuousSpec(), {});
  ASSERT_TRUE(writer.ok());
  TransitionSchema other = *TransitionSchema::Create(ContinuousSpec(3, 6, 7, 2));
  EXPECT_THAT((*writer)->Append(MakeBatch(other, 5, 0)).message(), HasSubstr("obs"));
}

TEST(Dataset, MissingFileIsNotFound) {
  auto source = OpenTandemDataset("/nonexistent/file.h5");
  EXPECT_TRUE(absl::IsNotFound(source.status()));
  EXPECT_THAT(source.status().message(), HasSubstr("/nonexistent/file.h5"));
}

TEST(Dataset, NonHdf5FileIsRejected) {
  const std::string path = TempPath("text.h5");
  std::ofstream(path) << "not hdf5 at all";
  EXPECT_THAT(OpenTandemDataset(path).status().message(), HasSubstr("not an HDF5 file"));
}

TEST(Dataset, TruncatedFileIsRejectedWithoutCrashing) {
  const std::string path = WriteDataset(ContinuousSpec(), 4, 100);
  const auto size = std::filesystem::file_size(path);
  std::filesystem::resize_file(path, size / 2);
  auto source = OpenTandemDataset(path);
  if (source.ok()) {
    // The header survived; reading the lost half must fail cleanly instead.
    TransitionSchema schema = *TransitionSchema::Create((*source)->spec());
    bool any_failed = false;
    for (const Column& column : schema.columns()) {
      std::vector<char> buffer((*source)->size() * column.row_bytes);
      any_failed |= !(*source)->ReadColumn(column.field, 0, (*source)->size(), buffer.data()).ok();
    }
    EXPECT_TRUE(any_failed);
  } else {
    EXPECT_THAT(source.status().message(), HasSubstr(path));
  }
}

// Opens `path` for writing with the raw HDF5 API, to damage a valid file.
class RawFile {
 public:
  explicit RawFile(const std::string& path)
      : id_(H5Fopen(path.c_str(), H5F_ACC_RDWR, H5P_DEFAULT)) {}
  ~RawFile() { H5Fclose(id_); }
  hid_t id() const { return id_; }

 private:
  hid_t id_;
};

TEST(Dataset, MissingKeyIsNamed) {
  const std::string path = WriteDataset(ContinuousSpec(), 1, 10);
  {
    RawFile file(path);
    H5Ldelete(file.id(), "next_state", H5P_DEFAULT);
  }
  auto source = OpenTandemDataset(path);
  ASSERT_FALSE(source.ok());
  EXPECT_THAT(source.status().message(), HasSubstr("key 'next_state' is missing"));
}

TEST(Dataset, WrongDTypeIsNamed) {
  const std::string path = WriteDataset(ContinuousSpec(3, 5, 7, 2), 1, 10);
  {
    RawFile file(path);
    H5Ldelete(file.id(), "reward", H5P_DEFAULT);
    hsize_t dims[1] = {10};
    hid_t space = H5Screate_simple(1, dims, nullptr);
    hid_t dataset = H5Dcreate2(file.id(), "reward", H5T_IEEE_F64LE, space, H5P_DEFAULT, H5P_DEFAULT,
                               H5P_DEFAULT);
    std::vector<double> values(10, 1.0);
    H5Dwrite(dataset, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, values.data());
    H5Dclose(dataset);
    H5Sclose(space);
  }
  EXPECT_THAT(OpenTandemDataset(path).status().message(),
              HasSubstr("key 'reward' has dtype float64, expected float32"));
}

TEST(Dataset, WrongDimsAreNamed) {
  const std::string path = WriteDataset(ContinuousSpec(3, 5, 7, 2), 1, 10);
  {
    RawFile file(path);
    H5Ldelete(file.id(), "state", H5P_DEFAULT);
    hsize_t dims[2] = {10, 8};
    hid_t space = H5Screate_simple(2, dims, nullptr);
    hid_t dataset = H5Dcreate2(file.id(), "state", H5T_IEEE_F32LE, space, H5P_DEFAULT, H5P_DEFAULT,
                               H5P_DEFAULT);
    std::vector<float> values(80, 0.f);
    H5Dwrite(dataset, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, values.data());
    H5Dclose(dataset);
    H5Sclose(space);
  }
  EXPECT_THAT(OpenTandemDataset(path).status().message(),
              HasSubstr("key 'state' has shape [10, 8], expected [10, 7]"));
}

TEST(Dataset, NanIsRejectedWithKeyAndRow) {
  const std::string path = WriteDataset(ContinuousSpec(3, 5, 7, 2), 1, 10);
  {
    RawFile file(path);
    hid_t dataset = H5Dopen2(file.id(), "reward", H5P_DEFAULT);
    std::vector<float> values(10, 0.f);
    values[6] = std::numeric_limits<float>::quiet_NaN();
    H5Dwrite(dataset, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, values.data());
    H5Dclose(dataset);
  }
  auto source = OpenTandemDataset(path);
  ASSERT_TRUE(source.ok());
  std::vector<float> rewards(10);
  absl::Status status = (*source)->ReadColumn(Field::kReward, 0, 10, rewards.data());
  EXPECT_THAT(status.message(), HasSubstr("key 'reward' row 6: non-finite value"));
}

// Found by tests/fuzz/dataset_reader_fuzz.cc: an attribute that holds an array where one value is
// expected was read past the reader's single value (a stack overflow). Now it is an error.
TEST(Dataset, ReferenceReturnsAreStoredWhenKnown) {
  // Files written without references read back without them.
  auto plain = ReadDatasetMetadata(WriteDataset(ContinuousSpec(), 1, 5));
  ASSERT_TRUE(plain.ok()) << plain.status();
  EXPECT_FALSE(plain->random_return.has_value());
  EXPECT_FALSE(plain->expert_return.has_value());

  const std::string path = TempPath("references.h5");
  const TransitionSpec spec = ContinuousSpec();
  DatasetMetadata metadata;
  metadata.env_name = "test/env";
  metadata.random_return = -280.5;
  metadata.expert_return = 3600.25;
  auto writer = DatasetWriter::Create(path, spec, metadata);
  ASSERT_TRUE(writer.ok()) << writer.status();
  ASSERT_TRUE((*writer)->Append(MakeBatch(*TransitionSchema::Create(spec), 5, 0)).ok());
  ASSERT_TRUE((*writer)->Finish().ok());
  auto read = ReadDatasetMetadata(path);
  ASSERT_TRUE(read.ok()) << read.status();
  ASSERT_TRUE(read->random_return.has_value() && read->expert_return.has_value());
  EXPECT_DOUBLE_EQ(*read->random_return, -280.5);
  EXPECT_DOUBLE_EQ(*read->expert_return, 3600.25);

  // A non-finite reference is refused, naming it.
  {
    RawFile file(path);
    H5Adelete(file.id(), "reference_expert_return");
    const hid_t space = H5Screate(H5S_SCALAR);
    const hid_t attr = H5Acreate2(file.id(), "reference_expert_return", H5T_NATIVE_DOUBLE, space,
                                  H5P_DEFAULT, H5P_DEFAULT);
    const double nan = std::nan("");
    H5Awrite(attr, H5T_NATIVE_DOUBLE, &nan);
    H5Aclose(attr);
    H5Sclose(space);
  }
  auto bad = ReadDatasetMetadata(path);
  ASSERT_FALSE(bad.ok());
  EXPECT_THAT(bad.status().message(), HasSubstr("'reference_expert_return' is not finite"));
}

TEST(Dataset, ArrayAttributesWhereOneValueIsExpectedAreRefused) {
  const std::string path = WriteDataset(ContinuousSpec(3, 5, 7, 2), 1, 10);
  auto replace = [&](const char* name, hid_t type, const void* values) {
    RawFile file(path);
    H5Adelete(file.id(), name);
    const hsize_t count = 5;
    const hid_t space = H5Screate_simple(1, &count, nullptr);
    const hid_t attr = H5Acreate2(file.id(), name, type, space, H5P_DEFAULT, H5P_DEFAULT);
    H5Awrite(attr, type, values);
    H5Aclose(attr);
    H5Sclose(space);
  };
  const std::vector<double> doubles(5, 1.5);
  replace("return_mean", H5T_NATIVE_DOUBLE, doubles.data());
  auto stats = ReadDatasetStats(path);
  ASSERT_FALSE(stats.ok());
  EXPECT_THAT(stats.status().message(),
              HasSubstr("attribute 'return_mean' must hold one value, holds 5"));
  const std::vector<int64_t> ints(5, 3);
  replace("num_agents", H5T_NATIVE_INT64, ints.data());
  auto source = OpenTandemDataset(path);
  ASSERT_FALSE(source.ok());
  EXPECT_THAT(source.status().message(),
              HasSubstr("attribute 'num_agents' must hold one value, holds 5"));
}

TEST(Dataset, WrongFormatAttributeIsRejected) {
  const std::string path = TempPath("omiga_like.h5");
  hid_t file = H5Fcreate(path.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
  H5Fclose(file);
  EXPECT_THAT(OpenTandemDataset(path).status().message(),
              HasSubstr("attribute 'format' is missing"));
}

}  // namespace
}  // namespace tandem
