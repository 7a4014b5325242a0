// `tandem bench replay`: insert and sample throughput of the replay server through real gRPC on
// loopback, next to the raw gRPC streaming throughput of the same messages with no replay logic,
// and the cost of each write-ahead-log fsync policy. Prints ratios measured in one run.
#ifndef TANDEM_REPLAY_SERVER_REPLAY_BENCH_H_
#define TANDEM_REPLAY_SERVER_REPLAY_BENCH_H_

#include "common/cli.h"

namespace tandem::replay {

cli::Command ReplayBenchCommand();

}  // namespace tandem::replay

#endif  // TANDEM_REPLAY_SERVER_REPLAY_BENCH_H_
