#include "replay_server/wal.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <map>
#include <system_error>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/strip.h"
#include "common/logging.h"
#include "common/status_macros.h"
#include "common/transition_schema.h"

namespace tandem::replay {
namespace fs = std::filesystem;
namespace {

std::string LogPath(const std::string& dir, int64_t generation) {
  return absl::StrFormat("%s/wal-%08d.log", dir, generation);
}
std::string SnapshotPath(const std::string& dir, int64_t generation) {
  return absl::StrFormat("%s/snapshot-%08d.snap", dir, generation);
}

// Generation number of "wal-00000012.log" (prefix "wal-", suffix ".log"), or -1.
int64_t GenerationOf(const std::string& name, absl::string_view prefix, absl::string_view suffix) {
  absl::string_view view(name);
  int64_t generation = -1;
  if (!absl::ConsumePrefix(&view, prefix) || !absl::ConsumeSuffix(&view, suffix) ||
      !absl::SimpleAtoi(view, &generation)) {
    return -1;
  }
  return generation;
}

absl::Status SyncDirectory(const std::string& dir) {
  const int fd = open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return absl::InternalError(absl::StrCat("cannot open directory ", dir));
  fsync(fd);
  close(fd);
  return absl::OkStatus();
}

absl::Status CheckSpec(const std::string& path, const std::string& payload,
                       const std::optional<TransitionSpec>& expected, TransitionSpec* spec) {
  if (!spec->ParseFromString(payload)) {
    return absl::DataLossError(absl::StrCat(path, ": unreadable spec record"));
  }
  if (expected.has_value() && !TransitionSchema::Compatible(*spec, *expected)) {
    return absl::FailedPreconditionError(
        absl::StrCat(path, ": holds transitions of a different shape (", DescribeSpec(*spec),
                     ") than this server's table (", DescribeSpec(*expected),
                     "); point replay.wal_dir elsewhere or move the old data away"));
  }
  return absl::OkStatus();
}

// Reads a snapshot completely; returns its batches only if it ends with a valid end record.
absl::StatusOr<std::vector<TransitionBatch>> ReadSnapshot(
    const std::string& path, const std::optional<TransitionSpec>& expected, TransitionSpec* spec) {
  ASSIGN_OR_RETURN(auto reader, RecordReader::Open(path));
  std::vector<TransitionBatch> batches;
  RecordType type;
  std::string payload;
  int64_t transitions = 0;
  bool has_spec = false;
  while (true) {
    absl::Status status = reader->Next(&type, &payload);
    if (!status.ok()) {
      return absl::DataLossError(
          absl::StrCat(path, ": incomplete snapshot (", status.message(), ")"));
    }
    if (type == RecordType::kSpec) {
      RETURN_IF_ERROR(CheckSpec(path, payload, expected, spec));
      has_spec = true;
    } else if (type == RecordType::kBatch) {
      if (!has_spec) return absl::DataLossError(absl::StrCat(path, ": batch before spec"));
      TransitionBatch& batch = batches.emplace_back();
      if (!batch.ParseFromString(payload)) {
        return absl::DataLossError(absl::StrCat(path, ": unreadable batch record"));
      }
      transitions += NumSteps(batch);
    } else {
      int64_t count = -1;
      if (!absl::SimpleAtoi(payload, &count) || count != transitions) {
        return absl::DataLossError(absl::StrCat(path, ": end record counts ", payload,
                                                " transitions, found ", transitions));
      }
      return batches;
    }
  }
}

}  // namespace

absl::StatusOr<std::unique_ptr<WriteAheadLog>> WriteAheadLog::Open(
    const WalOptions& options, const std::optional<TransitionSpec>& expected_spec,
    const std::function<absl::Status(const TransitionBatch&)>& apply, WalRecovery* recovery) {
  std::error_code error;
  fs::create_directories(options.dir, error);
  if (error) {
    return absl::PermissionDeniedError(
        absl::StrCat("replay.wal_dir ", options.dir, ": ", error.message()));
  }
  std::map<int64_t, std::string> logs, snapshots;
  for (const fs::directory_entry& entry : fs::directory_iterator(options.dir, error)) {
    const std::string name = entry.path().filename().string();
    if (int64_t g = GenerationOf(name, "wal-", ".log"); g >= 0) logs[g] = entry.path().string();
    if (int64_t g = GenerationOf(name, "snapshot-", ".snap"); g >= 0) {
      snapshots[g] = entry.path().string();
    }
    if (GenerationOf(name, "snapshot-", ".snap.tmp") >= 0) fs::remove(entry.path(), error);
  }

  *recovery = WalRecovery();
  std::unique_ptr<WriteAheadLog> wal(new WriteAheadLog(options));
  std::optional<TransitionSpec> known = expected_spec;
  int64_t snapshot_generation = -1;
  for (auto it = snapshots.rbegin(); it != snapshots.rend(); ++it) {
    TransitionSpec spec;
    auto batches = ReadSnapshot(it->second, known, &spec);
    if (absl::IsFailedPrecondition(batches.status())) return batches.status();
    if (!batches.ok()) {
      LOG(WARNING) << "ignoring " << batches.status().message();
      continue;
    }
    for (const TransitionBatch& batch : *batches) {
      RETURN_IF_ERROR(apply(batch));
      recovery->transitions += NumSteps(batch);
    }
    recovery->spec = spec;
    known = spec;
    snapshot_generation = it->first;
    break;
  }

  int64_t last_log = snapshot_generation;
  for (auto& [generation, path] : logs) {
    if (generation <= snapshot_generation) continue;
    last_log = generation;
    ASSIGN_OR_RETURN(auto reader, RecordReader::Open(path));
    RecordType type;
    std::string payload;
    bool has_spec = false;
    while (true) {
      absl::Status status = reader->Next(&type, &payload);
      if (absl::IsOutOfRange(status)) break;
      if (!status.ok()) {
        LOG(WARNING) << "dropping torn write-ahead-log tail: " << status.message();
        ++recovery->dropped_records;
        if (truncate(path.c_str(), reader->valid_bytes()) != 0) {
          return absl::InternalError(absl::StrCat("cannot truncate ", path));
        }
        break;
      }
      if (type == RecordType::kSpec) {
        TransitionSpec spec;
        RETURN_IF_ERROR(CheckSpec(path, payload, known, &spec));
        recovery->spec = spec;
        known = spec;
        has_spec = true;
      } else if (type == RecordType::kBatch && has_spec) {
        TransitionBatch batch;
        if (!batch.ParseFromString(payload)) {
          return absl::DataLossError(absl::StrCat(path, ": checksummed batch does not parse"));
        }
        RETURN_IF_ERROR(apply(batch));
        recovery->transitions += NumSteps(batch);
      } else {
        return absl::DataLossError(absl::StrCat(path, ": unexpected record order"));
      }
    }
  }

  // Remove what the snapshot supersedes.
  for (auto& [generation, path] : logs) {
    if (generation <= snapshot_generation) fs::remove(path, error);
  }
  for (auto& [generation, path] : snapshots) {
    if (generation < snapshot_generation) fs::remove(path, error);
  }

  wal->spec_ = recovery->spec;
  {
    absl::MutexLock lock(&wal->mu_);
    if (last_log > snapshot_generation) {
      // Continue the newest log; if it lost its spec record to a crash, start it over.
      ASSIGN_OR_RETURN(wal->log_, RecordWriter::Open(LogPath(options.dir, last_log), false));
      wal->generation_ = last_log;
      if (wal->log_->size() == 0 && wal->spec_.has_value()) {
        RETURN_IF_ERROR(wal->log_->Append(RecordType::kSpec, wal->spec_->SerializeAsString()));
      }
    } else {
      RETURN_IF_ERROR(wal->StartLogFile(snapshot_generation + 1));
    }
  }
  if (options.fsync_policy == ReplayConfig::FSYNC_INTERVAL) {
    wal->syncer_ = std::thread([w = wal.get()] { w->SyncLoop(); });
  }
  return wal;
}

absl::Status WriteAheadLog::StartLogFile(int64_t generation) {
  ASSIGN_OR_RETURN(log_, RecordWriter::Open(LogPath(options_.dir, generation), true));
  generation_ = generation;
  if (spec_.has_value()) {
    RETURN_IF_ERROR(log_->Append(RecordType::kSpec, spec_->SerializeAsString()));
  }
  RETURN_IF_ERROR(log_->Sync());
  return SyncDirectory(options_.dir);
}

WriteAheadLog::~WriteAheadLog() { Close().IgnoreError(); }

absl::Status WriteAheadLog::SetSpec(const TransitionSpec& spec) {
  absl::MutexLock lock(&mu_);
  if (spec_.has_value()) return absl::FailedPreconditionError("write-ahead log already has a spec");
  spec_ = spec;
  RETURN_IF_ERROR(log_->Append(RecordType::kSpec, spec.SerializeAsString()));
  return SyncLocked();
}

absl::Status WriteAheadLog::SyncLocked() {
  const absl::Time start = absl::Now();
  RETURN_IF_ERROR(log_->Sync());
  dirty_ = false;
  if (options_.fsync_seconds != nullptr) {
    options_.fsync_seconds->Observe(absl::ToDoubleSeconds(absl::Now() - start));
  }
  return absl::OkStatus();
}

absl::Status WriteAheadLog::Append(const TransitionBatch& batch) {
  const std::string payload = batch.SerializeAsString();
  absl::MutexLock lock(&mu_);
  if (closed_) return absl::FailedPreconditionError("write-ahead log is closed");
  if (!spec_.has_value()) return absl::FailedPreconditionError("write-ahead log has no spec");
  RETURN_IF_ERROR(log_->Append(RecordType::kBatch, payload));
  if (options_.bytes_written != nullptr) {
    options_.bytes_written->Increment(static_cast<double>(payload.size() + kRecordHeaderBytes));
  }
  dirty_ = true;
  if (options_.fsync_policy == ReplayConfig::FSYNC_EVERY_BATCH) return SyncLocked();
  return absl::OkStatus();
}

bool WriteAheadLog::ShouldSnapshot(int64_t table_bytes) const {
  absl::MutexLock lock(&mu_);
  return log_ != nullptr && log_->size() >= std::max(options_.snapshot_every_bytes, table_bytes);
}

absl::Status WriteAheadLog::Snapshot(Table& table) {
  absl::MutexLock lock(&mu_);
  if (!spec_.has_value()) return absl::FailedPreconditionError("write-ahead log has no spec");
  const int64_t covered = generation_;
  RETURN_IF_ERROR(SyncLocked());
  RETURN_IF_ERROR(StartLogFile(covered + 1));

  const std::string final_path = SnapshotPath(options_.dir, covered);
  const std::string tmp_path = final_path + ".tmp";
  {
    ASSIGN_OR_RETURN(auto writer, RecordWriter::Open(tmp_path, true));
    RETURN_IF_ERROR(writer->Append(RecordType::kSpec, spec_->SerializeAsString()));
    int64_t transitions = 0;
    RETURN_IF_ERROR(table.ForEachChunk(4096, [&](const TransitionBatch& chunk) {
      transitions += NumSteps(chunk);
      return writer->Append(RecordType::kBatch, chunk.SerializeAsString());
    }));
    RETURN_IF_ERROR(writer->Append(RecordType::kEnd, absl::StrCat(transitions)));
    RETURN_IF_ERROR(writer->Sync());
  }
  if (std::rename(tmp_path.c_str(), final_path.c_str()) != 0) {
    return absl::InternalError(absl::StrCat("cannot rename ", tmp_path));
  }
  RETURN_IF_ERROR(SyncDirectory(options_.dir));
  std::error_code error;
  for (const fs::directory_entry& entry : fs::directory_iterator(options_.dir, error)) {
    const std::string name = entry.path().filename().string();
    const int64_t log_generation = GenerationOf(name, "wal-", ".log");
    const int64_t snapshot_generation = GenerationOf(name, "snapshot-", ".snap");
    if ((log_generation >= 0 && log_generation <= covered) ||
        (snapshot_generation >= 0 && snapshot_generation < covered)) {
      fs::remove(entry.path(), error);
    }
  }
  LOG(INFO) << "replay snapshot " << final_path << " written";
  return absl::OkStatus();
}

void WriteAheadLog::SyncLoop() {
  while (!stop_.WaitForNotificationWithTimeout(options_.fsync_interval)) {
    absl::MutexLock lock(&mu_);
    if (dirty_ && !closed_) {
      absl::Status status = SyncLocked();
      if (!status.ok()) LOG(ERROR) << "write-ahead log sync failed: " << status.message();
    }
  }
}

absl::Status WriteAheadLog::Close() {
  if (!stop_.HasBeenNotified()) stop_.Notify();
  if (syncer_.joinable()) syncer_.join();
  absl::MutexLock lock(&mu_);
  if (closed_) return absl::OkStatus();
  closed_ = true;
  if (log_ != nullptr && dirty_) return SyncLocked();
  return absl::OkStatus();
}

}  // namespace tandem::replay
