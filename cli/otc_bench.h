// `tandem bench otc`: the cost of OTC's transition correction. Updates/s of decentralized BCQ on
// synthetic transitions of MA-MuJoCo and MPE shapes: plain (the training batch as sampled), and
// with OTC's correction by d_e and by d_q (|B| merged and |D| deployment rows per update, the
// training batch drawn from the |B| by rank), as ratios measured in one run beside the machine's
// matmul rate.
#ifndef TANDEM_CLI_OTC_BENCH_H_
#define TANDEM_CLI_OTC_BENCH_H_

#include "common/cli.h"

namespace tandem {

cli::Command OtcBenchCommand();

}  // namespace tandem

#endif  // TANDEM_CLI_OTC_BENCH_H_
