// `tandem bench qmix`: the QMIX learner's updates/s on synthetic episode batches of SMAC-like
// shapes (3s5z and 3m, batches of 32 and 128 episodes), beside pymarl2's published reference
// scaled by this machine's matmul rate, and one actor's env steps/s with GRU inference on 3s5z
// next to the raw env's steps/s, all measured in one run.
#ifndef TANDEM_CLI_QMIX_BENCH_H_
#define TANDEM_CLI_QMIX_BENCH_H_

#include "common/cli.h"

namespace tandem {

cli::Command QmixBenchCommand();

}  // namespace tandem

#endif  // TANDEM_CLI_QMIX_BENCH_H_
