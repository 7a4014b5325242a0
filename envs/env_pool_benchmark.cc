// Pool stepping of 16 environments, inline and across worker threads.
//   build/actor/env_pool_benchmark
#include <vector>

#include "benchmark/benchmark.h"
#include "common/rng.h"
#include "envs/env_pool.h"

namespace tandem::envs {
namespace {

void BM_PoolStep(benchmark::State& state, const char* name) {
  const int threads = static_cast<int>(state.range(0));
  auto pool = EnvPool::Create(name, 16, 1, threads);
  if (!pool.ok() || !(*pool)->ResetAll().ok()) {
    state.SkipWithError("cannot create the pool");
    return;
  }
  const EnvSpec& spec = (*pool)->spec();
  Rng rng(1);
  // A table of uniform random joint actions, cycled so every step gets fresh ones.
  const size_t per_step = 16 * spec.num_agents * spec.action_size;
  constexpr int kTable = 64;
  std::vector<float> actions(kTable * per_step);
  for (float& a : actions) a = static_cast<float>(2 * UniformUnit(rng) - 1);
  int64_t step = 0;
  for (auto _ : state) {
    absl::Span<const float> now(actions.data() + (step++ % kTable) * per_step, per_step);
    if (!(*pool)->Step(now).ok() || !(*pool)->ResetFinished().ok()) {
      state.SkipWithError("step failed");
      return;
    }
  }
  state.SetItemsProcessed(state.iterations() * 16);
  state.counters["env_steps_per_s"] =
      benchmark::Counter(static_cast<double>(state.iterations() * 16), benchmark::Counter::kIsRate);
}

BENCHMARK_CAPTURE(BM_PoolStep, HalfCheetah6x1, "mamujoco/HalfCheetah-6x1")
    ->Arg(1)
    ->Arg(2)
    ->UseRealTime();
BENCHMARK_CAPTURE(BM_PoolStep, Ant4x2, "mamujoco/Ant-4x2")->Arg(1)->Arg(2)->UseRealTime();

}  // namespace
}  // namespace tandem::envs
