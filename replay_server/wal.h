// Durability of the online table: an append-only write-ahead log plus periodic snapshots.
//
// Directory layout:
//   wal-<G>.log        records: spec, then one batch per acknowledged insert
//   snapshot-<G>.snap  records: spec, the table's live items oldest first, end(count); holds
//                      exactly the state after every insert logged in wal files <= G
// Recovery loads the newest complete snapshot S, then replays wal files > S in order. A torn or
// corrupt record (a crash in the middle of a write) is detected by its checksums, reported with a
// warning and dropped; the file is truncated there so new records follow valid data. Nothing of a
// torn record is ever loaded.
//
// Fsync policies (ReplayConfig.fsync_policy):
//   FSYNC_EVERY_BATCH  Append returns after fdatasync: an acknowledged insert survives kill -9 and
//                      power loss.
//   FSYNC_INTERVAL     a background thread syncs at most `fsync_interval` after a write: survives
//                      kill -9 (the data is in the page cache), may lose that window on power loss.
//   FSYNC_NEVER        survives kill -9, not power loss.
//
// Thread-safety: Append and Snapshot must be serialized by the caller (the replay service holds its
// insert lock); the background syncer is internally synchronized.
#ifndef TANDEM_REPLAY_SERVER_WAL_H_
#define TANDEM_REPLAY_SERVER_WAL_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/time.h"
#include "common/metrics.h"
#include "proto/config.pb.h"
#include "proto/transition.pb.h"
#include "replay_server/record_io.h"
#include "replay_server/table.h"

namespace tandem::replay {

struct WalOptions {
  // Directory of the log and snapshots (created if missing).
  std::string dir;
  ReplayConfig::FsyncPolicy fsync_policy = ReplayConfig::FSYNC_EVERY_BATCH;
  absl::Duration fsync_interval = absl::Milliseconds(100);
  // Snapshot (and start a new log file) once the log holds this many bytes and at least as many
  // bytes as the table's live items.
  int64_t snapshot_every_bytes = int64_t{256} << 20;
  // Optional metrics: bytes written, fsync latency.
  Counter* bytes_written = nullptr;
  Histogram* fsync_seconds = nullptr;
};

// What recovery found.
struct WalRecovery {
  // The spec recorded in the directory, if it held any data.
  std::optional<TransitionSpec> spec;
  // Transitions handed to the apply callback.
  int64_t transitions = 0;
  // Torn or corrupt records dropped.
  int64_t dropped_records = 0;
};

class WriteAheadLog {
 public:
  // Opens `options.dir`, recovering its contents: `apply` is called for every recovered batch, in
  // insertion order (snapshot first, then the log). Fails if the directory cannot be used or holds
  // data whose spec is incompatible with `expected_spec` (when given).
  static absl::StatusOr<std::unique_ptr<WriteAheadLog>> Open(
      const WalOptions& options, const std::optional<TransitionSpec>& expected_spec,
      const std::function<absl::Status(const TransitionBatch&)>& apply, WalRecovery* recovery);

  ~WriteAheadLog();
  WriteAheadLog(const WriteAheadLog&) = delete;
  WriteAheadLog& operator=(const WriteAheadLog&) = delete;

  // Records the spec of a log that had none (a fresh directory). Must precede the first Append.
  absl::Status SetSpec(const TransitionSpec& spec) ABSL_LOCKS_EXCLUDED(mu_);
  bool has_spec() const { return spec_.has_value(); }

  // Logs one validated batch; with FSYNC_EVERY_BATCH it is on stable storage when this returns.
  absl::Status Append(const TransitionBatch& batch) ABSL_LOCKS_EXCLUDED(mu_);

  // Whether the current log file has grown past both `snapshot_every_bytes` and `table_bytes` (the
  // size a snapshot of the table would have), so a snapshot at most doubles the bytes written.
  bool ShouldSnapshot(int64_t table_bytes) const ABSL_LOCKS_EXCLUDED(mu_);

  // Writes a snapshot of `table` (which must reflect exactly the logged inserts), starts a new log
  // file and deletes what the snapshot supersedes.
  absl::Status Snapshot(Table& table) ABSL_LOCKS_EXCLUDED(mu_);

  // Syncs and closes; stops the background syncer. Idempotent.
  absl::Status Close() ABSL_LOCKS_EXCLUDED(mu_);

 private:
  explicit WriteAheadLog(const WalOptions& options) : options_(options) {}
  absl::Status SyncLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::Status StartLogFile(int64_t generation) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void SyncLoop();

  const WalOptions options_;
  std::optional<TransitionSpec> spec_;
  mutable absl::Mutex mu_;
  std::unique_ptr<RecordWriter> log_ ABSL_GUARDED_BY(mu_);
  int64_t generation_ ABSL_GUARDED_BY(mu_) = 0;
  bool dirty_ ABSL_GUARDED_BY(mu_) = false;
  bool closed_ ABSL_GUARDED_BY(mu_) = false;
  absl::Notification stop_;
  std::thread syncer_;
};

}  // namespace tandem::replay

#endif  // TANDEM_REPLAY_SERVER_WAL_H_
