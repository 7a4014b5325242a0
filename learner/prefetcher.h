// Streams sampled batches from the replay server into a bounded queue of device tensors on a
// background thread, so the update loop does not wait on the network while the replay keeps up.
// Reports the fraction of the loop's time spent waiting for a batch. When the replay server becomes
// unreachable (it died and is being restarted) the stream is reopened with back-off for up to
// `reconnect_timeout`; the update loop meanwhile waits on the queue.
#ifndef TANDEM_LEARNER_PREFETCHER_H_
#define TANDEM_LEARNER_PREFETCHER_H_

#include <atomic>
#include <memory>
#include <optional>
#include <string>
#include <thread>

#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "common/bounded_queue.h"
#include "common/metrics.h"
#include "common/replay_client.h"
#include "learner/training_batch.h"

namespace tandem::learner {

struct PrefetcherOptions {
  int32_t batch_size = 128;
  // Batches buffered ahead of the loop.
  int32_t queue_size = 4;
  // rho for this learner's stream (unset: the server's configured value).
  std::optional<double> offline_ratio;
  // The two tables mixed at rho ("" = the server's "offline" and "online").
  std::string offline_table, online_table;
  c10::Device device = c10::Device(c10::kCPU);
  MetricsRegistry* metrics = nullptr;
  // How long an unreachable replay server is waited for before Next fails (0 = fail at once).
  absl::Duration reconnect_timeout = absl::ZeroDuration();
};

class Prefetcher {
 public:
  Prefetcher(replay::ReplayClient& client, const PrefetcherOptions& options);
  // Cancels the stream and joins the thread.
  ~Prefetcher();

  // The next batch (waiting if none is ready). Fails with the stream's error if it broke.
  absl::Status Next(TrainingBatch* batch);
  // Fraction of the time since the first Next() spent waiting inside Next().
  double wait_fraction() const;

 private:
  void Run();

  replay::ReplayClient& client_;
  const PrefetcherOptions options_;
  BoundedQueue<TrainingBatch> queue_;
  SampleRequest request_;
  std::thread thread_;
  absl::Mutex mu_;
  // The open stream (replaced on reconnect; cancelled by the destructor).
  std::shared_ptr<replay::ReplaySampler> sampler_ ABSL_GUARDED_BY(mu_);
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  absl::Status error_ ABSL_GUARDED_BY(mu_);
  Counter* reconnects_ = nullptr;
  std::atomic<int64_t> waited_nanos_{0};
  std::atomic<int64_t> first_call_nanos_{0};
  Counter* wait_seconds_ = nullptr;
};

}  // namespace tandem::learner

#endif  // TANDEM_LEARNER_PREFETCHER_H_
