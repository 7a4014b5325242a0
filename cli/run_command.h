// `tandem run --config FILE`: the whole experiment on one machine (see cli/run_command.cc).
#ifndef TANDEM_CLI_RUN_COMMAND_H_
#define TANDEM_CLI_RUN_COMMAND_H_

#include "common/cli.h"

namespace tandem {

cli::Command RunCommand();

}  // namespace tandem

#endif  // TANDEM_CLI_RUN_COMMAND_H_
