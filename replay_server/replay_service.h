// The ReplayService gRPC implementation (proto/replay_service.proto): an offline table loaded from
// a dataset, an online FIFO table filled by actors, rho-mixed sampling, a rate limiter and an
// optional write-ahead log.
//
// Thread-safety: thread-safe; gRPC calls it from many threads. Inserts are serialized by one lock
// (log append + table insert), so the log order is the table order; samples run in parallel.
#ifndef TANDEM_REPLAY_SERVER_REPLAY_SERVICE_H_
#define TANDEM_REPLAY_SERVER_REPLAY_SERVICE_H_

#include <atomic>
#include <memory>
#include <optional>
#include <string>

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

  grpc::Status Insert(grpc::ServerContext* context,
                      grpc::ServerReaderWriter<InsertResponse, InsertRequest>* stream) override;
  grpc::Status Sample(grpc::ServerContext* context, const SampleRequest* request,
                      grpc::ServerWriter<SampleResponse>* writer) override;
  grpc::Status ServerInfo(grpc::ServerContext* context, const ServerInfoRequest* request,
                          ServerInfoResponse* response) override;

  // Wakes blocked calls (they end with UNAVAILABLE), refuses new ones and closes the log.
  void Close();

  // Online transitions stored so far (for tests and the CLI).
  int64_t online_size() const;
  int64_t offline_size() const { return offline_ ? offline_->size() : 0; }

 private:
  explicit ReplayServiceImpl(const ReplayServiceOptions& options);

  // Creates the online table (and the log's spec) from `spec`. Requires insert_mu_ or construction.
  absl::Status InitOnline(const TransitionSpec& spec) ABSL_EXCLUSIVE_LOCKS_REQUIRED(insert_mu_);
  // Validates and stores one batch; returns the number of transitions stored.
  absl::StatusOr<int64_t> InsertBatch(grpc::ServerContext* context, const TransitionBatch& batch);
  // Fills `response` with one batch of `batch_size`, `rho` offline.
  absl::Status SampleBatch(grpc::ServerContext* context, int32_t batch_size, double rho,
                           absl::Duration timeout, Rng& rng, SampleResponse* response);

  const ReplayServiceOptions options_;
  std::unique_ptr<Table> offline_;
  // Set once (at creation or by the first insert), then never changes.
  std::atomic<Table*> online_{nullptr};
  std::unique_ptr<Table> online_owner_ ABSL_GUARDED_BY(insert_mu_);
  std::unique_ptr<WriteAheadLog> wal_ ABSL_GUARDED_BY(insert_mu_);
  RateLimiter limiter_;
  absl::Mutex insert_mu_;
  std::atomic<bool> closed_{false};
  std::atomic<uint64_t> sample_streams_{0};

  // Metrics, built once.
  Counter& inserted_transitions_;
  Counter& inserted_bytes_;
  Counter& rejected_batches_;
  Counter& sampled_offline_;
  Counter& sampled_online_;
  Counter& sampled_bytes_;
  Gauge& offline_size_;
  Gauge& online_size_;
  Histogram& insert_seconds_;
  Histogram& sample_seconds_;
  Counter& insert_blocked_seconds_;
  Counter& sample_blocked_seconds_;
  Counter& wal_bytes_;
  Histogram& wal_fsync_seconds_;
};

}  // namespace tandem::replay

#endif  // TANDEM_REPLAY_SERVER_REPLAY_SERVICE_H_
