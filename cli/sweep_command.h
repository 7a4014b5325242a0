// `tandem sweep CONFIG...`: seeds x configs through `tandem run`; `tandem results DIR...`: the
// aggregate table and plot over finished runs.
#ifndef TANDEM_CLI_SWEEP_COMMAND_H_
#define TANDEM_CLI_SWEEP_COMMAND_H_

#include "common/cli.h"

namespace tandem {

cli::Command SweepCommand();
cli::Command ResultsCommand();

}  // namespace tandem

#endif  // TANDEM_CLI_SWEEP_COMMAND_H_
