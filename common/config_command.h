// `tandem config`: check, print and list defaults of experiment configurations.
#ifndef TANDEM_COMMON_CONFIG_COMMAND_H_
#define TANDEM_COMMON_CONFIG_COMMAND_H_

#include "common/cli.h"

namespace tandem {

// The `config` command group (check, print, defaults).
cli::Command ConfigCommand();

}  // namespace tandem

#endif  // TANDEM_COMMON_CONFIG_COMMAND_H_
