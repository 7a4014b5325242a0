// Chooses how a CPU update uses the cores: two concurrent streams with one intra-op thread each,
// or one stream with several intra-op threads. Which is faster depends on the machine (on one
// 2-vCPU VM two streams gave 104-113 HalfCheetah-6x1 updates/s against 76-102 for intra-op
// threads; on another, 50.6 against 21.7; on a third the gap was 14%), so the learner decides at
// startup from a short measurement of the real update on batches of the real shapes.
#ifndef TANDEM_LEARNER_STREAM_PROBE_H_
#define TANDEM_LEARNER_STREAM_PROBE_H_

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "learner/algorithm.h"

namespace tandem::learner {

struct StreamProbeResult {
  // The faster choice: 2 (two streams) or 1 (one stream, `threads` intra-op threads).
  int streams = 1;
  // Measured updates per second of each; 0 when that mode was not measured.
  double two_streams_rate = 0;
  double one_stream_rate = 0;
};

// Times throwaway copies of `context`'s algorithm (so the real one's parameters and random state
// are untouched) on random batches of `batch_size` transitions of `context.spec`, about `budget`
// per mode, and restores the process's intra-op thread count. An algorithm without a two-stream
// update gets streams = 1 without a measurement.
absl::StatusOr<StreamProbeResult> ProbeUpdateStreams(const AlgorithmContext& context,
                                                     int batch_size, int threads,
                                                     absl::Duration budget);

}  // namespace tandem::learner

#endif  // TANDEM_LEARNER_STREAM_PROBE_H_
