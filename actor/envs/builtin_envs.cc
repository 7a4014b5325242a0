// The environment families built into Tandem. A new family adds one line here.
#include <mutex>

#include "actor/envs/mamujoco/mamujoco_env.h"
#include "actor/envs/smac/smac_env.h"

namespace tandem::envs {

void EnsureBuiltinEnvsRegistered() {
  static std::once_flag once;
  std::call_once(once, [] {
    RegisterMaMujocoEnvs();
    RegisterSmacEnvs();
  });
}

}  // namespace tandem::envs
