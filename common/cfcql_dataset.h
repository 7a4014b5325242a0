// CFCQL's SMAC offline datasets (thu-rllab/CFCQL, `<map>_<quality>.h5`), read as episode rows.
//
// Layout (pymarl's episode batch, dumped by CFCQL's collector): one key per field, first axis the
// episode, second the time entry, padded to L = episode limit + 1:
//   state [E, L, S] float, obs [E, L, n, O] float, actions [E, L, n, 1] int,
//   avail_actions [E, L, n, K] int, reward [E, L, 1] float, terminated [E, L, 1] int,
//   filled [E, L, 1] int (a trailing dimension of 1 may be absent; `probs` and other keys are
//   ignored). An episode of T steps has filled = 1 for entries 0..T (entry T holds the final
//   observation, state and mask); actions, rewards and terminal flags belong to entries 0..T-1.
// The rows become Tandem's episode layout (proto/transition.proto): actions int32 [E, L, n] with
// the dummy action pymarl stores at entry T and everything after T set to 0, masks and flags as
// uint8, padding zero. Episodes are whole: `filled` must be 1s then 0s with at least 2 entries.
// Values are checked as they are read (finite floats, 0/1 flags and masks, actions in range).
#ifndef TANDEM_COMMON_CFCQL_DATASET_H_
#define TANDEM_COMMON_CFCQL_DATASET_H_

#include <memory>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "common/dataset.h"

namespace tandem {

// Whether `path` is an HDF5 file with CFCQL's keys and without Tandem's `format` attribute.
bool LooksLikeCfcqlDataset(const std::string& path);

// Opens a CFCQL file as an offline data source of episode rows; `env_name` goes into the spec.
// Keys, dtypes, shapes and the filled masks are checked up front; each error names the file, the
// key (and the episode) and the problem.
absl::StatusOr<std::unique_ptr<OfflineDataSource>> OpenCfcqlDataset(const std::string& path,
                                                                    const std::string& env_name);

// "2s3z_medium_replay.h5" -> env "smac/2s3z", quality "medium-replay"; qualities are CFCQL's
// medium, medium_replay, expert and mixed. nullopt for other names.
struct CfcqlFileName {
  std::string env_name;
  std::string quality;
};
std::optional<CfcqlFileName> ParseCfcqlFileName(const std::string& path);

}  // namespace tandem

#endif  // TANDEM_COMMON_CFCQL_DATASET_H_
