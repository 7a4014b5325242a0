// `tandem bench cbs`: action-selection time per decision step (all 16 envs of an actor) for the
// online, pex, cbs (K = 5) and exhaustive selectors, and how it scales with the number of agents.
#ifndef TANDEM_CLI_CBS_BENCH_H_
#define TANDEM_CLI_CBS_BENCH_H_

#include "common/cli.h"

namespace tandem {

cli::Command CbsBenchCommand();

// `tandem bench actor`: env steps/s of one actor process with CBS (16 envs, streaming to a replay
// server over loopback gRPC) next to the raw physics steps/s of the same model.
cli::Command ActorBenchCommand();

}  // namespace tandem

#endif  // TANDEM_CLI_CBS_BENCH_H_
