// Holds the update-to-data ratio between actors (inserts) and learners (samples), with Reverb's
// samples-per-insert semantics.
//
// State: `inserts` and `samples` (transitions), samples-per-insert `spi`, `min_size_to_sample`,
// and a window [min_diff, max_diff] for diff = inserts * spi - samples.
//   - Sampling waits until inserts >= min_size_to_sample.
//   - An insert of n waits while diff + n * spi > max_diff (the learner is behind).
//   - A sample of n waits while diff - n < min_diff (the actors are behind).
//   - spi = 0 disables the window: only min_size_to_sample applies and inserts never wait.
// Batches are larger than one item, so to rule out deadlock an operation whose full batch does not
// fit may still proceed while the other side is waiting and diff is strictly inside the window;
// diff then overshoots the window by at most one batch.
//
// Thread-safety: thread-safe. Close() wakes every waiter with CANCELLED.
#ifndef TANDEM_REPLAY_SERVER_RATE_LIMITER_H_
#define TANDEM_REPLAY_SERVER_RATE_LIMITER_H_

#include <cstdint>
#include <functional>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace tandem::replay {

struct RateLimiterOptions {
  double samples_per_insert = 0;
  int64_t min_size_to_sample = 1;
  double min_diff = 0;
  double max_diff = 0;
};

// Reverb's SampleToInsertRatio: the window is min_size * spi +- error_buffer.
RateLimiterOptions SampleToInsertRatio(double samples_per_insert, int64_t min_size_to_sample,
                                       double error_buffer);

class RateLimiter {
 public:
  // Statuses: OK; DEADLINE_EXCEEDED when `timeout` passed; CANCELLED when closed or when
  // `cancelled` (polled every few milliseconds while waiting) returns true.
  using CancelFn = std::function<bool()>;

  explicit RateLimiter(const RateLimiterOptions& options) : options_(options) {}

  // Waits until inserting `n` transitions keeps the window. The caller stores them and then calls
  // CommitInsert(n). `waited` (optional) receives the seconds spent waiting.
  absl::Status AwaitCanInsert(int64_t n, absl::Duration timeout, const CancelFn& cancelled,
                              double* waited) ABSL_LOCKS_EXCLUDED(mu_);
  // Records `n` stored transitions and wakes samplers.
  void CommitInsert(int64_t n) ABSL_LOCKS_EXCLUDED(mu_);

  // Waits until sampling `n` transitions keeps the window, then records them.
  absl::Status AwaitSample(int64_t n, absl::Duration timeout, const CancelFn& cancelled,
                           double* waited) ABSL_LOCKS_EXCLUDED(mu_);

  // Wakes every waiter with CANCELLED; later calls fail the same way.
  void Close() ABSL_LOCKS_EXCLUDED(mu_);

  // Sets the counts (restoring a table from disk): diff is centred in the window.
  void Restore(int64_t inserts) ABSL_LOCKS_EXCLUDED(mu_);

  const RateLimiterOptions& options() const { return options_; }
  int64_t inserts() const ABSL_LOCKS_EXCLUDED(mu_);
  int64_t samples() const ABSL_LOCKS_EXCLUDED(mu_);

 private:
  double Diff() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return static_cast<double>(inserts_) * options_.samples_per_insert -
           static_cast<double>(samples_);
  }
  bool CanInsert(int64_t n) const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  bool CanSample(int64_t n) const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Waits for `ready` with `waiting` counting this waiter.
  absl::Status Wait(const std::function<bool()>& ready, int* waiting, absl::Duration timeout,
                    const CancelFn& cancelled, double* waited) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const RateLimiterOptions options_;
  mutable absl::Mutex mu_;
  int64_t inserts_ ABSL_GUARDED_BY(mu_) = 0;
  int64_t samples_ ABSL_GUARDED_BY(mu_) = 0;
  int waiting_inserters_ ABSL_GUARDED_BY(mu_) = 0;
  int waiting_samplers_ ABSL_GUARDED_BY(mu_) = 0;
  bool closed_ ABSL_GUARDED_BY(mu_) = false;
};

}  // namespace tandem::replay

#endif  // TANDEM_REPLAY_SERVER_RATE_LIMITER_H_
