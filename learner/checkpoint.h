// Checkpoints: every module (online, target and frozen copies), every optimizer's state and the
// counters of an algorithm, in one LibTorch archive written atomically (temp file + rename).
// Loading refuses a file of another algorithm or transition shape, and a corrupt or truncated
// file, with an error naming the file and the problem; the algorithm is left unchanged then.
#ifndef TANDEM_LEARNER_CHECKPOINT_H_
#define TANDEM_LEARNER_CHECKPOINT_H_

#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "learner/algorithm.h"

namespace tandem::learner {

struct CheckpointInfo {
  std::string algorithm;
  TransitionSpec spec;
  int64_t updates = 0;
  int64_t env_steps = 0;
  // Phase the checkpoint was written in: "offline" or "online".
  std::string phase;
};

// Writes `algorithm` to `path` (via path + ".tmp").
absl::Status SaveCheckpoint(const std::string& path, Algorithm& algorithm,
                            const CheckpointInfo& info);

// Reads the header of a checkpoint without touching any algorithm.
absl::StatusOr<CheckpointInfo> ReadCheckpointInfo(const std::string& path);

// Restores `algorithm` (built for the same spec) from `path`.
absl::StatusOr<CheckpointInfo> LoadCheckpoint(const std::string& path, Algorithm& algorithm);

}  // namespace tandem::learner

#endif  // TANDEM_LEARNER_CHECKPOINT_H_
