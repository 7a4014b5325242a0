// In-process gRPC tests of the replay service: no ports, real gRPC stack.
#include "replay_server/replay_service.h"

#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <limits>
#include <set>
#include <thread>
#include <vector>

#include "absl/synchronization/notification.h"
#include "common/config.h"
#include "common/replay_client.h"
#include "common/tensor_proto.h"
#include "gmock/gmock.h"
#include "grpcpp/generic/generic_stub.h"
#include "gtest/gtest.h"
#include "replay_server/replay_server.h"
#include "tests/transition_testing.h"

namespace tandem::replay {
namespace {

namespace fs = std::filesystem;
using testing::ContinuousSpec;
using ::testing::HasSubstr;
using testing::MakeBatch;
using testing::RowId;

constexpr int64_t kOnlineIdBase = 100000;

std::string TestDir() {
  std::string dir = ::testing::TempDir() + "/replay_service_" +
                    ::testing::UnitTest::GetInstance()->current_test_info()->name();
  fs::create_directories(dir);
  return dir;
}

// Writes an offline dataset of `rows` transitions with ids [0, rows).
std::string WriteOfflineDataset(const TransitionSpec& spec, int64_t rows) {
  const std::string path = TestDir() + "/offline.h5";
  auto writer = DatasetWriter::Create(path, spec, {});
  EXPECT_TRUE(writer.ok());
  TransitionSchema schema = *TransitionSchema::Create(spec);
  EXPECT_TRUE((*writer)->Append(MakeBatch(schema, rows, 0)).ok());
  EXPECT_TRUE((*writer)->Finish().ok());
  return path;
}

// A running in-process server plus a client.
struct Harness {
  std::unique_ptr<MetricsRegistry> metrics;
  std::unique_ptr<ReplayServer> server;
  std::unique_ptr<ReplayClient> client;
};

Harness Start(ExperimentConfig config, const std::string& token = "") {
  FillDefaults(&config);
  config.mutable_replay()->set_address("127.0.0.1:0");
  Harness h;
  h.metrics = *MetricsRegistry::Create("");
  auto server = ReplayServer::Start(config, h.metrics.get());
  EXPECT_TRUE(server.ok()) << server.status();
  if (!server.ok()) return h;
  h.server = std::move(*server);
  h.client = std::make_unique<ReplayClient>(h.server->InProcessChannel(), token);
  return h;
}

ExperimentConfig OnlineOnlyConfig() {
  ExperimentConfig config;
  config.mutable_replay()->set_offline_ratio(0);
  config.mutable_replay()->set_min_size_to_sample(1);
  return config;
}

TransitionSchema Schema() { return *TransitionSchema::Create(ContinuousSpec()); }

absl::Status InsertBatches(ReplayClient& client, int batches, int rows, int64_t first_id) {
  auto writer = client.NewWriter();
  TransitionSchema schema = Schema();
  for (int b = 0; b < batches; ++b) {
    absl::Status status = writer->Write(MakeBatch(schema, rows, first_id + b * rows));
    if (!status.ok()) return status;
  }
  return writer->Finish();
}

SampleRequest Request(int batch_size, int num_batches) {
  SampleRequest request;
  request.set_batch_size(batch_size);
  request.set_num_batches(num_batches);
  request.set_rate_limiter_timeout_ms(10000);
  return request;
}

TEST(ReplayService, InsertedTransitionsComeBackExactlyWhenSampled) {
  Harness h = Start(OnlineOnlyConfig());
  ASSERT_TRUE(InsertBatches(*h.client, 4, 25, kOnlineIdBase).ok());
  EXPECT_EQ(h.server->service().online_size(), 100);
  auto sampler = h.client->NewSampler(Request(64, 3));
  SampleResponse response;
  TransitionSchema schema = Schema();
  int batches = 0;
  while (sampler->Next(&response).ok()) {
    ++batches;
    const TransitionBatch& batch = response.batch().transitions();
    ASSERT_EQ(NumTransitions(batch), 64);
    std::vector<int64_t> keys(64);
    ASSERT_TRUE(
        CopyTensorData<int64_t>(response.batch().keys(), "keys", absl::MakeSpan(keys)).ok());
    for (int i = 0; i < 64; ++i) {
      ASSERT_TRUE(testing::RowMatchesId(schema, batch, i, kOnlineIdBase + keys[i]));
    }
  }
  EXPECT_EQ(batches, 3);
}

TEST(ReplayService, AcknowledgementsCountStoredTransitions) {
  Harness h = Start(OnlineOnlyConfig());
  auto writer = h.client->NewWriter(2);
  TransitionSchema schema = Schema();
  for (int b = 0; b < 10; ++b) ASSERT_TRUE(writer->Write(MakeBatch(schema, 7, b * 7)).ok());
  ASSERT_TRUE(writer->Finish().ok());
  EXPECT_EQ(writer->acknowledged_transitions(), 70);
  EXPECT_EQ(writer->acknowledged_sequence(), 10u);
}

TEST(ReplayService, InvalidBatchIsRejectedAndNothingOfItIsStored) {
  Harness h = Start(OnlineOnlyConfig());
  auto writer = h.client->NewWriter(1);
  TransitionSchema schema = Schema();
  ASSERT_TRUE(writer->Write(MakeBatch(schema, 5, 0)).ok());
  TransitionBatch bad = MakeBatch(schema, 5, 5);
  float nan = std::numeric_limits<float>::quiet_NaN();
  std::memcpy(bad.mutable_next_state()->mutable_data()->data() + 8, &nan, 4);
  writer->Write(bad).IgnoreError();
  absl::Status status = writer->Finish();
  EXPECT_TRUE(absl::IsInvalidArgument(status)) << status;
  EXPECT_THAT(status.message(), HasSubstr("insert sequence 2: next_state: non-finite value"));
  EXPECT_EQ(h.server->service().online_size(), 5);
  EXPECT_GE(h.metrics->GetCounter("tandem_replay_rejected_batches_total", "").Value(), 1);
}

TEST(ReplayService, WrongShapeAfterTheFirstInsertIsRejected) {
  Harness h = Start(OnlineOnlyConfig());
  ASSERT_TRUE(InsertBatches(*h.client, 1, 5, 0).ok());
  auto writer = h.client->NewWriter();
  TransitionSchema other = *TransitionSchema::Create(ContinuousSpec(3, 6, 7, 2));
  writer->Write(MakeBatch(other, 5, 0)).IgnoreError();
  absl::Status status = writer->Finish();
  EXPECT_TRUE(absl::IsInvalidArgument(status));
  EXPECT_THAT(status.message(), HasSubstr("obs: expected shape [5, 3, 5]"));
}

TEST(ReplayService, OversizeMessageIsResourceExhausted) {
  ExperimentConfig config = OnlineOnlyConfig();
  config.mutable_replay()->set_max_message_bytes(4096);
  Harness h = Start(config);
  auto writer = h.client->NewWriter();
  writer->Write(MakeBatch(Schema(), 200, 0)).IgnoreError();
  absl::Status status = writer->Finish();
  EXPECT_TRUE(absl::IsResourceExhausted(status)) << status;
  EXPECT_EQ(h.server->service().online_size(), 0);
}

TEST(ReplayService, TokenAuthenticationGuardsEveryCall) {
  setenv("TANDEM_TEST_TOKEN", "s3cret", 1);
  ExperimentConfig config = OnlineOnlyConfig();
  config.mutable_security()->set_auth_token_env("TANDEM_TEST_TOKEN");
  Harness h = Start(config);
  ReplayClient anonymous(h.server->InProcessChannel(), "");
  ReplayClient wrong(h.server->InProcessChannel(), "guess");
  ReplayClient right(h.server->InProcessChannel(), "s3cret");
  EXPECT_TRUE(absl::IsUnauthenticated(anonymous.Info().status()));
  EXPECT_TRUE(absl::IsUnauthenticated(wrong.Info().status()));
  EXPECT_TRUE(absl::IsUnauthenticated(InsertBatches(wrong, 1, 5, 0)));
  SampleResponse response;
  EXPECT_TRUE(absl::IsUnauthenticated(wrong.NewSampler(Request(4, 1))->Next(&response)));
  EXPECT_EQ(h.server->service().online_size(), 0);
  EXPECT_TRUE(InsertBatches(right, 1, 5, 0).ok());
  EXPECT_TRUE(right.Info().ok());
}

TEST(ReplayService, MissingTokenVariableIsAStartupError) {
  unsetenv("TANDEM_UNSET_TOKEN");
  ExperimentConfig config = OnlineOnlyConfig();
  FillDefaults(&config);
  config.mutable_security()->set_auth_token_env("TANDEM_UNSET_TOKEN");
  auto metrics = *MetricsRegistry::Create("");
  auto server = ReplayServer::Start(config, metrics.get());
  EXPECT_THAT(server.status().message(), HasSubstr("TANDEM_UNSET_TOKEN is unset"));
}

TEST(ReplayService, OfflineFractionMatchesRhoWithinBinomialBounds) {
  ExperimentConfig config;
  config.mutable_dataset()->set_path(WriteOfflineDataset(ContinuousSpec(), 1000));
  config.mutable_replay()->set_offline_ratio(0.37);
  config.mutable_replay()->set_min_size_to_sample(1);
  Harness h = Start(config);
  ASSERT_TRUE(InsertBatches(*h.client, 10, 100, kOnlineIdBase).ok());
  constexpr int kBatches = 400, kB = 50;
  auto sampler = h.client->NewSampler(Request(kB, kBatches));
  SampleResponse response;
  int64_t offline = 0, total = 0;
  while (sampler->Next(&response).ok()) {
    std::vector<uint8_t> sources(kB);
    ASSERT_TRUE(
        CopyTensorData<uint8_t>(response.batch().source(), "source", absl::MakeSpan(sources)).ok());
    const TransitionBatch& batch = response.batch().transitions();
    for (int i = 0; i < kB; ++i) {
      const bool is_offline = sources[i] == SOURCE_OFFLINE;
      // Offline items come first and carry dataset ids; online items carry online ids.
      ASSERT_EQ(is_offline, RowId(batch, i) < kOnlineIdBase) << "item " << i;
      if (i > 0 && is_offline) {
        ASSERT_EQ(sources[i - 1], SOURCE_OFFLINE);
      }
      offline += is_offline;
      ++total;
    }
  }
  ASSERT_EQ(total, kBatches * kB);
  // Each batch has 18 or 19 offline items (mean 18.5); per-batch variance 0.25, so the total has
  // sd sqrt(400 * 0.25) = 10 items around 7400. Allow 5 sd.
  EXPECT_NEAR(static_cast<double>(offline), 0.37 * total, 50);
}

TEST(ReplayService, RhoOneServesPureOfflineWithoutOnlineData) {
  ExperimentConfig config;
  config.mutable_dataset()->set_path(WriteOfflineDataset(ContinuousSpec(), 300));
  config.mutable_replay()->set_offline_ratio(1.0);
  Harness h = Start(config);
  auto sampler = h.client->NewSampler(Request(128, 5));
  SampleResponse response;
  int batches = 0;
  std::set<int64_t> seen;
  while (sampler->Next(&response).ok()) {
    ++batches;
    for (int i = 0; i < 128; ++i) seen.insert(RowId(response.batch().transitions(), i));
  }
  EXPECT_EQ(batches, 5);
  EXPECT_LT(*seen.rbegin(), 300);
  EXPECT_GT(seen.size(), 250u);  // 640 uniform draws from 300 items cover ~88% of them.
}

TEST(ReplayService, RhoAboveZeroWithoutADatasetIsRefusedAtStartup) {
  ExperimentConfig config;
  FillDefaults(&config);
  config.mutable_replay()->set_offline_ratio(0.5);
  auto metrics = *MetricsRegistry::Create("");
  auto server = ReplayServer::Start(config, metrics.get());
  EXPECT_TRUE(absl::IsFailedPrecondition(server.status()));
  EXPECT_THAT(server.status().message(), HasSubstr("no offline dataset"));
}

TEST(ReplayService, OfflineOnlyWarmupServesOfflineBatchesUntilMinSize) {
  ExperimentConfig config;
  config.mutable_dataset()->set_path(WriteOfflineDataset(ContinuousSpec(), 100));
  config.mutable_replay()->set_offline_ratio(0.5);
  config.mutable_replay()->set_min_size_to_sample(50);
  config.mutable_replay()->set_warmup(ReplayConfig::WARMUP_OFFLINE_ONLY);
  Harness h = Start(config);
  ASSERT_TRUE(InsertBatches(*h.client, 1, 10, kOnlineIdBase).ok());
  SampleResponse response;
  ASSERT_TRUE(h.client->NewSampler(Request(20, 1))->Next(&response).ok());
  for (int i = 0; i < 20; ++i) EXPECT_LT(RowId(response.batch().transitions(), i), kOnlineIdBase);
  ASSERT_TRUE(InsertBatches(*h.client, 4, 10, kOnlineIdBase + 10).ok());
  ASSERT_TRUE(h.client->NewSampler(Request(20, 1))->Next(&response).ok());
  int online = 0;
  for (int i = 0; i < 20; ++i) online += RowId(response.batch().transitions(), i) >= kOnlineIdBase;
  EXPECT_EQ(online, 10);
}

TEST(ReplayService, SampleBlocksOnTheRateLimiterUntilDataArrives) {
  ExperimentConfig config = OnlineOnlyConfig();
  config.mutable_replay()->set_min_size_to_sample(20);
  Harness h = Start(config);
  SampleRequest request = Request(8, 1);
  request.set_rate_limiter_timeout_ms(50);
  SampleResponse response;
  EXPECT_TRUE(absl::IsDeadlineExceeded(h.client->NewSampler(request)->Next(&response)));

  absl::Notification sampled;
  std::thread learner([&] {
    auto sampler = h.client->NewSampler(Request(8, 1));
    SampleResponse r;
    EXPECT_TRUE(sampler->Next(&r).ok());
    sampled.Notify();
  });
  ASSERT_TRUE(InsertBatches(*h.client, 1, 10, 0).ok());
  EXPECT_FALSE(sampled.WaitForNotificationWithTimeout(absl::Milliseconds(100)));
  ASSERT_TRUE(InsertBatches(*h.client, 1, 10, 10).ok());
  EXPECT_TRUE(sampled.WaitForNotificationWithTimeout(absl::Seconds(10)));
  learner.join();
}

TEST(ReplayService, SamplesPerInsertHoldsTheUpdateToDataRatio) {
  ExperimentConfig config = OnlineOnlyConfig();
  config.mutable_replay()->set_min_size_to_sample(16);
  config.mutable_replay()->set_samples_per_insert(2.0);
  config.mutable_replay()->set_error_buffer(16.0);
  Harness h = Start(config);
  ASSERT_TRUE(InsertBatches(*h.client, 1, 16, 0).ok());  // diff = 32, window [16, 48]
  SampleRequest request = Request(8, 0);
  request.set_rate_limiter_timeout_ms(100);
  auto sampler = h.client->NewSampler(request);
  SampleResponse response;
  int batches = 0;
  while (sampler->Next(&response).ok()) ++batches;
  EXPECT_EQ(batches, 2);  // 32 - 8 - 8 = 16 = min_diff; a third batch would leave the window.
}

TEST(ReplayService, ConcurrentWritersAndReadersAddUp) {
  ExperimentConfig config = OnlineOnlyConfig();
  config.mutable_replay()->set_online_capacity(100000);
  Harness h = Start(config);
  ASSERT_TRUE(InsertBatches(*h.client, 1, 10, 0).ok());
  constexpr int kWriters = 3, kBatches = 40, kRows = 16;
  std::atomic<bool> writers_done{false};
  std::atomic<int64_t> sampled{0};
  std::vector<std::thread> readers;
  for (int r = 0; r < 2; ++r) {
    readers.emplace_back([&] {
      while (!writers_done) {
        auto sampler = h.client->NewSampler(Request(32, 5));
        SampleResponse response;
        while (sampler->Next(&response).ok())
          sampled += NumTransitions(response.batch().transitions());
      }
    });
  }
  std::vector<std::thread> writers;
  for (int w = 0; w < kWriters; ++w) {
    writers.emplace_back([&, w] {
      EXPECT_TRUE(InsertBatches(*h.client, kBatches, kRows, 1000 + w * kBatches * kRows).ok());
    });
  }
  for (auto& t : writers) t.join();
  writers_done = true;
  for (auto& t : readers) t.join();
  EXPECT_EQ(h.server->service().online_size(), 10 + kWriters * kBatches * kRows);
  auto info = h.client->Info();
  ASSERT_TRUE(info.ok());
  ASSERT_EQ(info->tables_size(), 1);
  EXPECT_EQ(info->tables(0).inserted_total(), 10 + kWriters * kBatches * kRows);
  EXPECT_EQ(info->tables(0).sampled_total(), sampled.load());
}

TEST(ReplayService, OnlineTableSurvivesARestartFromTheWriteAheadLog) {
  ExperimentConfig config = OnlineOnlyConfig();
  config.mutable_replay()->set_wal_dir(TestDir() + "/wal");
  fs::remove_all(config.replay().wal_dir());
  {
    Harness h = Start(config);
    ASSERT_TRUE(InsertBatches(*h.client, 6, 20, kOnlineIdBase).ok());
  }
  Harness h = Start(config);
  EXPECT_EQ(h.server->service().online_size(), 120);
  auto sampler = h.client->NewSampler(Request(100, 2));
  SampleResponse response;
  std::vector<int64_t> keys(100);
  while (sampler->Next(&response).ok()) {
    ASSERT_TRUE(
        CopyTensorData<int64_t>(response.batch().keys(), "keys", absl::MakeSpan(keys)).ok());
    for (int i = 0; i < 100; ++i) {
      ASSERT_TRUE(testing::RowMatchesId(Schema(), response.batch().transitions(), i,
                                        kOnlineIdBase + keys[i]));
    }
  }
}

TEST(ReplayService, TruncatedLastLogRecordIsDroppedOnRestart) {
  ExperimentConfig config = OnlineOnlyConfig();
  config.mutable_replay()->set_wal_dir(TestDir() + "/wal");
  fs::remove_all(config.replay().wal_dir());
  {
    Harness h = Start(config);
    ASSERT_TRUE(InsertBatches(*h.client, 3, 20, 0).ok());
  }
  const std::string log = config.replay().wal_dir() + "/wal-00000000.log";
  fs::resize_file(log, fs::file_size(log) - 10);
  Harness h = Start(config);
  EXPECT_EQ(h.server->service().online_size(), 40);
  ASSERT_TRUE(InsertBatches(*h.client, 1, 20, 40).ok());
  EXPECT_EQ(h.server->service().online_size(), 60);
}

TEST(ReplayService, BadSampleRequestsAreInvalidArgument) {
  Harness h = Start(OnlineOnlyConfig());
  SampleResponse response;
  EXPECT_TRUE(absl::IsInvalidArgument(h.client->NewSampler(Request(0, 1))->Next(&response)));
  SampleRequest request = Request(8, 1);
  request.set_offline_ratio(1.5);
  EXPECT_TRUE(absl::IsInvalidArgument(h.client->NewSampler(request)->Next(&response)));
}

TEST(ReplayService, SampleLargerThanTheByteCapIsRefusedAndTheServerLives) {
  ExperimentConfig config = OnlineOnlyConfig();
  // These test rows are ~200 bytes (HalfCheetah's are ~1.3 KB, where 2^20 of them pass 1 GiB).
  config.mutable_replay()->set_max_sample_bytes(16 << 20);
  Harness h = Start(config);
  ASSERT_TRUE(InsertBatches(*h.client, 1, 50, 0).ok());
  // The largest batch_size the request allows, as an attacker would send it: refused before
  // anything is gathered, not built and then aborted on.
  SampleResponse response;
  absl::Status status = h.client->NewSampler(Request(1 << 20, 1))->Next(&response);
  EXPECT_TRUE(absl::IsResourceExhausted(status)) << status;
  EXPECT_THAT(status.message(), HasSubstr("replay.max_sample_bytes"));
  EXPECT_THAT(status.message(), HasSubstr("items fit"));
  // Just under and just over a small cap: the boundary is the response's size.
  config.mutable_replay()->set_max_sample_bytes(256 << 10);
  Harness small = Start(config);
  ASSERT_TRUE(InsertBatches(*small.client, 1, 50, 0).ok());
  const int64_t per_item = Schema().row_bytes() + 17;
  const int fits = static_cast<int>(((256 << 10) - (64 << 10)) / per_item);
  EXPECT_TRUE(small.client->NewSampler(Request(fits, 1))->Next(&response).ok());
  EXPECT_TRUE(
      absl::IsResourceExhausted(small.client->NewSampler(Request(fits + 1, 1))->Next(&response)));
  // The server still serves.
  ASSERT_TRUE(h.client->NewSampler(Request(16, 1))->Next(&response).ok());
  EXPECT_EQ(NumTransitions(response.batch().transitions()), 16);
}

TEST(ReplayService, GarbageInsertMessagesAreInvalidArgumentAndCounted) {
  Harness h = Start(OnlineOnlyConfig());
  ASSERT_TRUE(InsertBatches(*h.client, 1, 5, 0).ok());
  // A raw stream on the Insert method whose message bytes are not an InsertRequest.
  grpc::GenericStub stub(h.server->InProcessChannel());
  grpc::ClientContext context;
  grpc::CompletionQueue cq;
  // The synchronous generic API: a bidirectional call with ByteBuffers.
  auto call = stub.PrepareCall(&context, "/tandem.ReplayService/Insert", &cq);
  call->StartCall(reinterpret_cast<void*>(1));
  void* tag = nullptr;
  bool ok = false;
  ASSERT_TRUE(cq.Next(&tag, &ok) && ok);
  const std::string garbage = "\xff\xff\xff\xff\x0f garbage that is no protobuf";
  grpc::Slice slice(garbage);
  grpc::ByteBuffer bytes(&slice, 1);
  call->Write(bytes, reinterpret_cast<void*>(2));
  ASSERT_TRUE(cq.Next(&tag, &ok));
  call->WritesDone(reinterpret_cast<void*>(3));
  ASSERT_TRUE(cq.Next(&tag, &ok));
  grpc::Status status;
  call->Finish(&status, reinterpret_cast<void*>(4));
  while (cq.Next(&tag, &ok) && tag != reinterpret_cast<void*>(4)) {
  }
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << status.error_message();
  EXPECT_THAT(status.error_message(), HasSubstr("does not parse as a tandem.InsertRequest"));
  EXPECT_EQ(h.metrics->GetCounter("tandem_replay_unparsable_messages_total", "").Value(), 1);
  EXPECT_EQ(h.server->service().online_size(), 5);
  cq.Shutdown();
  while (cq.Next(&tag, &ok)) {
  }
  // Well-formed inserts still work.
  ASSERT_TRUE(InsertBatches(*h.client, 1, 5, 5).ok());
  EXPECT_EQ(h.server->service().online_size(), 10);
}

// A batch of MakeBatch rows with one float of `field` in row 3 set to `value`.
TransitionBatch WithValue(Field field, float value) {
  TransitionBatch batch = MakeBatch(Schema(), 8, 0);
  const Column* column = Schema().Find(field);
  std::memcpy(MutableField(&batch, field)->mutable_data()->data() + 3 * column->row_bytes, &value,
              sizeof(value));
  return batch;
}

TEST(ReplayService, FiniteButAbsurdValuesAreRefusedByTheConfiguredBounds) {
  ExperimentConfig config = OnlineOnlyConfig();
  FillDefaults(&config);
  Harness h;
  h.metrics = *MetricsRegistry::Create("");
  config.mutable_replay()->set_address("127.0.0.1:0");
  // The env's box, as `tandem replay` passes it with replay.shape_from_env: [-1, 1] per dimension
  // of both agents.
  const TransitionSpec spec = ContinuousSpec();
  const size_t dims = spec.num_agents() * spec.action_size();
  auto server = ReplayServer::Start(config, h.metrics.get(), spec, std::vector<float>(dims, -1),
                                    std::vector<float>(dims, 1));
  ASSERT_TRUE(server.ok()) << server.status();
  h.server = std::move(*server);
  h.client = std::make_unique<ReplayClient>(h.server->InProcessChannel(), "");

  struct Case {
    Field field;
    float value;
    const char* reason;
    const char* message;
  };
  const Case cases[] = {
      {Field::kReward, 3e38f, "reward_bound", "exceeds replay.validation.max_abs_reward"},
      {Field::kObs, -1e30f, "observation_bound", "obs: -1e+30 at transition 3"},
      {Field::kNextState, 2e6f, "observation_bound", "next_state: 2e+06 at transition 3"},
      {Field::kActions, 5.0f, "action_range", "outside the env's box [-1, 1]"},
      {Field::kActions, -1e30f, "action_range", "agent 0, dimension 0"},
  };
  auto valid = [] {
    TransitionBatch batch = MakeBatch(Schema(), 8, 0);
    // MakeBatch writes row ids as values; actions inside the box.
    Tensor* actions = MutableField(&batch, Field::kActions);
    std::vector<float> zero(actions->data().size() / sizeof(float), 0.5f);
    std::memcpy(actions->mutable_data()->data(), zero.data(), actions->data().size());
    return batch;
  };
  {
    auto writer = h.client->NewWriter();
    ASSERT_TRUE(writer->Write(valid()).ok());
    ASSERT_TRUE(writer->Finish().ok()) << "a batch inside every bound is stored";
  }
  for (const Case& c : cases) {
    TransitionBatch bad = valid();
    const Column* column = Schema().Find(c.field);
    std::memcpy(MutableField(&bad, c.field)->mutable_data()->data() + 3 * column->row_bytes,
                &c.value, sizeof(float));
    auto writer = h.client->NewWriter();
    writer->Write(bad).IgnoreError();
    absl::Status status = writer->Finish();
    EXPECT_TRUE(absl::IsInvalidArgument(status)) << FieldName(c.field) << ": " << status;
    EXPECT_THAT(status.message(), HasSubstr(c.message));
  }
  EXPECT_EQ(h.server->service().online_size(), 8);
  const std::string text = h.metrics->Serialize();
  EXPECT_THAT(text, HasSubstr("tandem_replay_refused_rows_total{reason=\"reward_bound\"} 8"));
  EXPECT_THAT(text, HasSubstr("tandem_replay_refused_rows_total{reason=\"observation_bound\"} 16"));
  EXPECT_THAT(text, HasSubstr("tandem_replay_refused_rows_total{reason=\"action_range\"} 16"));
}

TEST(ReplayService, NonFiniteAndMalformedRowsAreCountedByReason) {
  Harness h = Start(OnlineOnlyConfig());
  {
    auto writer = h.client->NewWriter();
    writer->Write(WithValue(Field::kState, std::numeric_limits<float>::infinity())).IgnoreError();
    EXPECT_TRUE(absl::IsInvalidArgument(writer->Finish()));
  }
  {
    auto writer = h.client->NewWriter();
    TransitionBatch bad = MakeBatch(Schema(), 4, 0);
    bad.mutable_terminated()->mutable_data()->at(1) = 7;
    writer->Write(bad).IgnoreError();
    EXPECT_TRUE(absl::IsInvalidArgument(writer->Finish()));
  }
  const std::string text = h.metrics->Serialize();
  EXPECT_THAT(text, HasSubstr("tandem_replay_refused_rows_total{reason=\"non_finite\"} 8"));
  EXPECT_THAT(text, HasSubstr("tandem_replay_refused_rows_total{reason=\"malformed\"} 4"));
}

TEST(ReplayService, MetricsCountInsertsAndSamples) {
  Harness h = Start(OnlineOnlyConfig());
  ASSERT_TRUE(InsertBatches(*h.client, 2, 10, 0).ok());
  SampleResponse response;
  ASSERT_TRUE(h.client->NewSampler(Request(5, 1))->Next(&response).ok());
  const std::string text = h.metrics->Serialize();
  EXPECT_THAT(text, HasSubstr("tandem_replay_inserted_transitions_total{table=\"online\"} 20"));
  EXPECT_THAT(text, HasSubstr("tandem_replay_sampled_transitions_total{table=\"online\"} 5"));
  EXPECT_THAT(text, HasSubstr("tandem_replay_table_size{table=\"online\"} 20"));
  EXPECT_THAT(text, HasSubstr("tandem_replay_insert_seconds_count 2"));
}

}  // namespace
}  // namespace tandem::replay
