// Offline checkpoints shared between runs whose offline phases are the same. A comparison's
// methods often differ only online (OVMSE's ablations, Switch-CQL and OVMSE all pretrain the same
// CFCQL; Sim2O's baselines all pretrain OMIGA), so `tandem sweep` pretrains each (seed, offline
// phase) once and every other run starts from that checkpoint (`run.pretrain_cache_dir`).
//
// The key is the resolved config without what only the online phase, the actors, the evaluation
// or the bookkeeping read, plus the dataset file's and the binary's size and modification time.
// A field not known to be irrelevant offline stays in the key: an unknown difference never shares.
#ifndef TANDEM_CLI_PRETRAIN_CACHE_H_
#define TANDEM_CLI_PRETRAIN_CACHE_H_

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "proto/config.pb.h"

namespace tandem {

// The text that identifies `config`'s offline phase, for the binary at `executable`.
absl::StatusOr<std::string> OfflinePhaseKey(const ExperimentConfig& config,
                                            const std::string& executable);

// The cache entry's path without extension: <dir>/<16 hex digits of the key's FNV-1a hash>.
// The entry is <entry>.key (the whole key, compared before reuse), <entry>.pt and, while some run
// trains it, <entry>.lock (that run's pid).
std::string PretrainCacheEntry(const std::string& dir, const std::string& key);

// Copies the cached checkpoint of `key` to `destination` when the cache has it: true if it did.
absl::StatusOr<bool> FetchPretrained(const std::string& dir, const std::string& key,
                                     const std::string& destination);

// Stores `checkpoint` as the cached checkpoint of `key` (the key first, then the checkpoint by
// rename, so a reader never sees a partial one).
absl::Status StorePretrained(const std::string& dir, const std::string& key,
                             const std::string& checkpoint);

// Claims the right to train `key`'s checkpoint: true when this process created the lock; false
// while another live process holds it (a lock left by a dead process is removed and claimed).
absl::StatusOr<bool> ClaimPretraining(const std::string& dir, const std::string& key);
// Gives the claim back (removes the lock).
void ReleasePretraining(const std::string& dir, const std::string& key);

}  // namespace tandem

#endif  // TANDEM_CLI_PRETRAIN_CACHE_H_
