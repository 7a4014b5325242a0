// Named replay tables: tables declared in config with their own selector and write-ahead log,
// inserts and samples by table name, rho-mixing over any two tables, priority updates, and tables
// of whole episodes.
#include <algorithm>
#include <atomic>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <thread>
#include <vector>

#include "common/config.h"
#include "common/dataset.h"
#include "common/replay_client.h"
#include "common/tensor_proto.h"
#include "gtest/gtest.h"
#include "replay_server/replay_server.h"
#include "tests/transition_testing.h"

namespace tandem::replay {
namespace {

namespace fs = std::filesystem;

std::string TestDir() {
  std::string dir = ::testing::TempDir() + "/named_tables_" +
                    ::testing::UnitTest::GetInstance()->current_test_info()->name();
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir;
}

struct Harness {
  std::unique_ptr<MetricsRegistry> metrics;
  std::unique_ptr<ReplayServer> server;
  std::unique_ptr<ReplayClient> client;
};

Harness Start(ExperimentConfig config) {
  FillDefaults(&config);
  config.mutable_replay()->set_address("127.0.0.1:0");
  Harness h;
  h.metrics = *MetricsRegistry::Create("");
  auto server = ReplayServer::Start(config, h.metrics.get());
  EXPECT_TRUE(server.ok()) << server.status();
  if (!server.ok()) return h;
  h.server = std::move(*server);
  h.client = std::make_unique<ReplayClient>(h.server->InProcessChannel(), "");
  return h;
}

TransitionSchema Schema() { return *TransitionSchema::Create(testing::ContinuousSpec()); }

// Inserts `rows` transitions with ids [first_id, first_id + rows) into `table`, in batches of 10.
absl::Status Insert(ReplayClient& client, const std::string& table, int rows, int64_t first_id) {
  auto writer = client.NewWriter(8, table);
  for (int done = 0; done < rows; done += 10) {
    absl::Status status = writer->Write(testing::MakeBatch(Schema(), 10, first_id + done));
    if (!status.ok()) return status;
  }
  return writer->Finish();
}

// A config with the default online table plus "recent", a FIFO table of 30 items.
ExperimentConfig TwoTables() {
  ExperimentConfig config;
  config.mutable_replay()->set_offline_ratio(0);
  config.mutable_replay()->set_min_size_to_sample(1);
  TableConfig* recent = config.mutable_replay()->add_tables();
  recent->set_name("recent");
  recent->set_capacity(30);
  recent->set_selector(TableConfig::SELECTOR_FIFO);
  return config;
}

std::vector<int64_t> Keys(const SampleResponse& response) {
  std::vector<int64_t> keys(response.batch().keys().shape(0));
  EXPECT_TRUE(CopyTensorData<int64_t>(response.batch().keys(), "keys", absl::MakeSpan(keys)).ok());
  return keys;
}

TEST(NamedTables, ATableDeclaredOnlyInConfigIsWrittenToItsLogAndRestored) {
  ExperimentConfig config = TwoTables();
  config.mutable_replay()->set_wal_dir(TestDir() + "/wal");
  {
    Harness h = Start(config);
    ASSERT_TRUE(Insert(*h.client, "recent", 50, 1000).ok());
    ASSERT_TRUE(Insert(*h.client, "", 20, 0).ok());
    auto info = h.client->Info();
    ASSERT_TRUE(info.ok());
    ASSERT_EQ(info->tables_size(), 2);
    EXPECT_EQ(info->tables(1).name(), "recent");
    EXPECT_EQ(info->tables(1).selector(), "fifo");
    EXPECT_TRUE(info->tables(1).writable());
    EXPECT_EQ(info->tables(1).size(), 30);
    EXPECT_EQ(info->tables(1).inserted_total(), 50);
  }
  EXPECT_TRUE(fs::exists(config.replay().wal_dir() + "/recent/wal-00000000.log"));
  Harness h = Start(config);
  EXPECT_EQ(h.server->service().table_size("recent"), 30);
  EXPECT_EQ(h.server->service().online_size(), 20);
  // FIFO: the oldest surviving item (id 1020, key 20) comes first, whatever the draw.
  SampleRequest request;
  request.set_batch_size(4);
  request.set_num_batches(1);
  request.set_online_table("recent");
  SampleResponse response;
  ASSERT_TRUE(h.client->NewSampler(request)->Next(&response).ok());
  for (int i = 0; i < 4; ++i) {
    EXPECT_EQ(testing::RowId(response.batch().transitions(), i), 1020);
    EXPECT_EQ(Keys(response)[i], 20);
  }
}

TEST(NamedTables, RhoMixesAnyTwoTablesAndTagsTheirItems) {
  Harness h = Start(TwoTables());
  ASSERT_TRUE(Insert(*h.client, "", 100, 0).ok());
  ASSERT_TRUE(Insert(*h.client, "recent", 20, 5000).ok());
  SampleRequest request;
  request.set_batch_size(10);
  request.set_num_batches(5);
  request.set_offline_ratio(0.3);
  request.set_offline_table("recent");
  request.set_online_table("online");
  auto sampler = h.client->NewSampler(request);
  SampleResponse response;
  int batches = 0;
  while (sampler->Next(&response).ok()) {
    ++batches;
    const std::string& source = response.batch().source().data();
    for (int i = 0; i < 10; ++i) {
      const int64_t id = testing::RowId(response.batch().transitions(), i);
      if (i < 3) {
        EXPECT_EQ(source[i], SOURCE_OFFLINE);
        EXPECT_GE(id, 5000);
      } else {
        EXPECT_EQ(source[i], SOURCE_ONLINE);
        EXPECT_LT(id, 100);
      }
    }
  }
  EXPECT_EQ(batches, 5);
  std::string text = h.metrics->Serialize();
  EXPECT_NE(text.find("tandem_replay_sampled_transitions_total{table=\"recent\"} 15"),
            std::string::npos);
  EXPECT_NE(text.find("tandem_replay_sampled_transitions_total{table=\"online\"} 35"),
            std::string::npos);
}

TEST(NamedTables, PriorityUpdatesSteerSamplingAndBadOnesChangeNothing) {
  ExperimentConfig config;
  config.mutable_replay()->set_offline_ratio(0);
  config.mutable_replay()->set_min_size_to_sample(1);
  TableConfig* online = config.mutable_replay()->add_tables();
  online->set_name("online");
  online->set_capacity(50);
  online->set_selector(TableConfig::SELECTOR_PRIORITIZED);
  online->set_priority_exponent(1.0);
  Harness h = Start(config);
  ASSERT_TRUE(Insert(*h.client, "", 60, 0).ok());  // keys 10..59 live, 0..9 evicted

  UpdatePrioritiesRequest update;
  update.set_table("online");
  for (int64_t key = 0; key < 60; ++key) {
    update.add_keys(key);
    update.add_priorities(key == 13 ? 3.0 : key == 42 ? 1.0 : 0.0);
  }
  auto answer = h.client->UpdatePriorities(update);
  ASSERT_TRUE(answer.ok()) << answer.status();
  EXPECT_EQ(answer->updated(), 50);
  EXPECT_EQ(answer->missing(), 10);

  SampleRequest request;
  request.set_batch_size(400);
  request.set_num_batches(1);
  SampleResponse response;
  ASSERT_TRUE(h.client->NewSampler(request)->Next(&response).ok());
  std::map<int64_t, int> counts;
  for (int64_t key : Keys(response)) ++counts[key];
  EXPECT_EQ(counts.size(), 2u);
  EXPECT_GT(counts[13], counts[42]);
  EXPECT_NEAR(counts[13] / 400.0, 0.75, 0.08);

  // A negative priority, mismatched lengths: refused, nothing changed.
  UpdatePrioritiesRequest bad;
  bad.set_table("online");
  bad.add_keys(42);
  bad.add_priorities(-1);
  EXPECT_TRUE(absl::IsInvalidArgument(h.client->UpdatePriorities(bad).status()));
  bad.add_keys(43);
  EXPECT_TRUE(absl::IsInvalidArgument(h.client->UpdatePriorities(bad).status()));
  bad.set_table("nowhere");
  EXPECT_TRUE(absl::IsNotFound(h.client->UpdatePriorities(bad).status()));
  ASSERT_TRUE(h.client->NewSampler(request)->Next(&response).ok());
  std::set<int64_t> keys;
  for (int64_t key : Keys(response)) keys.insert(key);
  EXPECT_EQ(keys, (std::set<int64_t>{13, 42}));
}

TEST(NamedTables, UniformTablesHaveNoPrioritiesAndUnknownTablesAreRefused) {
  Harness h = Start(TwoTables());
  ASSERT_TRUE(Insert(*h.client, "", 10, 0).ok());
  UpdatePrioritiesRequest update;
  update.set_table("online");
  update.add_keys(1);
  update.add_priorities(2.0);
  EXPECT_TRUE(absl::IsFailedPrecondition(h.client->UpdatePriorities(update).status()));
  absl::Status unknown = Insert(*h.client, "elsewhere", 10, 0);
  EXPECT_TRUE(absl::IsNotFound(unknown)) << unknown;
  EXPECT_NE(unknown.message().find("writable: online, recent"), std::string::npos) << unknown;
  // Priorities sent with an insert into a uniform table are refused, naming the field.
  auto stub = ReplayService::NewStub(h.server->InProcessChannel());
  grpc::ClientContext context;
  auto stream = stub->Insert(&context);
  InsertRequest insert;
  *insert.mutable_batch() = testing::MakeBatch(Schema(), 2, 0);
  insert.set_sequence(1);
  insert.add_priorities(1.0);
  insert.add_priorities(2.0);
  ASSERT_TRUE(stream->Write(insert));
  stream->WritesDone();
  InsertResponse ack;
  EXPECT_FALSE(stream->Read(&ack));
  const grpc::Status status = stream->Finish();
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(status.error_message().find("priorities"), std::string::npos);
  SampleRequest request;
  request.set_batch_size(4);
  request.set_num_batches(1);
  request.set_online_table("elsewhere");
  SampleResponse response;
  EXPECT_TRUE(absl::IsNotFound(h.client->NewSampler(request)->Next(&response)));
}

// Writers, samplers and priority updaters on one prioritized table at once: every call succeeds,
// every acknowledged transition is stored, and every sampled key names an item that was inserted.
// (Debian's abseil is not built with ThreadSanitizer, so TSan cannot check absl::Mutex code here;
// this test exercises the same interleavings without it.)
TEST(NamedTables, ConcurrentInsertsSamplesAndPriorityUpdatesStayConsistent) {
  ExperimentConfig config;
  config.mutable_replay()->set_offline_ratio(0);
  config.mutable_replay()->set_min_size_to_sample(10);
  TableConfig* online = config.mutable_replay()->add_tables();
  online->set_name("online");
  online->set_capacity(500);
  online->set_selector(TableConfig::SELECTOR_PRIORITIZED);
  Harness h = Start(config);
  constexpr int kWriters = 4, kRowsPerWriter = 3000;
  std::atomic<bool> writing{true};
  std::atomic<int64_t> sampled{0}, updated{0}, bad_keys{0};
  std::vector<std::thread> threads;
  std::vector<absl::Status> writer_status(kWriters);
  for (int w = 0; w < kWriters; ++w) {
    threads.emplace_back(
        [&, w] { writer_status[w] = Insert(*h.client, "", kRowsPerWriter, w * kRowsPerWriter); });
  }
  for (int r = 0; r < 2; ++r) {
    threads.emplace_back([&, r] {
      SampleRequest request;
      request.set_batch_size(16);
      request.set_num_batches(0);
      request.set_rate_limiter_timeout_ms(10000);
      auto sampler = h.client->NewSampler(request);
      SampleResponse response;
      UpdatePrioritiesRequest update;
      update.set_table("online");
      for (int i = 0; i < 300 && sampler->Next(&response).ok(); ++i) {
        sampled += 16;
        update.clear_keys();
        update.clear_priorities();
        for (int64_t key : Keys(response)) {
          if (key < 0 || key >= kWriters * kRowsPerWriter) ++bad_keys;
          update.add_keys(key);
          update.add_priorities(0.1 + (key % 7) + r);
        }
        auto answer = h.client->UpdatePriorities(update);
        if (answer.ok()) updated += answer->updated();
        if (!writing.load() && i > 50) break;
      }
      sampler->Cancel();
    });
  }
  for (int w = 0; w < kWriters; ++w) threads[w].join();
  writing = false;
  for (size_t t = kWriters; t < threads.size(); ++t) threads[t].join();
  for (const absl::Status& status : writer_status) EXPECT_TRUE(status.ok()) << status;
  auto info = h.client->Info();
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(info->tables(0).inserted_total(), kWriters * kRowsPerWriter);
  EXPECT_EQ(info->tables(0).size(), 500);
  EXPECT_EQ(bad_keys.load(), 0);
  EXPECT_GT(sampled.load(), 0);
  EXPECT_GT(updated.load(), 0);
}

TEST(NamedTables, ConfigRefusesBadTables) {
  for (const char* table :
       {"name: \"offline\"", "name: \"a b\"", "name: \"x\" capacity: 0",
        "name: \"x\" item_kind: ITEM_KIND_UNSPECIFIED", "name: \"x\" priority_exponent: -1"}) {
    const std::string path = TestDir() + "/bad.textproto";
    std::ofstream(path) << "replay { offline_ratio: 0 tables { " << table << " } }\n";
    auto config = LoadExperimentConfig(path, {});
    EXPECT_TRUE(absl::IsInvalidArgument(config.status())) << table;
    EXPECT_NE(config.status().message().find("replay.tables[0]"), std::string::npos)
        << config.status();
  }
  const std::string path = TestDir() + "/twice.textproto";
  std::ofstream(path)
      << "replay { offline_ratio: 0 tables { name: \"a\" } tables { name: \"a\" } }\n";
  auto config = LoadExperimentConfig(path, {});
  EXPECT_NE(config.status().message().find("declared twice"), std::string::npos);
  // One server holds one kind of item.
  std::ofstream(path) << "replay { offline_ratio: 0 tables { name: \"a\" } tables { name: \"b\" "
                         "item_kind: ITEM_KIND_EPISODE } }\n";
  config = LoadExperimentConfig(path, {});
  EXPECT_NE(config.status().message().find("replay.tables[1].item_kind"), std::string::npos)
      << config.status();
}

// Episode tables: whole padded episodes as items.
ExperimentConfig EpisodeTables() {
  ExperimentConfig config;
  config.mutable_replay()->set_offline_ratio(0);
  config.mutable_replay()->set_min_size_to_sample(1);
  TableConfig* online = config.mutable_replay()->add_tables();
  online->set_name("online");
  online->set_capacity(40);
  online->set_item_kind(TableConfig::ITEM_KIND_EPISODE);
  return config;
}

TransitionSchema EpisodeSchema() { return *TransitionSchema::Create(testing::EpisodeSpec()); }

// Episode items go in over the client stream, come back whole from the sampler with their keys,
// survive a restart through the write-ahead log; the throughput counter counts their env steps.
TEST(NamedTables, EpisodeItemsRoundTripThroughGrpcAndTheLog) {
  ExperimentConfig config = EpisodeTables();
  config.mutable_replay()->set_wal_dir(TestDir() + "/wal");
  const TransitionSchema schema = EpisodeSchema();
  int64_t steps = 0;
  for (int64_t id = 0; id < 30; ++id) steps += testing::EpisodeLength(schema.spec(), id);
  {
    Harness h = Start(config);
    auto writer = h.client->NewWriter(4, "");
    for (int64_t first = 0; first < 30; first += 6) {
      ASSERT_TRUE(writer->Write(testing::MakeBatch(schema, 6, first)).ok());
    }
    ASSERT_TRUE(writer->Finish().ok());
    EXPECT_EQ(h.server->service().online_size(), 30);
    // The inserted-transitions counter counts env steps, not items.
    EXPECT_EQ(h.metrics
                  ->GetCounter("tandem_replay_inserted_transitions_total",
                               "Transitions stored in a table", {{"table", "online"}})
                  .Value(),
              steps);
  }
  Harness h = Start(config);
  ASSERT_EQ(h.server->service().online_size(), 30);
  SampleRequest request;
  request.set_batch_size(16);
  request.set_num_batches(1);
  SampleResponse response;
  ASSERT_TRUE(h.client->NewSampler(request)->Next(&response).ok());
  const TransitionBatch& batch = response.batch().transitions();
  ASSERT_TRUE(schema.Validate(batch).ok()) << schema.Validate(batch).status();
  const std::vector<int64_t> keys = Keys(response);
  for (int i = 0; i < 16; ++i) {
    EXPECT_TRUE(testing::RowMatchesId(schema, batch, i, keys[i])) << "item " << i;
  }
  auto info = h.client->Info();
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(info->spec().episode_steps(), schema.spec().episode_steps());
  ASSERT_EQ(info->tables_size(), 1);
  EXPECT_EQ(info->tables(0).inserted_total(), 30);
  EXPECT_EQ(info->tables(0).inserted_steps(), steps);
}

// With episode tables the rate limiter counts episodes, whatever their lengths: samples_per_insert
// is sampled episodes per new episode (pymarl2's 16) and min_size_to_sample counts episodes.
TEST(NamedTables, TheRateLimiterCountsEpisodesNotTheirSteps) {
  ExperimentConfig config = EpisodeTables();
  config.mutable_replay()->set_min_size_to_sample(6);
  config.mutable_replay()->set_samples_per_insert(2.0);
  config.mutable_replay()->set_error_buffer(6.0);
  const TransitionSchema schema = EpisodeSchema();
  int64_t steps = 0;
  for (int64_t id = 0; id < 5; ++id) steps += testing::EpisodeLength(schema.spec(), id);
  ASSERT_GT(steps, 6);  // counted in steps, five episodes would already be enough
  Harness h = Start(config);
  ASSERT_NE(h.server, nullptr);
  auto writer = h.client->NewWriter(4, "");
  ASSERT_TRUE(writer->Write(testing::MakeBatch(schema, 5, 0)).ok());
  ASSERT_TRUE(writer->Finish().ok());
  SampleRequest request;
  request.set_batch_size(2);
  request.set_num_batches(1);
  request.set_rate_limiter_timeout_ms(100);
  SampleResponse response;
  // Five episodes are fewer than min_size_to_sample = 6.
  EXPECT_EQ(h.client->NewSampler(request)->Next(&response).code(),
            absl::StatusCode::kDeadlineExceeded);
  writer = h.client->NewWriter(4, "");
  ASSERT_TRUE(writer->Write(testing::MakeBatch(schema, 1, 5)).ok());
  ASSERT_TRUE(writer->Finish().ok());
  // Six episodes: diff = 6 * 2 = 12, window [6, 18]; three batches of 2 reach min_diff = 6.
  request.set_num_batches(0);
  auto sampler = h.client->NewSampler(request);
  int batches = 0;
  while (sampler->Next(&response).ok()) ++batches;
  EXPECT_EQ(batches, 3);
}

// The offline table loads an episode dataset; batches mix its episodes with the online ones at rho
// and tag each item with its source.
TEST(NamedTables, AnEpisodeDatasetFillsTheOfflineTableAndMixesAtRho) {
  const std::string dir = TestDir();
  const TransitionSchema schema = EpisodeSchema();
  {
    auto writer = DatasetWriter::Create(dir + "/episodes.h5", schema.spec(), DatasetMetadata{});
    ASSERT_TRUE(writer.ok()) << writer.status();
    ASSERT_TRUE((*writer)->Append(testing::MakeBatch(schema, 12, 0)).ok());
    ASSERT_TRUE((*writer)->Finish().ok());
  }
  ExperimentConfig config = EpisodeTables();
  config.mutable_replay()->set_offline_ratio(0.5);
  config.mutable_dataset()->set_path(dir + "/episodes.h5");
  Harness h = Start(config);
  ASSERT_NE(h.server, nullptr);
  EXPECT_EQ(h.server->service().offline_size(), 12);
  auto writer = h.client->NewWriter(2, "");
  ASSERT_TRUE(writer->Write(testing::MakeBatch(schema, 8, 1000)).ok());
  ASSERT_TRUE(writer->Finish().ok());
  SampleRequest request;
  request.set_batch_size(20);
  request.set_num_batches(1);
  SampleResponse response;
  ASSERT_TRUE(h.client->NewSampler(request)->Next(&response).ok());
  const TransitionBatch& batch = response.batch().transitions();
  ASSERT_TRUE(schema.Validate(batch).ok()) << schema.Validate(batch).status();
  const std::string& source = response.batch().source().data();
  for (int i = 0; i < 20; ++i) {
    const int64_t id = testing::RowId(batch, i);
    EXPECT_EQ(source[i] == SOURCE_OFFLINE, id < 12) << "item " << i << " id " << id;
    EXPECT_TRUE(testing::RowMatchesId(schema, batch, i, id)) << "item " << i;
  }
  EXPECT_EQ(std::count(source.begin(), source.end(), static_cast<char>(SOURCE_OFFLINE)), 10);
}

// OTC's merged set: a table that starts as the dataset and grows with inserts; sampled against a
// deployment table at rho, every merged item is a dataset or an inserted one, none is lost.
TEST(NamedTables, APreloadedTableStartsAsTheDatasetAndGrowsWithInserts) {
  const std::string dir = TestDir();
  {
    auto writer = DatasetWriter::Create(dir + "/data.h5", Schema().spec(), DatasetMetadata{});
    ASSERT_TRUE(writer.ok()) << writer.status();
    ASSERT_TRUE((*writer)->Append(testing::MakeBatch(Schema(), 50, 0)).ok());
    ASSERT_TRUE((*writer)->Finish().ok());
  }
  ExperimentConfig config;
  config.mutable_replay()->set_offline_ratio(1);
  config.mutable_replay()->set_min_size_to_sample(1);
  config.mutable_dataset()->set_path(dir + "/data.h5");
  TableConfig* merged = config.mutable_replay()->add_tables();
  merged->set_name("merged");
  merged->set_preload_dataset(true);
  merged->set_capacity(80);
  TableConfig* deployment = config.mutable_replay()->add_tables();
  deployment->set_name("deployment-1");
  Harness h = Start(config);
  ASSERT_NE(h.server, nullptr);
  EXPECT_EQ(h.server->service().table_size("merged"), 50);
  ASSERT_TRUE(Insert(*h.client, "merged", 20, 1000).ok());
  ASSERT_TRUE(Insert(*h.client, "deployment-1", 20, 1000).ok());
  EXPECT_EQ(h.server->service().table_size("merged"), 70);
  EXPECT_EQ(h.server->service().table_size("deployment-1"), 20);
  SampleRequest request;
  request.set_batch_size(40);
  request.set_num_batches(20);
  request.set_offline_ratio(0.25);
  request.set_offline_table("merged");
  request.set_online_table("deployment-1");
  auto sampler = h.client->NewSampler(request);
  SampleResponse response;
  std::set<int64_t> merged_ids;
  while (sampler->Next(&response).ok()) {
    const std::string& source = response.batch().source().data();
    for (int i = 0; i < 40; ++i) {
      const int64_t id = testing::RowId(response.batch().transitions(), i);
      EXPECT_TRUE(testing::RowMatchesId(Schema(), response.batch().transitions(), i, id));
      if (source[i] == SOURCE_OFFLINE) {
        EXPECT_TRUE(id < 50 || (id >= 1000 && id < 1020)) << id;
        merged_ids.insert(id);
      } else {
        EXPECT_GE(id, 1000);
      }
    }
  }
  // 200 draws from 70 items: both the dataset's and the inserted ones appear.
  EXPECT_LT(*merged_ids.begin(), 50);
  EXPECT_GE(*merged_ids.rbegin(), 1000);
}

TEST(NamedTables, PreloadingNeedsRoomForTheDatasetAndNoLog) {
  const std::string dir = TestDir();
  {
    auto writer = DatasetWriter::Create(dir + "/data.h5", Schema().spec(), DatasetMetadata{});
    ASSERT_TRUE(writer.ok()) << writer.status();
    ASSERT_TRUE((*writer)->Append(testing::MakeBatch(Schema(), 50, 0)).ok());
    ASSERT_TRUE((*writer)->Finish().ok());
  }
  {
    ExperimentConfig small;
    small.mutable_dataset()->set_path(dir + "/data.h5");
    TableConfig* merged = small.mutable_replay()->add_tables();
    merged->set_name("merged");
    merged->set_capacity(10);
    merged->set_preload_dataset(true);
    FillDefaults(&small);
    auto metrics = *MetricsRegistry::Create("");
    auto server = ReplayServer::Start(small, metrics.get());
    ASSERT_FALSE(server.ok());
    EXPECT_NE(server.status().message().find("cannot hold"), std::string::npos) << server.status();
  }
  ExperimentConfig config;
  config.mutable_replay()->set_offline_ratio(0);
  TableConfig* merged = config.mutable_replay()->add_tables();
  merged->set_name("merged");
  merged->set_preload_dataset(true);
  FillDefaults(&config);
  auto metrics = *MetricsRegistry::Create("");
  config.mutable_replay()->set_wal_dir(dir + "/wal");
  auto with_log = ReplayServer::Start(config, metrics.get());
  ASSERT_FALSE(with_log.ok());
  EXPECT_NE(with_log.status().message().find("wal_dir"), std::string::npos) << with_log.status();
}

TEST(NamedTables, InvalidEpisodesAndTransitionsIntoEpisodeTablesAreRefused) {
  Harness h = Start(EpisodeTables());
  const TransitionSchema schema = EpisodeSchema();
  TransitionBatch broken = testing::MakeBatch(schema, 2, 1);
  // Episode 1 (id 2, 3 steps): a hole in `filled`.
  (*broken.mutable_filled()->mutable_data())[6 + 1] = 0;
  auto writer = h.client->NewWriter(1, "");
  ASSERT_TRUE(writer->Write(testing::MakeBatch(schema, 2, 10)).ok());
  absl::Status status = writer->Write(broken);
  if (status.ok()) status = writer->Finish();
  EXPECT_TRUE(absl::IsInvalidArgument(status)) << status;
  EXPECT_NE(status.message().find("filled"), std::string::npos) << status;
  EXPECT_EQ(h.server->service().online_size(), 2);
  // Transitions into a table of episodes: refused, naming the item kind.
  auto transitions = h.client->NewWriter(1, "");
  status = transitions->Write(
      testing::MakeBatch(*TransitionSchema::Create(testing::DiscreteSpec()), 4, 0));
  if (status.ok()) status = transitions->Finish();
  EXPECT_TRUE(absl::IsInvalidArgument(status)) << status;
}

}  // namespace
}  // namespace tandem::replay
