// `tandem bench learner`: OMIGA updates/s at batch 128 on synthetic in-memory data (no gRPC) for
// HalfCheetah-6x1 (6 agents, obs 23, act 1) and Ant-2x4 (2 agents, obs 113, act 4), on the CPU and,
// when LibTorch has CUDA and a GPU is visible, on the GPU. Each update samples a fresh batch from
// an in-memory table and trains one step, like the reference loop.
#ifndef TANDEM_LEARNER_LEARNER_BENCH_H_
#define TANDEM_LEARNER_LEARNER_BENCH_H_

#include "absl/time/time.h"
#include "common/cli.h"

namespace tandem::learner {

cli::Command LearnerBenchCommand();

// The machine's matrix-multiply rate right now (768x256 @ 256x256 products on the current intra-op
// threads), in GFLOP/s: the reference printed beside learner figures.
double MatmulGflops(absl::Duration duration);

}  // namespace tandem::learner

#endif  // TANDEM_LEARNER_LEARNER_BENCH_H_
