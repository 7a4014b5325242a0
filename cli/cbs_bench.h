// `tandem bench cbs`: action-selection time per decision step (all 16 envs of an actor) for the
// online, pex, cbs (K = 5) and exhaustive selectors, and how it scales with the number of agents.
#ifndef TANDEM_CLI_CBS_BENCH_H_
#define TANDEM_CLI_CBS_BENCH_H_

#include "common/cli.h"

namespace tandem {

cli::Command CbsBenchCommand();

}  // namespace tandem

#endif  // TANDEM_CLI_CBS_BENCH_H_
