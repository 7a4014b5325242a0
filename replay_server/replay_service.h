// The ReplayService gRPC implementation (proto/replay_service.proto): named tables — the read-only
// "offline" table loaded from a dataset, and the writable tables of the config (always "online";
// more from `replay.tables`, each with its own selector, rate limiter and write-ahead log) —
// rho-mixed sampling over any two of them, and priority updates.
//
// Thread-safety: thread-safe; gRPC calls it from many threads. Inserts are serialized by one lock
// (log append + table insert), so each log's order is its table's order; samples run in parallel.
#ifndef TANDEM_REPLAY_SERVER_REPLAY_SERVICE_H_
#define TANDEM_REPLAY_SERVER_REPLAY_SERVICE_H_

#include <atomic>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "common/dataset.h"
#include "common/metrics.h"
#include "proto/config.pb.h"
#include "proto/replay_service.grpc.pb.h"
#include "replay_server/rate_limiter.h"
#include "replay_server/table.h"
#include "replay_server/wal.h"

namespace tandem::replay {

struct ReplayServiceOptions {
  // Capacity, rho, warm-up, rate limiter and durability settings.
  ReplayConfig config;
  // Root seed; each Sample stream derives its own generator.
  uint64_t seed = 1;
  // Shared token ("" = no authentication).
  std::string auth_token;
  // Shape of the online table when there is no dataset; unset means the first inserted batch
  // defines it.
  std::optional<TransitionSpec> spec;
  // Value bounds every insert is checked against (replay.validation and the env's action box).
  ValueBounds bounds;
  // Where metrics go (required).
  MetricsRegistry* metrics = nullptr;
};

class ReplayServiceImpl final : public ReplayService::Service {
 public:
  // Builds the service: `offline` (may be null) becomes the read-only offline table; the online
  // table is recovered from `config.wal_dir` when set. Fails on incompatible shapes between the
  // dataset, `options.spec` and the log, or when rho > 0 without a dataset.
  static absl::StatusOr<std::unique_ptr<ReplayServiceImpl>> Create(
      const ReplayServiceOptions& options, OfflineDataSource* offline);

  ~ReplayServiceImpl() override;

  // Insert reads raw messages and parses them itself (see the constructor), so a message that is
  // not an InsertRequest ends the stream with INVALID_ARGUMENT instead of a silent OK.
  grpc::Status InsertStream(grpc::ServerContext* context,
                            grpc::ServerReaderWriter<InsertResponse, grpc::ByteBuffer>* stream);
  grpc::Status Sample(grpc::ServerContext* context, const SampleRequest* request,
                      grpc::ServerWriter<SampleResponse>* writer) override;
  grpc::Status ServerInfo(grpc::ServerContext* context, const ServerInfoRequest* request,
                          ServerInfoResponse* response) override;

  // Wakes blocked calls (they end with UNAVAILABLE), refuses new ones and closes the log.
  void Close();

  grpc::Status UpdatePriorities(grpc::ServerContext* context,
                                const UpdatePrioritiesRequest* request,
                                UpdatePrioritiesResponse* response) override;

  // Online transitions stored so far (for tests and the CLI).
  int64_t online_size() const { return table_size(kOnlineTable); }
  int64_t offline_size() const { return offline_ ? offline_->size() : 0; }
  // Items held by the table `name` (0 when it does not exist or is not shaped yet).
  int64_t table_size(const std::string& name) const;

  // The default writable table, which actors insert into.
  static constexpr const char* kOnlineTable = "online";

 private:
  // A writable table with its log, its rate limiter and its metrics. The table and the log are
  // created once the transition spec is known (at start, or by the first insert).
  struct Writable {
    TableConfig config;
    std::unique_ptr<RateLimiter> limiter;
    // Set once, then never changes.
    std::atomic<Table*> table{nullptr};
    std::unique_ptr<Table> owner;
    std::unique_ptr<WriteAheadLog> wal;
    Counter* inserted_transitions = nullptr;
    Counter* inserted_bytes = nullptr;
    Counter* sampled = nullptr;
    Gauge* size = nullptr;
  };

  explicit ReplayServiceImpl(const ReplayServiceOptions& options);
  // Replaces the generated Insert handler with one that reads raw bytes (InsertStream).
  void TakeRawInserts();

  // Creates every writable table for `spec`. Requires insert_mu_ or construction.
  absl::Status InitTables(const TransitionSpec& spec) ABSL_EXCLUSIVE_LOCKS_REQUIRED(insert_mu_);
  // Fills a new `preload_dataset` table with every item of the offline table.
  absl::Status Preload(Writable& writable) ABSL_EXCLUSIVE_LOCKS_REQUIRED(insert_mu_);
  // Opens (and recovers) the write-ahead log of every writable table.
  absl::Status OpenLogs(std::optional<TransitionSpec> spec)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(insert_mu_);
  // The writable table `name` ("" = online); NOT_FOUND lists the tables.
  absl::StatusOr<Writable*> FindWritable(const std::string& name);
  // The schema of any table that has one (they all share it); null before the first is shaped.
  const TransitionSchema* AnySchema() const;
  // RESOURCE_EXHAUSTED when `batch_size` items of `schema` would exceed replay.max_sample_bytes.
  absl::Status CheckSampleBytes(const TransitionSchema& schema, int32_t batch_size) const;
  // Validates and stores one request; returns the number of transitions stored.
  absl::StatusOr<int64_t> InsertBatch(grpc::ServerContext* context, const InsertRequest& request);
  // Fills `response` with one batch of `batch_size`, `rho` from `first`, the rest from `second`
  // (whose limiter, if any, governs).
  absl::Status SampleBatch(grpc::ServerContext* context, int32_t batch_size, double rho,
                           const std::string& first, const std::string& second,
                           absl::Duration timeout, Rng& rng, SampleResponse* response);

  const ReplayServiceOptions options_;
  std::unique_ptr<Table> offline_;
  // Writable tables by name, "online" first; the map itself never changes after construction.
  std::vector<std::unique_ptr<Writable>> writable_;
  absl::Mutex insert_mu_;
  std::atomic<bool> closed_{false};
  std::atomic<uint64_t> sample_streams_{0};

  // Metrics, built once.
  Counter& rejected_batches_;
  Counter& unparsable_messages_;
  Counter& sampled_offline_;
  Counter& sampled_bytes_;
  Gauge& offline_size_;
  Histogram& insert_seconds_;
  Histogram& sample_seconds_;
  Counter& insert_blocked_seconds_;
  Counter& sample_blocked_seconds_;
  Counter& wal_bytes_;
  Histogram& wal_fsync_seconds_;
};

}  // namespace tandem::replay

#endif  // TANDEM_REPLAY_SERVER_REPLAY_SERVICE_H_
