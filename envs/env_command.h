// `tandem env list | info ENV | bench ENV | play ENV`.
#ifndef TANDEM_ENVS_ENV_COMMAND_H_
#define TANDEM_ENVS_ENV_COMMAND_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/cli.h"

namespace tandem::envs {

cli::Command EnvCommand();

// Raw physics steps/s of MuJoCo env `name` (mj_step x frame skip, no observations or rewards),
// measured for `duration` on uniform random actions; fails for non-MuJoCo envs.
absl::StatusOr<double> RawPhysicsStepsPerSecond(const std::string& name, absl::Duration duration);

}  // namespace tandem::envs

#endif  // TANDEM_ENVS_ENV_COMMAND_H_
