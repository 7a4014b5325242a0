// `tandem actor`: the actor process role.
#ifndef TANDEM_ACTOR_ACTOR_COMMAND_H_
#define TANDEM_ACTOR_ACTOR_COMMAND_H_

#include "common/cli.h"

namespace tandem::actor {

cli::Command ActorCommand();

}  // namespace tandem::actor

#endif  // TANDEM_ACTOR_ACTOR_COMMAND_H_
