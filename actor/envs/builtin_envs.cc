// The environment families built into Tandem. A new family adds one line here.
#include <mutex>

#include "actor/envs/mamujoco/mamujoco_env.h"

namespace tandem::envs {

void EnsureBuiltinEnvsRegistered() {
  static std::once_flag once;
  std::call_once(once, [] { RegisterMaMujocoEnvs(); });
}

}  // namespace tandem::envs
