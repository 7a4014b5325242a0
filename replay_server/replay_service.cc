#include "replay_server/replay_service.h"

#include <cmath>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/grpc_security.h"
#include "common/grpc_status.h"
#include "common/logging.h"
#include "common/status_macros.h"
#include "common/tensor_proto.h"

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

}  // namespace

ReplayServiceImpl::ReplayServiceImpl(const ReplayServiceOptions& options)
    : options_(options),
      limiter_(LimiterOptions(options.config)),
      inserted_transitions_(options.metrics->GetCounter("tandem_replay_inserted_transitions_total",
                                                        "Transitions stored in a table",
                                                        {{"table", "online"}})),
      inserted_bytes_(options.metrics->GetCounter("tandem_replay_inserted_bytes_total",
                                                  "Bytes of transitions stored in a table",
                                                  {{"table", "online"}})),
      rejected_batches_(options.metrics->GetCounter("tandem_replay_rejected_batches_total",
                                                    "Inserted batches refused by validation")),
      sampled_offline_(options.metrics->GetCounter("tandem_replay_sampled_transitions_total",
                                                   "Transitions sampled from a table",
                                                   {{"table", "offline"}})),
      sampled_online_(options.metrics->GetCounter("tandem_replay_sampled_transitions_total",
                                                  "Transitions sampled from a table",
                                                  {{"table", "online"}})),
      sampled_bytes_(options.metrics->GetCounter("tandem_replay_sampled_bytes_total",
                                                 "Bytes of transitions sent to learners")),
      offline_size_(options.metrics->GetGauge(
          "tandem_replay_table_size", "Transitions held by a table", {{"table", "offline"}})),
      online_size_(options.metrics->GetGauge("tandem_replay_table_size",
                                             "Transitions held by a table", {{"table", "online"}})),
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
                                                       LatencyBuckets())) {}

ReplayServiceImpl::~ReplayServiceImpl() { Close(); }

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
              << service->offline_->size() << " transitions (" << DescribeSpec(*spec) << ")";
  } else if (config.offline_ratio() > 0) {
    return absl::FailedPreconditionError(
        absl::StrCat("replay.offline_ratio is ", config.offline_ratio(),
                     " but no offline dataset is configured (dataset.path); set a dataset or "
                     "offline_ratio=0"));
  }

  absl::MutexLock lock(&service->insert_mu_);
  if (!config.wal_dir().empty()) {
    WalOptions wal_options;
    wal_options.dir = config.wal_dir();
    wal_options.fsync_policy = config.fsync_policy();
    wal_options.fsync_interval = absl::Milliseconds(config.fsync_interval_ms());
    wal_options.snapshot_every_bytes = config.snapshot_every_bytes();
    wal_options.bytes_written = &service->wal_bytes_;
    wal_options.fsync_seconds = &service->wal_fsync_seconds_;
    WalRecovery recovery;
    ReplayServiceImpl* raw = service.get();
    auto apply = [raw](const TransitionBatch& batch) ABSL_NO_THREAD_SAFETY_ANALYSIS {
      if (raw->online_.load() == nullptr) {
        ASSIGN_OR_RETURN(TransitionSpec inferred, InferSpec(batch));
        RETURN_IF_ERROR(raw->InitOnline(inferred));
      }
      Table* online = raw->online_.load();
      ASSIGN_OR_RETURN(int64_t rows, online->schema().Validate(batch),
                       _.WithPrefix("recovered batch: "));
      online->Insert(batch, rows);
      return absl::OkStatus();
    };
    if (spec.has_value()) RETURN_IF_ERROR(service->InitOnline(*spec));
    ASSIGN_OR_RETURN(service->wal_, WriteAheadLog::Open(wal_options, spec, apply, &recovery));
    if (!spec.has_value() && recovery.spec.has_value() && service->online_.load() == nullptr) {
      RETURN_IF_ERROR(service->InitOnline(*recovery.spec));
    }
    if (Table* online = service->online_.load()) {
      if (!service->wal_->has_spec())
        RETURN_IF_ERROR(service->wal_->SetSpec(online->schema().spec()));
      service->limiter_.Restore(online->inserted_total());
      service->online_size_.Set(static_cast<double>(online->size()));
    }
    LOG(INFO) << "replay: recovered " << recovery.transitions << " online transitions from "
              << config.wal_dir()
              << (recovery.dropped_records > 0
                      ? absl::StrCat(" (dropped ", recovery.dropped_records, " torn records)")
                      : "");
  } else if (spec.has_value()) {
    RETURN_IF_ERROR(service->InitOnline(*spec));
  }
  return service;
}

absl::Status ReplayServiceImpl::InitOnline(const TransitionSpec& spec) {
  ASSIGN_OR_RETURN(TransitionSchema schema, TransitionSchema::Create(spec));
  ASSIGN_OR_RETURN(
      online_owner_,
      Table::Create("online", schema, options_.config.online_capacity(),
                    std::make_unique<UniformSelector>(options_.config.online_capacity())));
  if (wal_ != nullptr && !wal_->has_spec()) RETURN_IF_ERROR(wal_->SetSpec(spec));
  online_.store(online_owner_.get());
  return absl::OkStatus();
}

void ReplayServiceImpl::Close() {
  if (closed_.exchange(true)) return;
  limiter_.Close();
  absl::MutexLock lock(&insert_mu_);
  if (wal_ != nullptr) {
    absl::Status status = wal_->Close();
    if (!status.ok()) LOG(ERROR) << "replay: closing the write-ahead log: " << status.message();
  }
}

int64_t ReplayServiceImpl::online_size() const {
  Table* online = online_.load();
  return online == nullptr ? 0 : online->size();
}

absl::StatusOr<int64_t> ReplayServiceImpl::InsertBatch(grpc::ServerContext* context,
                                                       const TransitionBatch& batch) {
  const absl::Time start = absl::Now();
  Table* online = online_.load();
  if (online == nullptr) {
    absl::MutexLock lock(&insert_mu_);
    if (online_.load() == nullptr) {
      ASSIGN_OR_RETURN(TransitionSpec spec, InferSpec(batch));
      RETURN_IF_ERROR(InitOnline(spec));
      LOG(INFO) << "replay: online table shaped by the first insert: " << DescribeSpec(spec);
    }
    online = online_.load();
  }
  ASSIGN_OR_RETURN(int64_t rows, online->schema().Validate(batch));
  double waited = 0;
  RETURN_IF_ERROR(limiter_.AwaitCanInsert(
      rows, absl::InfiniteDuration(),
      [this, context] { return closed_.load() || context->IsCancelled(); }, &waited));
  insert_blocked_seconds_.Increment(waited);
  {
    absl::MutexLock lock(&insert_mu_);
    if (closed_.load()) return absl::UnavailableError("replay server is shutting down");
    if (wal_ != nullptr) RETURN_IF_ERROR(wal_->Append(batch));
    online->Insert(batch, rows);
    if (wal_ != nullptr && wal_->ShouldSnapshot(online->size() * online->schema().row_bytes())) {
      absl::Status status = wal_->Snapshot(*online);
      if (!status.ok()) LOG(ERROR) << "replay: snapshot failed (log kept): " << status.message();
    }
  }
  limiter_.CommitInsert(rows);
  inserted_transitions_.Increment(static_cast<double>(rows));
  inserted_bytes_.Increment(static_cast<double>(rows * online->schema().row_bytes()));
  online_size_.Set(static_cast<double>(online->size()));
  insert_seconds_.Observe(absl::ToDoubleSeconds(absl::Now() - start));
  return rows;
}

grpc::Status ReplayServiceImpl::Insert(
    grpc::ServerContext* context, grpc::ServerReaderWriter<InsertResponse, InsertRequest>* stream) {
  if (absl::Status auth = CheckAuthToken(*context, options_.auth_token); !auth.ok()) {
    return ToGrpcStatus(auth);
  }
  InsertRequest request;
  InsertResponse ack;
  int64_t total = 0;
  while (stream->Read(&request)) {
    if (closed_.load()) return grpc::Status(grpc::StatusCode::UNAVAILABLE, "replay server closing");
    absl::StatusOr<int64_t> stored = InsertBatch(context, request.batch());
    if (!stored.ok()) {
      if (absl::IsInvalidArgument(stored.status())) rejected_batches_.Increment();
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

absl::Status ReplayServiceImpl::SampleBatch(grpc::ServerContext* context, int32_t batch_size,
                                            double rho, absl::Duration timeout, Rng& rng,
                                            SampleResponse* response) {
  const absl::Time start = absl::Now();
  // floor(rho * B) offline items, plus one more with probability frac(rho * B): the offline
  // fraction is exactly rho on average even when rho * B is not an integer.
  const double offline_share = rho * batch_size;
  int64_t num_offline = static_cast<int64_t>(std::floor(offline_share));
  if (UniformUnit(rng) < offline_share - static_cast<double>(num_offline)) ++num_offline;
  int64_t num_online = batch_size - num_offline;
  if (num_offline > 0 && offline_ == nullptr) {
    return absl::FailedPreconditionError(
        absl::StrCat("offline_ratio ", rho, " needs an offline dataset; none is loaded"));
  }
  Table* online = online_.load();
  if (num_online > 0 && offline_ != nullptr &&
      options_.config.warmup() == ReplayConfig::WARMUP_OFFLINE_ONLY &&
      (online == nullptr || online->size() < options_.config.min_size_to_sample())) {
    num_offline = batch_size;
    num_online = 0;
  }
  double waited = 0;
  if (num_online > 0) {
    RETURN_IF_ERROR(limiter_.AwaitSample(
        batch_size, timeout, [this, context] { return closed_.load() || context->IsCancelled(); },
        &waited));
    sample_blocked_seconds_.Increment(waited);
    online = online_.load();
  }
  const TransitionSchema& schema = offline_ != nullptr ? offline_->schema() : online->schema();
  SampledBatch* batch = response->mutable_batch();
  schema.Allocate(batch_size, batch->mutable_transitions());
  std::vector<int64_t> keys(batch_size);
  std::vector<double> probabilities(batch_size);
  std::vector<uint8_t> sources(batch_size, static_cast<uint8_t>(SOURCE_ONLINE));
  std::fill(sources.begin(), sources.begin() + num_offline, static_cast<uint8_t>(SOURCE_OFFLINE));
  if (num_offline > 0) {
    RETURN_IF_ERROR(offline_->SampleInto(num_offline, rng, batch->mutable_transitions(), 0,
                                         keys.data(), probabilities.data()));
  }
  if (num_online > 0) {
    RETURN_IF_ERROR(online->SampleInto(num_online, rng, batch->mutable_transitions(), num_offline,
                                       keys.data() + num_offline,
                                       probabilities.data() + num_offline));
  }
  const int64_t b = batch_size;
  SetTensor(DTYPE_UINT8, {b}, sources.data(), sources.size(), batch->mutable_source());
  SetTensor(DTYPE_INT64, {b}, keys.data(), keys.size() * sizeof(int64_t), batch->mutable_keys());
  SetTensor(DTYPE_FLOAT64, {b}, probabilities.data(), probabilities.size() * sizeof(double),
            batch->mutable_probabilities());
  response->set_rate_limiter_wait_seconds(waited);
  sampled_offline_.Increment(static_cast<double>(num_offline));
  sampled_online_.Increment(static_cast<double>(num_online));
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
  const absl::Duration timeout = request->rate_limiter_timeout_ms() > 0
                                     ? absl::Milliseconds(request->rate_limiter_timeout_ms())
                                     : absl::InfiniteDuration();
  Rng rng(DeriveSeed(options_.seed, {SeedStream::kReplay, sample_streams_.fetch_add(1)}));
  SampleResponse response;
  for (int64_t sent = 0; request->num_batches() == 0 || sent < request->num_batches(); ++sent) {
    if (closed_.load()) return grpc::Status(grpc::StatusCode::UNAVAILABLE, "replay server closing");
    absl::Status status = SampleBatch(context, request->batch_size(), rho, timeout, rng, &response);
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
  Table* online = online_.load();
  if (offline_ != nullptr) {
    *response->mutable_spec() = offline_->schema().spec();
  } else if (online != nullptr) {
    *response->mutable_spec() = online->schema().spec();
  }
  for (Table* table : {offline_.get(), online}) {
    if (table == nullptr) continue;
    TableInfo* info = response->add_tables();
    info->set_name(table->name());
    info->set_size(table->size());
    info->set_capacity(table->capacity());
    info->set_inserted_total(table->inserted_total());
    info->set_sampled_total(table->sampled_total());
  }
  const RateLimiterOptions& limiter = limiter_.options();
  response->set_offline_ratio(options_.config.offline_ratio());
  response->set_samples_per_insert(limiter.samples_per_insert);
  response->set_min_diff(limiter.min_diff);
  response->set_max_diff(limiter.max_diff);
  response->set_min_size_to_sample(limiter.min_size_to_sample);
  return grpc::Status::OK;
}

}  // namespace tandem::replay
