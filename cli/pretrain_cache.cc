#include "cli/pretrain_cache.h"

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <system_error>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/strip.h"
#include "common/config.h"
#include "common/files.h"
#include "common/status_macros.h"

namespace tandem {
namespace fs = std::filesystem;

namespace {

// "<absolute path> <size> <modification time, ns>" of a file.
absl::StatusOr<std::string> FileStamp(const std::string& path) {
  std::error_code error;
  const fs::path absolute = fs::absolute(path, error);
  const uintmax_t size = fs::file_size(absolute, error);
  if (error) {
    return absl::NotFoundError(absl::StrCat(path, ": ", error.message()));
  }
  const auto modified = fs::last_write_time(absolute, error);
  if (error) return absl::NotFoundError(absl::StrCat(path, ": ", error.message()));
  const int64_t nanos =
      std::chrono::duration_cast<std::chrono::nanoseconds>(modified.time_since_epoch()).count();
  return absl::StrCat(absolute.string(), " ", size, " ", nanos);
}

}  // namespace

absl::StatusOr<std::string> OfflinePhaseKey(const ExperimentConfig& config,
                                            const std::string& executable) {
  ExperimentConfig offline = config;
  // Bookkeeping, acting, evaluation and serving: none of it reaches the offline updates.
  for (int field : {ExperimentConfig::kNameFieldNumber, ExperimentConfig::kRunRootFieldNumber,
                    ExperimentConfig::kBaseFieldNumber, ExperimentConfig::kSelectorFieldNumber,
                    ExperimentConfig::kActorsFieldNumber, ExperimentConfig::kEvaluationFieldNumber,
                    ExperimentConfig::kMetricsFieldNumber, ExperimentConfig::kSecurityFieldNumber,
                    ExperimentConfig::kRunFieldNumber, ExperimentConfig::kCollectionFieldNumber}) {
    offline.GetReflection()->ClearField(&offline,
                                        offline.GetDescriptor()->FindFieldByNumber(field));
  }
  // The online phase's own settings (pretraining samples the offline table alone, rho = 1).
  LearnerConfig* learner = offline.mutable_learner();
  learner->clear_online_env_steps();
  learner->clear_publish_every_updates();
  learner->clear_checkpoint_every_updates();
  learner->clear_checkpoint_every_seconds();
  learner->clear_checkpoint_dir();
  learner->clear_offline_checkpoint();
  learner->clear_parameter_address();
  learner->clear_keep_checkpoint_history();
  learner->clear_probe_every_updates();
  learner->clear_deployments();
  offline.mutable_replay()->clear_offline_ratio();
  offline.mutable_replay()->clear_wal_dir();
  offline.mutable_algorithm()->clear_ovm();
  if (offline.algorithm().has_qmix() && offline.algorithm().qmix().has_cql()) {
    offline.mutable_algorithm()->mutable_qmix()->mutable_cql()->clear_online();
  }
  std::string key = ToTextProto(offline);
  if (!config.dataset().path().empty()) {
    ASSIGN_OR_RETURN(const std::string dataset, FileStamp(config.dataset().path()));
    absl::StrAppend(&key, "# dataset file: ", dataset, "\n");
  }
  ASSIGN_OR_RETURN(const std::string binary, FileStamp(executable));
  absl::StrAppend(&key, "# binary: ", binary, "\n");
  return key;
}

std::string PretrainCacheEntry(const std::string& dir, const std::string& key) {
  uint64_t hash = 14695981039346656037ULL;  // FNV-1a, 64 bits
  for (const unsigned char c : key) {
    hash ^= c;
    hash *= 1099511628211ULL;
  }
  return absl::StrFormat("%s/%016x", dir, hash);
}

absl::StatusOr<bool> FetchPretrained(const std::string& dir, const std::string& key,
                                     const std::string& destination) {
  const std::string entry = PretrainCacheEntry(dir, key);
  if (!fs::exists(entry + ".pt")) return false;
  absl::StatusOr<std::string> stored = ReadFile(entry + ".key");
  if (!stored.ok() || *stored != key) return false;  // another phase with the same hash
  std::error_code error;
  fs::create_directories(fs::path(destination).parent_path(), error);
  const std::string partial = destination + ".partial";
  fs::copy_file(entry + ".pt", partial, fs::copy_options::overwrite_existing, error);
  if (!error) fs::rename(partial, destination, error);
  if (error) {
    return absl::InternalError(
        absl::StrCat("copying ", entry, ".pt to ", destination, ": ", error.message()));
  }
  return true;
}

absl::Status StorePretrained(const std::string& dir, const std::string& key,
                             const std::string& checkpoint) {
  std::error_code error;
  fs::create_directories(dir, error);
  if (error) return absl::InternalError(absl::StrCat(dir, ": ", error.message()));
  const std::string entry = PretrainCacheEntry(dir, key);
  RETURN_IF_ERROR(WriteFileAtomically(entry + ".key", key));
  const std::string partial = entry + ".pt.partial";
  fs::copy_file(checkpoint, partial, fs::copy_options::overwrite_existing, error);
  if (!error) fs::rename(partial, entry + ".pt", error);
  if (error) {
    return absl::InternalError(
        absl::StrCat("storing ", checkpoint, " as ", entry, ".pt: ", error.message()));
  }
  return absl::OkStatus();
}

absl::StatusOr<bool> ClaimPretraining(const std::string& dir, const std::string& key) {
  std::error_code error;
  fs::create_directories(dir, error);
  if (error) return absl::InternalError(absl::StrCat(dir, ": ", error.message()));
  const std::string lock = PretrainCacheEntry(dir, key) + ".lock";
  for (int attempt = 0; attempt < 2; ++attempt) {
    const int fd = open(lock.c_str(), O_CREAT | O_EXCL | O_WRONLY, 0644);
    if (fd >= 0) {
      const std::string pid = absl::StrCat(getpid(), "\n");
      const bool written = write(fd, pid.data(), pid.size()) == static_cast<ssize_t>(pid.size());
      close(fd);
      if (!written) return absl::InternalError(absl::StrCat(lock, ": cannot write the pid"));
      return true;
    }
    if (errno != EEXIST) {
      return absl::InternalError(absl::StrCat(lock, ": ", std::strerror(errno)));
    }
    // Held: by a live process, or left behind by one that died. A lock without a pid yet is one
    // being written this moment.
    absl::StatusOr<std::string> holder = ReadFile(lock);
    if (holder.ok() && absl::StripAsciiWhitespace(*holder).empty()) return false;
    int pid = 0;
    if (holder.ok() && absl::SimpleAtoi(absl::StripAsciiWhitespace(*holder), &pid) && pid > 0 &&
        (kill(pid, 0) == 0 || errno == EPERM)) {
      return false;
    }
    fs::remove(lock, error);
  }
  return false;
}

void ReleasePretraining(const std::string& dir, const std::string& key) {
  std::error_code error;
  fs::remove(PretrainCacheEntry(dir, key) + ".lock", error);
}

}  // namespace tandem
