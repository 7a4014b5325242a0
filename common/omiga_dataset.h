// OMIGA's MA-MuJoCo dataset files (`<Scenario>-v2-<conf>-<quality>.hdf5`), read directly.
//
// Layout (OMIGA's datasets/offline_dataset.py): s [N, n_agents, obs] (the global state, one
// standardized vector per agent), o [N, n_agents, obs], a [N, n_agents, act], r [N, 1] or [N],
// d [N, 1] or [N], float32 or float64. Transitions pair row t with row t+1 for every t < N-1 with
// d[t] == 0: obs = o[t], next_obs = o[t+1], state = s[t] (flattened to n_agents * obs),
// next_state = s[t+1], actions = a[t], reward = r[t], terminated = d[t+1] (OMIGA's mask is
// 1 - d[t+1]), truncated = 0. Rows with d == 1 are episode-final rows and start no transition.
// The env is MA-MuJoCo with obs_mode=omiga, the observation layout these files were recorded in.
#ifndef TANDEM_COMMON_OMIGA_DATASET_H_
#define TANDEM_COMMON_OMIGA_DATASET_H_

#include <memory>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "common/dataset.h"

namespace tandem {

// Whether `path` is an HDF5 file with OMIGA's keys and without Tandem's `format` attribute.
bool LooksLikeOmigaDataset(const std::string& path);

// Opens an OMIGA file as an offline data source: keys, dtypes, shapes and flags are checked up
// front (each error names the file, the key and the problem); values are checked as they are read.
absl::StatusOr<std::unique_ptr<OfflineDataSource>> OpenOmigaDataset(const std::string& path);

// "HalfCheetah-v2-6x1-medium-replay.hdf5" -> env "mamujoco/HalfCheetah-6x1", quality
// "medium-replay"; nullopt for other names.
struct OmigaFileName {
  std::string env_name;
  std::string quality;
};
std::optional<OmigaFileName> ParseOmigaFileName(const std::string& path);

}  // namespace tandem

#endif  // TANDEM_COMMON_OMIGA_DATASET_H_
