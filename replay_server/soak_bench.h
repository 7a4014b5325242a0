// `tandem bench soak`: a long load test of one replay server (see soak_bench.cc).
#ifndef TANDEM_REPLAY_SERVER_SOAK_BENCH_H_
#define TANDEM_REPLAY_SERVER_SOAK_BENCH_H_

#include "common/cli.h"

namespace tandem::replay {

cli::Command SoakBenchCommand();

}  // namespace tandem::replay

#endif  // TANDEM_REPLAY_SERVER_SOAK_BENCH_H_
