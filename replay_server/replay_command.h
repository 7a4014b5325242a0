// `tandem replay`: runs the replay server from a configuration until SIGINT/SIGTERM.
#ifndef TANDEM_REPLAY_SERVER_REPLAY_COMMAND_H_
#define TANDEM_REPLAY_SERVER_REPLAY_COMMAND_H_

#include "common/cli.h"

namespace tandem::replay {

cli::Command ReplayCommand();

}  // namespace tandem::replay

#endif  // TANDEM_REPLAY_SERVER_REPLAY_COMMAND_H_
