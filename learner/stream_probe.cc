#include "learner/stream_probe.h"

#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>
#include <ATen/Parallel.h>

#include "absl/time/clock.h"
#include "common/status_macros.h"

namespace tandem::learner {
namespace {

// Random transitions of `spec`'s shapes (actions inside [-1, 1], or uniform indices).
TrainingBatch RandomBatch(const TransitionSpec& spec, int64_t b, at::Generator& generator) {
  const int64_t n = spec.num_agents(), o = spec.obs_size(), s = spec.state_size();
  TrainingBatch batch;
  batch.obs = at::randn({b, n, o}, generator);
  batch.state = at::randn({b, s}, generator);
  batch.actions = spec.action_type() == ACTION_TYPE_DISCRETE
                      ? at::randint(spec.action_size(), {b, n}, generator, at::kLong)
                      : at::rand({b, n, spec.action_size()}, generator) * 2 - 1;
  batch.reward = at::randn({b}, generator);
  batch.terminated = (at::rand({b}, generator) < 0.01).to(at::kFloat);
  batch.truncated = at::zeros({b});
  batch.next_obs = at::randn({b, n, o}, generator);
  batch.next_state = at::randn({b, s}, generator);
  return batch;
}

// Updates per second of a fresh copy of the algorithm with `streams` streams.
absl::StatusOr<double> Rate(AlgorithmContext context, int streams, int batch_size,
                            absl::Duration budget, bool* has_streams) {
  context.update_streams = streams;
  context.reduce_gradients = nullptr;
  ASSIGN_OR_RETURN(std::unique_ptr<Algorithm> algorithm, CreateAlgorithm(context));
  if (has_streams != nullptr) *has_streams = algorithm->update_streams() > 1;
  if (streams > 1 && algorithm->update_streams() < 2) return 0.0;
  at::Generator generator = at::detail::createCPUGenerator(7);
  const TrainingBatch batch = RandomBatch(context.spec, batch_size, generator);
  for (int i = 0; i < 2; ++i) RETURN_IF_ERROR(algorithm->Update(batch).status());  // warm-up
  int64_t updates = 0;
  const absl::Time start = absl::Now();
  while (updates < 3 || absl::Now() - start < budget) {
    RETURN_IF_ERROR(algorithm->Update(batch).status());
    ++updates;
  }
  return updates / absl::ToDoubleSeconds(absl::Now() - start);
}

}  // namespace

absl::StatusOr<StreamProbeResult> ProbeUpdateStreams(const AlgorithmContext& context,
                                                     int batch_size, int threads,
                                                     absl::Duration budget) {
  const int saved_threads = at::get_num_threads();
  StreamProbeResult result;
  bool has_streams = false;
  at::set_num_threads(1);
  absl::StatusOr<double> two = Rate(context, 2, batch_size, budget, &has_streams);
  absl::StatusOr<double> one = 0.0;
  if (two.ok() && has_streams) {
    at::set_num_threads(threads);
    one = Rate(context, 1, batch_size, budget, nullptr);
  }
  at::set_num_threads(saved_threads);
  RETURN_IF_ERROR(two.status());
  RETURN_IF_ERROR(one.status());
  result.two_streams_rate = *two;
  result.one_stream_rate = *one;
  result.streams = has_streams && *two >= *one ? 2 : 1;
  return result;
}

}  // namespace tandem::learner
