// Owning MuJoCo: one compiled mjModel per robot per process, shared read-only by every env; one
// mjData per env. MuJoCo's warnings go to the log and are counted, so tests can fail on them.
#ifndef TANDEM_ENVS_MAMUJOCO_MUJOCO_MODEL_H_
#define TANDEM_ENVS_MAMUJOCO_MUJOCO_MODEL_H_

#include <mujoco/mujoco.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "absl/status/statusor.h"

namespace tandem::envs {

struct MjModelDeleter {
  void operator()(mjModel* model) const { mj_deleteModel(model); }
};
struct MjDataDeleter {
  void operator()(mjData* data) const { mj_deleteData(data); }
};
using MjModelPtr = std::shared_ptr<const mjModel>;
using MjDataPtr = std::unique_ptr<mjData, MjDataDeleter>;

// Compiles the MJCF text `xml` (named `name` in errors) and applies `edit` (may be empty) to the
// result. Models are cached by `name` (which must therefore identify xml and edit) and shared.
// Thread-safe.
absl::StatusOr<MjModelPtr> LoadSharedModel(const std::string& name, const std::string& xml,
                                           const std::function<void(mjModel*)>& edit = nullptr);

// A fresh mjData for `model`.
MjDataPtr MakeData(const mjModel* model);

// Number of MuJoCo warnings reported in this process so far (each is also logged).
int64_t MujocoWarningCount();

}  // namespace tandem::envs

#endif  // TANDEM_ENVS_MAMUJOCO_MUJOCO_MODEL_H_
