// `tandem env list | info ENV | bench ENV`.
#ifndef TANDEM_ACTOR_ENVS_ENV_COMMAND_H_
#define TANDEM_ACTOR_ENVS_ENV_COMMAND_H_

#include "common/cli.h"

namespace tandem::envs {

cli::Command EnvCommand();

}  // namespace tandem::envs

#endif  // TANDEM_ACTOR_ENVS_ENV_COMMAND_H_
