// Streams an actor's transitions to the replay server on a background thread. Batches wait in a
// bounded local buffer (in transitions). While the replay server is reachable, Enqueue waits once
// max_in_flight + 2 batches are queued (back-pressure: the replay's rate limiter throttles the
// actor, and no deep queue of stale transitions builds up). When it is
// unreachable the sender reconnects with exponential back-off and resends every batch not yet
// acknowledged, and batches that do not fit the buffer are dropped and counted, never silently.
#ifndef TANDEM_ACTOR_TRANSITION_SENDER_H_
#define TANDEM_ACTOR_TRANSITION_SENDER_H_

#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "common/metrics.h"
#include "common/replay_client.h"

namespace tandem::actor {

struct TransitionSenderOptions {
  int64_t max_buffered_transitions = 100000;
  absl::Duration initial_backoff = absl::Milliseconds(100);
  absl::Duration max_backoff = absl::Seconds(10);
  // Batches in flight before waiting for acknowledgements.
  int max_in_flight = 8;
  MetricsRegistry* metrics = nullptr;
  // The writable table the batches go to ("" = "online").
  std::string table;
};

class TransitionSender {
 public:
  TransitionSender(std::shared_ptr<replay::ReplayClient> client,
                   const TransitionSenderOptions& options);
  // Flushes what it can for up to `Close`'s grace period, then stops.
  ~TransitionSender();

  // Queues a batch. With the buffer full it waits while the replay server is reachable, and drops
  // the batch (returning false, counted) while it is not, or once `stop()` returns true.
  bool Enqueue(TransitionBatch batch, const std::function<bool()>& stop = nullptr)
      ABSL_LOCKS_EXCLUDED(mu_);
  // Waits up to `grace` for the buffer to drain, then stops the thread (cancelling a stream whose
  // batches are still unacknowledged).
  void Close(absl::Duration grace = absl::Seconds(5)) ABSL_LOCKS_EXCLUDED(mu_);

  int64_t acknowledged_transitions() const ABSL_LOCKS_EXCLUDED(mu_);
  int64_t dropped_transitions() const ABSL_LOCKS_EXCLUDED(mu_);
  int64_t buffered_transitions() const ABSL_LOCKS_EXCLUDED(mu_);
  int64_t reconnects() const ABSL_LOCKS_EXCLUDED(mu_);

 private:
  void Run();

  std::shared_ptr<replay::ReplayClient> client_;
  const TransitionSenderOptions options_;
  mutable absl::Mutex mu_;
  std::deque<TransitionBatch> pending_ ABSL_GUARDED_BY(mu_);
  int64_t buffered_ ABSL_GUARDED_BY(mu_) = 0;
  int64_t acknowledged_ ABSL_GUARDED_BY(mu_) = 0;
  int64_t dropped_ ABSL_GUARDED_BY(mu_) = 0;
  int64_t reconnects_ ABSL_GUARDED_BY(mu_) = 0;
  bool closing_ ABSL_GUARDED_BY(mu_) = false;
  // The current stream is healthy (optimistic until a write fails).
  bool connected_ ABSL_GUARDED_BY(mu_) = true;
  replay::ReplayWriter* active_writer_ ABSL_GUARDED_BY(mu_) = nullptr;
  Counter* sent_metric_ = nullptr;
  Counter* dropped_metric_ = nullptr;
  Gauge* buffered_metric_ = nullptr;
  std::thread thread_;
};

}  // namespace tandem::actor

#endif  // TANDEM_ACTOR_TRANSITION_SENDER_H_
