#include "replay_server/replay_service.h"

#include <cmath>
#include <map>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "common/config.h"
#include "common/grpc_security.h"
#include "common/grpc_status.h"
#include "common/logging.h"
#include "common/status_macros.h"
#include "common/tensor_proto.h"
#include "google/protobuf/descriptor.h"
#include "grpcpp/support/proto_buffer_reader.h"

namespace tandem::replay {
namespace {

// Largest batch a learner may ask for in one SampleRequest.
constexpr int32_t kMaxSampleBatch = 1 << 20;

RateLimiterOptions LimiterOptions(const ReplayConfig& config) {
  // Sampling the online table needs at least one item, whatever min_size_to_sample says.
  const int64_t min_size = std::max<int64_t>(1, config.min_size_to_sample());
  if (config.samples_per_insert() <= 0) return RateLimiterOptions{0, min_size, 0, 0};
  return SampleToInsertRatio(config.samples_per_insert(), min_size, config.error_buffer());
}

// Bytes a sampled item adds to a SampleResponse beyond its columns: its key (int64), selection
// probability (float64) and source (uint8).
constexpr int64_t kSampleRowOverhead = 8 + 8 + 1;
// Framing of the response's tensors and fields, generously.
constexpr int64_t kSampleMessageOverhead = 64 << 10;

}  // namespace

ReplayServiceImpl::ReplayServiceImpl(const ReplayServiceOptions& options)
    : options_(options),
      rejected_batches_(options.metrics->GetCounter("tandem_replay_rejected_batches_total",
                                                    "Inserted batches refused by validation")),
      unparsable_messages_(options.metrics->GetCounter(
          "tandem_replay_unparsable_messages_total",
          "Insert stream messages that did not parse as an InsertRequest")),
      sampled_offline_(options.metrics->GetCounter("tandem_replay_sampled_transitions_total",
                                                   "Transitions sampled from a table",
                                                   {{"table", "offline"}})),
      sampled_bytes_(options.metrics->GetCounter("tandem_replay_sampled_bytes_total",
                                                 "Bytes of transitions sent to learners")),
      offline_size_(options.metrics->GetGauge(
          "tandem_replay_table_size", "Transitions held by a table", {{"table", "offline"}})),
      insert_seconds_(options.metrics->GetHistogram(
          "tandem_replay_insert_seconds",
          "Time to store one inserted batch, including rate-limiter wait and fsync",
          LatencyBuckets())),
      sample_seconds_(options.metrics->GetHistogram(
          "tandem_replay_sample_seconds", "Time to assemble one sampled batch, including waits",
          LatencyBuckets())),
      insert_blocked_seconds_(options.metrics->GetCounter(
          "tandem_replay_rate_limiter_blocked_seconds_total",
          "Seconds callers waited on the rate limiter", {{"op", "insert"}})),
      sample_blocked_seconds_(options.metrics->GetCounter(
          "tandem_replay_rate_limiter_blocked_seconds_total",
          "Seconds callers waited on the rate limiter", {{"op", "sample"}})),
      wal_bytes_(options.metrics->GetCounter("tandem_replay_wal_bytes_total",
                                             "Bytes appended to the write-ahead log")),
      wal_fsync_seconds_(options.metrics->GetHistogram("tandem_replay_wal_fsync_seconds",
                                                       "Latency of write-ahead-log fsyncs",
                                                       LatencyBuckets())) {
  // "online" always exists (configured by replay.online_capacity unless declared in tables).
  std::vector<TableConfig> configs;
  TableConfig online;
  online.set_name(kOnlineTable);
  online.set_capacity(options.config.online_capacity());
  if (EpisodeItems(options.config)) online.set_item_kind(TableConfig::ITEM_KIND_EPISODE);
  configs.push_back(online);
  for (const TableConfig& table : options.config.tables()) {
    if (table.name() == kOnlineTable) {
      configs.front() = table;
    } else {
      configs.push_back(table);
    }
  }
  for (const TableConfig& config : configs) {
    auto writable = std::make_unique<Writable>();
    writable->config = config;
    writable->limiter = std::make_unique<RateLimiter>(LimiterOptions(options.config));
    const std::map<std::string, std::string> label = {{"table", config.name()}};
    MetricsRegistry& m = *options.metrics;
    writable->inserted_transitions = &m.GetCounter("tandem_replay_inserted_transitions_total",
                                                   "Transitions stored in a table", label);
    writable->inserted_bytes = &m.GetCounter("tandem_replay_inserted_bytes_total",
                                             "Bytes of transitions stored in a table", label);
    writable->sampled = &m.GetCounter("tandem_replay_sampled_transitions_total",
                                      "Transitions sampled from a table", label);
    writable->size = &m.GetGauge("tandem_replay_table_size", "Transitions held by a table", label);
    writable_.push_back(std::move(writable));
  }
  TakeRawInserts();
}

ReplayServiceImpl::~ReplayServiceImpl() { Close(); }

void ReplayServiceImpl::TakeRawInserts() {
  // gRPC's generated handler parses each message itself and, when one does not parse, only ends
  // the read loop: the stream would close with OK. Reading bytes lets Insert tell garbage from a
  // clean half-close.
  const google::protobuf::ServiceDescriptor* service =
      google::protobuf::DescriptorPool::generated_pool()->FindServiceByName("tandem.ReplayService");
  const int index = service->FindMethodByName("Insert")->index();
  MarkMethodStreamed(
      index,
      new grpc::internal::BidiStreamingHandler<ReplayServiceImpl, grpc::ByteBuffer, InsertResponse>(
          [](ReplayServiceImpl* self, grpc::ServerContext* context,
             grpc::ServerReaderWriter<InsertResponse, grpc::ByteBuffer>* stream) {
            return self->InsertStream(context, stream);
          },
          this));
}

absl::StatusOr<std::unique_ptr<ReplayServiceImpl>> ReplayServiceImpl::Create(
    const ReplayServiceOptions& options, OfflineDataSource* offline) {
  if (options.metrics == nullptr) return absl::InvalidArgumentError("replay: metrics required");
  const ReplayConfig& config = options.config;
  std::unique_ptr<ReplayServiceImpl> service(new ReplayServiceImpl(options));
  std::optional<TransitionSpec> spec = options.spec;
  if (offline != nullptr) {
    ASSIGN_OR_RETURN(service->offline_, Table::CreateFromSource("offline", *offline));
    if (spec.has_value() && !TransitionSchema::Compatible(*spec, offline->spec())) {
      return absl::FailedPreconditionError(
          absl::StrCat("dataset ", offline->description(), " holds ", DescribeSpec(offline->spec()),
                       " but the environment produces ", DescribeSpec(*spec)));
    }
    spec = offline->spec();
    service->offline_size_.Set(static_cast<double>(service->offline_->size()));
    LOG(INFO) << "replay: offline table loaded from " << offline->description() << ": "
              << service->offline_->size() << " items (" << DescribeSpec(*spec) << ")";
  } else if (config.offline_ratio() > 0) {
    return absl::FailedPreconditionError(
        absl::StrCat("replay.offline_ratio is ", config.offline_ratio(),
                     " but no offline dataset is configured (dataset.path); set a dataset or "
                     "offline_ratio=0"));
  }

  for (const TableConfig& table : config.tables()) {
    if (table.preload_dataset() && !config.wal_dir().empty()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "replay.tables ", table.name(),
          ": preload_dataset cannot be combined with replay.wal_dir (recovery would load the "
          "dataset twice)"));
    }
  }
  absl::MutexLock lock(&service->insert_mu_);
  if (spec.has_value()) RETURN_IF_ERROR(service->InitTables(*spec));
  if (!config.wal_dir().empty()) RETURN_IF_ERROR(service->OpenLogs(spec));
  return service;
}

absl::Status ReplayServiceImpl::OpenLogs(std::optional<TransitionSpec> spec) {
  const ReplayConfig& config = options_.config;
  for (std::unique_ptr<Writable>& writable : writable_) {
    // "online" logs in wal_dir itself (the layout of earlier versions); others in wal_dir/<name>.
    const std::string name = writable->config.name();
    WalOptions wal_options;
    wal_options.dir =
        name == kOnlineTable ? config.wal_dir() : absl::StrCat(config.wal_dir(), "/", name);
    wal_options.fsync_policy = config.fsync_policy();
    wal_options.fsync_interval = absl::Milliseconds(config.fsync_interval_ms());
    wal_options.snapshot_every_bytes = config.snapshot_every_bytes();
    wal_options.bytes_written = &wal_bytes_;
    wal_options.fsync_seconds = &wal_fsync_seconds_;
    WalRecovery recovery;
    Writable* target = writable.get();
    auto apply = [this, target](const TransitionBatch& batch) ABSL_NO_THREAD_SAFETY_ANALYSIS {
      if (target->table.load() == nullptr) {
        ASSIGN_OR_RETURN(TransitionSpec inferred, InferSpec(batch));
        RETURN_IF_ERROR(InitTables(inferred));
      }
      Table* table = target->table.load();
      ASSIGN_OR_RETURN(int64_t rows, table->schema().Validate(batch),
                       _.WithPrefix("recovered batch: "));
      table->Insert(batch, rows);
      return absl::OkStatus();
    };
    ASSIGN_OR_RETURN(writable->wal, WriteAheadLog::Open(wal_options, spec, apply, &recovery),
                     _.WithPrefix(absl::StrCat("table ", name, ": ")));
    if (!spec.has_value() && recovery.spec.has_value()) {
      spec = recovery.spec;
      if (writable->table.load() == nullptr) RETURN_IF_ERROR(InitTables(*spec));
    }
    LOG(INFO) << "replay: recovered " << recovery.transitions << " transitions of table " << name
              << " from " << wal_options.dir
              << (recovery.dropped_records > 0
                      ? absl::StrCat(" (dropped ", recovery.dropped_records, " torn records)")
                      : "");
  }
  for (std::unique_ptr<Writable>& writable : writable_) {
    Table* table = writable->table.load();
    if (table == nullptr) continue;
    if (!writable->wal->has_spec()) RETURN_IF_ERROR(writable->wal->SetSpec(table->schema().spec()));
    writable->limiter->Restore(table->inserted_total());
    writable->size->Set(static_cast<double>(table->size()));
  }
  return absl::OkStatus();
}

absl::Status ReplayServiceImpl::InitTables(const TransitionSpec& spec) {
  ASSIGN_OR_RETURN(TransitionSchema schema, TransitionSchema::Create(spec));
  const bool episodes = EpisodeItems(options_.config);
  if (schema.episodic() != episodes) {
    return absl::InvalidArgumentError(
        absl::StrCat("the replay tables hold ", episodes ? "whole episodes" : "transitions",
                     " (replay.tables item_kind) but the data has ", DescribeSpec(spec),
                     episodes ? "; actors stream episodes when the tables are ITEM_KIND_EPISODE"
                              : "; declare ITEM_KIND_EPISODE tables for episode data"));
  }
  for (std::unique_ptr<Writable>& writable : writable_) {
    if (writable->table.load() != nullptr) continue;
    const TableConfig& config = writable->config;
    ASSIGN_OR_RETURN(writable->owner,
                     Table::Create(config.name(), schema, config.capacity(),
                                   Table::MakeSelector(config, config.capacity())));
    if (writable->wal != nullptr && !writable->wal->has_spec()) {
      RETURN_IF_ERROR(writable->wal->SetSpec(spec));
    }
    if (config.preload_dataset()) RETURN_IF_ERROR(Preload(*writable));
    writable->table.store(writable->owner.get());
  }
  return absl::OkStatus();
}

absl::Status ReplayServiceImpl::Preload(Writable& writable) {
  const std::string& name = writable.config.name();
  if (offline_ == nullptr) {
    return absl::FailedPreconditionError(absl::StrCat(
        "replay.tables ", name, ": preload_dataset needs an offline dataset (dataset.path)"));
  }
  if (writable.config.capacity() < offline_->size()) {
    return absl::InvalidArgumentError(
        absl::StrCat("replay.tables ", name, ": capacity ", writable.config.capacity(),
                     " cannot hold the dataset's ", offline_->size(), " transitions"));
  }
  RETURN_IF_ERROR(offline_->ForEachChunk(4096, [&](const TransitionBatch& batch) {
    ASSIGN_OR_RETURN(const int64_t rows, writable.owner->schema().Validate(batch));
    writable.owner->Insert(batch, rows);
    return absl::OkStatus();
  }));
  writable.limiter->Restore(writable.owner->inserted_total());
  writable.size->Set(static_cast<double>(writable.owner->size()));
  LOG(INFO) << "replay: table " << name << " starts with the dataset's " << offline_->size()
            << " transitions";
  return absl::OkStatus();
}

void ReplayServiceImpl::Close() {
  if (closed_.exchange(true)) return;
  for (std::unique_ptr<Writable>& writable : writable_) writable->limiter->Close();
  absl::MutexLock lock(&insert_mu_);
  for (std::unique_ptr<Writable>& writable : writable_) {
    if (writable->wal == nullptr) continue;
    absl::Status status = writable->wal->Close();
    if (!status.ok()) {
      LOG(ERROR) << "replay: closing the write-ahead log of table " << writable->config.name()
                 << ": " << status.message();
    }
  }
}

int64_t ReplayServiceImpl::table_size(const std::string& name) const {
  if (name == "offline") return offline_size();
  for (const std::unique_ptr<Writable>& writable : writable_) {
    if (writable->config.name() != name) continue;
    Table* table = writable->table.load();
    return table == nullptr ? 0 : table->size();
  }
  return 0;
}

absl::StatusOr<ReplayServiceImpl::Writable*> ReplayServiceImpl::FindWritable(
    const std::string& name) {
  const std::string wanted = name.empty() ? kOnlineTable : name;
  std::vector<std::string> known;
  for (std::unique_ptr<Writable>& writable : writable_) {
    if (writable->config.name() == wanted) return writable.get();
    known.push_back(writable->config.name());
  }
  return absl::NotFoundError(absl::StrCat("no writable table '", wanted,
                                          "' (writable: ", absl::StrJoin(known, ", "), ")"));
}

absl::StatusOr<int64_t> ReplayServiceImpl::InsertBatch(grpc::ServerContext* context,
                                                       const InsertRequest& request) {
  const absl::Time start = absl::Now();
  const TransitionBatch& batch = request.batch();
  ASSIGN_OR_RETURN(Writable * writable, FindWritable(request.table()));
  Table* table = writable->table.load();
  if (table == nullptr) {
    absl::MutexLock lock(&insert_mu_);
    if (writable->table.load() == nullptr) {
      ASSIGN_OR_RETURN(TransitionSpec spec, InferSpec(batch));
      RETURN_IF_ERROR(InitTables(spec));
      LOG(INFO) << "replay: tables shaped by the first insert: " << DescribeSpec(spec);
    }
    table = writable->table.load();
  }
  ASSIGN_OR_RETURN(int64_t rows, table->schema().Validate(batch));
  RETURN_IF_ERROR(CheckValueBounds(table->schema(), batch, rows, options_.bounds));
  // The rate limiter counts items (Reverb's samples per insert): transitions, or whole episodes
  // for episode tables, so a batch of B episodes per K new ones is samples_per_insert B / K
  // whatever the episodes' lengths (pymarl2's 128 per 8). The throughput counter counts env steps.
  const int64_t steps = table->schema().CountSteps(batch, rows);
  if (request.priorities_size() > 0) {
    if (table->selector_name() != "prioritized") {
      return absl::InvalidArgumentError(absl::StrCat("priorities: table ", table->name(), " has ",
                                                     table->selector_name(),
                                                     " selection and takes no priorities"));
    }
    if (request.priorities_size() != rows) {
      return absl::InvalidArgumentError(absl::StrCat("priorities: ", request.priorities_size(),
                                                     " values for ", rows, " transitions"));
    }
    for (int i = 0; i < request.priorities_size(); ++i) {
      const double p = request.priorities(i);
      if (!std::isfinite(p) || p < 0) {
        return absl::InvalidArgumentError(
            absl::StrCat("priorities[", i, "] is ", p, "; must be finite and >= 0"));
      }
    }
  }
  double waited = 0;
  RETURN_IF_ERROR(writable->limiter->AwaitCanInsert(
      rows, absl::InfiniteDuration(),
      [this, context] { return closed_.load() || context->IsCancelled(); }, &waited));
  insert_blocked_seconds_.Increment(waited);
  {
    absl::MutexLock lock(&insert_mu_);
    if (closed_.load()) return absl::UnavailableError("replay server is shutting down");
    WriteAheadLog* wal = writable->wal.get();
    if (wal != nullptr) RETURN_IF_ERROR(wal->Append(batch));
    table->Insert(batch, rows,
                  absl::MakeConstSpan(request.priorities().data(), request.priorities_size()));
    if (wal != nullptr && wal->ShouldSnapshot(table->size() * table->schema().row_bytes())) {
      absl::Status status = wal->Snapshot(*table);
      if (!status.ok()) LOG(ERROR) << "replay: snapshot failed (log kept): " << status.message();
    }
  }
  writable->limiter->CommitInsert(rows);
  writable->inserted_transitions->Increment(static_cast<double>(steps));
  writable->inserted_bytes->Increment(static_cast<double>(rows * table->schema().row_bytes()));
  writable->size->Set(static_cast<double>(table->size()));
  insert_seconds_.Observe(absl::ToDoubleSeconds(absl::Now() - start));
  return rows;
}

grpc::Status ReplayServiceImpl::InsertStream(
    grpc::ServerContext* context,
    grpc::ServerReaderWriter<InsertResponse, grpc::ByteBuffer>* stream) {
  if (absl::Status auth = CheckAuthToken(*context, options_.auth_token); !auth.ok()) {
    return ToGrpcStatus(auth);
  }
  grpc::ByteBuffer bytes;
  InsertRequest request;
  InsertResponse ack;
  int64_t total = 0;
  int64_t received = 0;
  while (stream->Read(&bytes)) {
    if (closed_.load()) return grpc::Status(grpc::StatusCode::UNAVAILABLE, "replay server closing");
    ++received;
    grpc::ProtoBufferReader reader(&bytes);
    request.Clear();
    if (!request.ParseFromZeroCopyStream(&reader)) {
      unparsable_messages_.Increment();
      LOG(WARNING) << "replay: insert message " << received << " from " << context->peer() << " ("
                   << bytes.Length() << " bytes) does not parse; stream refused";
      return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                          absl::StrCat("insert message ", received, " (", bytes.Length(),
                                       " bytes) does not parse as a tandem.InsertRequest"));
    }
    absl::StatusOr<int64_t> stored = InsertBatch(context, request);
    if (!stored.ok()) {
      if (absl::IsInvalidArgument(stored.status())) {
        rejected_batches_.Increment();
        options_.metrics
            ->GetCounter("tandem_replay_refused_rows_total",
                         "Inserted items refused by validation, by reason (a refused batch counts "
                         "all its items)",
                         {{"reason", RefusalReason(stored.status())}})
            .Increment(static_cast<double>(NumTransitions(request.batch())));
      }
      if (absl::IsCancelled(stored.status()) && closed_.load()) {
        return grpc::Status(grpc::StatusCode::UNAVAILABLE, "replay server closing");
      }
      return ToGrpcStatus(absl::Status(
          stored.status().code(),
          absl::StrCat("insert sequence ", request.sequence(), ": ", stored.status().message())));
    }
    total += *stored;
    ack.set_acked_sequence(request.sequence());
    ack.set_stored_transitions(*stored);
    ack.set_total_stored(total);
    if (!stream->Write(ack)) break;
  }
  return grpc::Status::OK;
}

const TransitionSchema* ReplayServiceImpl::AnySchema() const {
  if (offline_ != nullptr) return &offline_->schema();
  for (const std::unique_ptr<Writable>& writable : writable_) {
    if (const Table* table = writable->table.load(); table != nullptr) return &table->schema();
  }
  return nullptr;
}

absl::Status ReplayServiceImpl::CheckSampleBytes(const TransitionSchema& schema,
                                                 int32_t batch_size) const {
  const int64_t per_item = schema.row_bytes() + kSampleRowOverhead;
  const int64_t cap = options_.config.max_sample_bytes();
  const int64_t bytes = static_cast<int64_t>(batch_size) * per_item + kSampleMessageOverhead;
  if (bytes <= cap) return absl::OkStatus();
  return absl::ResourceExhaustedError(
      absl::StrCat("batch_size ", batch_size, " of ", per_item, "-byte items would make a ", bytes,
                   "-byte response, over replay.max_sample_bytes = ", cap, "; at most ",
                   std::max<int64_t>(0, (cap - kSampleMessageOverhead) / per_item), " items fit"));
}

absl::Status ReplayServiceImpl::SampleBatch(grpc::ServerContext* context, int32_t batch_size,
                                            double rho, const std::string& first,
                                            const std::string& second, absl::Duration timeout,
                                            Rng& rng, SampleResponse* response) {
  const absl::Time start = absl::Now();
  // floor(rho * B) items of the first table, plus one more with probability frac(rho * B): its
  // fraction is exactly rho on average even when rho * B is not an integer.
  const double first_share = rho * batch_size;
  int64_t num_first = static_cast<int64_t>(std::floor(first_share));
  if (UniformUnit(rng) < first_share - static_cast<double>(num_first)) ++num_first;
  int64_t num_second = batch_size - num_first;
  // Each side is the dataset table (read-only, no limiter) or a writable table.
  Writable* first_writable = nullptr;
  Writable* second_writable = nullptr;
  if (first != "offline") {
    ASSIGN_OR_RETURN(first_writable, FindWritable(first));
  } else if (num_first > 0 && offline_ == nullptr) {
    return absl::FailedPreconditionError(
        absl::StrCat("offline_ratio ", rho, " needs an offline dataset; none is loaded"));
  }
  if (second != "offline") {
    ASSIGN_OR_RETURN(second_writable, FindWritable(second));
  } else if (num_second > 0 && offline_ == nullptr) {
    return absl::FailedPreconditionError(
        absl::StrCat("table '", second, "' needs an offline dataset; none is loaded"));
  }
  auto table_of = [this](Writable* writable) -> Table* {
    return writable == nullptr ? offline_.get() : writable->table.load();
  };
  Table* second_table = table_of(second_writable);
  if (num_second > 0 && second_writable != nullptr && first_writable == nullptr &&
      offline_ != nullptr && options_.config.warmup() == ReplayConfig::WARMUP_OFFLINE_ONLY &&
      (second_table == nullptr ||
       second_table->inserted_total() < options_.config.min_size_to_sample())) {
    num_first = batch_size;
    num_second = 0;
  }
  // Refuse what cannot be sent before waiting on the rate limiter (which would count it sampled).
  if (const TransitionSchema* known = AnySchema(); known != nullptr) {
    RETURN_IF_ERROR(CheckSampleBytes(*known, batch_size));
  }
  double waited = 0;
  if (num_second > 0 && second_writable != nullptr) {
    RETURN_IF_ERROR(second_writable->limiter->AwaitSample(
        batch_size, timeout, [this, context] { return closed_.load() || context->IsCancelled(); },
        &waited));
    sample_blocked_seconds_.Increment(waited);
    second_table = table_of(second_writable);
  }
  Table* first_table = table_of(first_writable);
  if (num_first > 0 && first_table == nullptr) {
    return absl::FailedPreconditionError(absl::StrCat("table ", first, " holds nothing yet"));
  }
  const TransitionSchema& schema = (num_first > 0 ? first_table : second_table)->schema();
  RETURN_IF_ERROR(CheckSampleBytes(schema, batch_size));
  SampledBatch* batch = response->mutable_batch();
  schema.Allocate(batch_size, batch->mutable_transitions());
  std::vector<int64_t> keys(batch_size);
  std::vector<double> probabilities(batch_size);
  std::vector<uint8_t> sources(batch_size, static_cast<uint8_t>(SOURCE_ONLINE));
  std::fill(sources.begin(), sources.begin() + num_first, static_cast<uint8_t>(SOURCE_OFFLINE));
  if (num_first > 0) {
    RETURN_IF_ERROR(first_table->SampleInto(num_first, rng, batch->mutable_transitions(), 0,
                                            keys.data(), probabilities.data()));
  }
  if (num_second > 0) {
    RETURN_IF_ERROR(second_table->SampleInto(num_second, rng, batch->mutable_transitions(),
                                             num_first, keys.data() + num_first,
                                             probabilities.data() + num_first));
  }
  const int64_t b = batch_size;
  SetTensor(DTYPE_UINT8, {b}, sources.data(), sources.size(), batch->mutable_source());
  SetTensor(DTYPE_INT64, {b}, keys.data(), keys.size() * sizeof(int64_t), batch->mutable_keys());
  SetTensor(DTYPE_FLOAT64, {b}, probabilities.data(), probabilities.size() * sizeof(double),
            batch->mutable_probabilities());
  response->set_rate_limiter_wait_seconds(waited);
  (first_writable != nullptr ? *first_writable->sampled : sampled_offline_)
      .Increment(static_cast<double>(num_first));
  (second_writable != nullptr ? *second_writable->sampled : sampled_offline_)
      .Increment(static_cast<double>(num_second));
  sampled_bytes_.Increment(static_cast<double>(b * schema.row_bytes()));
  sample_seconds_.Observe(absl::ToDoubleSeconds(absl::Now() - start));
  return absl::OkStatus();
}

grpc::Status ReplayServiceImpl::Sample(grpc::ServerContext* context, const SampleRequest* request,
                                       grpc::ServerWriter<SampleResponse>* writer) {
  if (absl::Status auth = CheckAuthToken(*context, options_.auth_token); !auth.ok()) {
    return ToGrpcStatus(auth);
  }
  if (request->batch_size() < 1 || request->batch_size() > kMaxSampleBatch) {
    return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                        absl::StrCat("batch_size must be in [1, ", kMaxSampleBatch, "], got ",
                                     request->batch_size()));
  }
  const double rho =
      request->has_offline_ratio() ? request->offline_ratio() : options_.config.offline_ratio();
  if (!(rho >= 0 && rho <= 1)) {
    return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                        absl::StrCat("offline_ratio must be in [0, 1], got ", rho));
  }
  if (request->num_batches() < 0 || request->rate_limiter_timeout_ms() < 0) {
    return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                        "num_batches and rate_limiter_timeout_ms must be >= 0");
  }
  const std::string first = request->offline_table().empty() ? "offline" : request->offline_table();
  const std::string second =
      request->online_table().empty() ? kOnlineTable : request->online_table();
  for (const std::string& name : {first, second}) {
    if (name != "offline" && !FindWritable(name).ok()) {
      return ToGrpcStatus(FindWritable(name).status());
    }
  }
  const absl::Duration timeout = request->rate_limiter_timeout_ms() > 0
                                     ? absl::Milliseconds(request->rate_limiter_timeout_ms())
                                     : absl::InfiniteDuration();
  Rng rng(DeriveSeed(options_.seed, {SeedStream::kReplay, sample_streams_.fetch_add(1)}));
  SampleResponse response;
  for (int64_t sent = 0; request->num_batches() == 0 || sent < request->num_batches(); ++sent) {
    if (closed_.load()) return grpc::Status(grpc::StatusCode::UNAVAILABLE, "replay server closing");
    absl::Status status =
        SampleBatch(context, request->batch_size(), rho, first, second, timeout, rng, &response);
    if (!status.ok()) {
      if (absl::IsCancelled(status) && closed_.load()) {
        return grpc::Status(grpc::StatusCode::UNAVAILABLE, "replay server closing");
      }
      return ToGrpcStatus(status);
    }
    if (!writer->Write(response)) break;
  }
  return grpc::Status::OK;
}

grpc::Status ReplayServiceImpl::ServerInfo(grpc::ServerContext* context,
                                           const ServerInfoRequest* request,
                                           ServerInfoResponse* response) {
  if (absl::Status auth = CheckAuthToken(*context, options_.auth_token); !auth.ok()) {
    return ToGrpcStatus(auth);
  }
  auto describe = [response](const Table& table, bool writable) {
    TableInfo* info = response->add_tables();
    info->set_name(table.name());
    info->set_size(table.size());
    info->set_capacity(table.capacity());
    info->set_inserted_total(table.inserted_total());
    info->set_inserted_steps(table.inserted_steps());
    info->set_sampled_total(table.sampled_total());
    info->set_selector(table.selector_name());
    info->set_writable(writable);
  };
  if (offline_ != nullptr) {
    *response->mutable_spec() = offline_->schema().spec();
    describe(*offline_, false);
  }
  for (const std::unique_ptr<Writable>& writable : writable_) {
    Table* table = writable->table.load();
    if (table == nullptr) continue;
    if (!response->has_spec()) *response->mutable_spec() = table->schema().spec();
    describe(*table, true);
  }
  const RateLimiterOptions& limiter = writable_.front()->limiter->options();
  response->set_offline_ratio(options_.config.offline_ratio());
  response->set_samples_per_insert(limiter.samples_per_insert);
  response->set_min_diff(limiter.min_diff);
  response->set_max_diff(limiter.max_diff);
  response->set_min_size_to_sample(limiter.min_size_to_sample);
  return grpc::Status::OK;
}

grpc::Status ReplayServiceImpl::UpdatePriorities(grpc::ServerContext* context,
                                                 const UpdatePrioritiesRequest* request,
                                                 UpdatePrioritiesResponse* response) {
  if (absl::Status auth = CheckAuthToken(*context, options_.auth_token); !auth.ok()) {
    return ToGrpcStatus(auth);
  }
  if (request->keys_size() > kMaxSampleBatch) {
    return grpc::Status(
        grpc::StatusCode::INVALID_ARGUMENT,
        absl::StrCat("at most ", kMaxSampleBatch, " keys per request, got ", request->keys_size()));
  }
  absl::StatusOr<Writable*> writable = FindWritable(request->table());
  if (!writable.ok()) return ToGrpcStatus(writable.status());
  Table* table = (*writable)->table.load();
  if (table == nullptr) {
    return grpc::Status(grpc::StatusCode::FAILED_PRECONDITION,
                        absl::StrCat("table ", (*writable)->config.name(), " holds nothing yet"));
  }
  absl::StatusOr<int64_t> missing = table->UpdatePriorities(
      absl::MakeConstSpan(request->keys().data(), request->keys_size()),
      absl::MakeConstSpan(request->priorities().data(), request->priorities_size()));
  if (!missing.ok()) return ToGrpcStatus(missing.status());
  response->set_updated(request->keys_size() - *missing);
  response->set_missing(*missing);
  return grpc::Status::OK;
}

}  // namespace tandem::replay
