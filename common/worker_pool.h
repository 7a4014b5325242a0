// A fixed team of threads that runs one parallel loop at a time. The calling thread is a member of
// the team (it takes index 0's share), so WorkerPool(1) runs everything inline with no thread at
// all, and WorkerPool(2) wakes exactly one helper per loop.
//
// Loops here are short and back to back (an actor's inference branches, then its env steps, each a
// few hundred microseconds), so a sleeping thread's wake-up latency would cost as much as the work.
// Helpers therefore spin for a short while (kSpin) on an atomic generation counter before they
// block, and the caller spins the same while for the helpers to finish.
#ifndef TANDEM_COMMON_WORKER_POOL_H_
#define TANDEM_COMMON_WORKER_POOL_H_

#include <atomic>
#include <functional>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace tandem {

class WorkerPool {
 public:
  // How long a thread spins for the next loop (or for the helpers) before it blocks.
  static constexpr absl::Duration kSpin = absl::Microseconds(200);

  // `threads` counts the caller; values below 1 mean 1.
  explicit WorkerPool(int threads);
  ~WorkerPool();
  WorkerPool(const WorkerPool&) = delete;
  WorkerPool& operator=(const WorkerPool&) = delete;

  int threads() const { return static_cast<int>(helpers_.size()) + 1; }

  // Runs work(i) for every i in [0, n): thread t of the team takes i = t, t + threads(), ...
  // (a fixed assignment, so per-index state needs no locking). Returns when all are done, with the
  // error of the lowest-numbered thread that failed; a thread stops its share at its first error.
  // One caller at a time.
  absl::Status ForEach(int n, const std::function<absl::Status(int)>& work);

 private:
  absl::Status RunShare(int thread, int n, const std::function<absl::Status(int)>& work) const;
  void HelperLoop(int thread);

  std::vector<std::thread> helpers_;
  // The current loop, written by the caller before it bumps generation_ (release) and read by the
  // helpers after they see the bump (acquire).
  const std::function<absl::Status(int)>* job_ = nullptr;
  int job_size_ = 0;
  std::vector<absl::Status> status_;  // status_[t] written by helper t before it counts down
  std::atomic<int64_t> generation_{0};
  std::atomic<int> pending_{0};
  std::atomic<bool> stop_{false};
  // Blocking fallback after the spin: generation_, pending_ and stop_ change under mu_ too.
  absl::Mutex mu_;
  absl::CondVar wake_;
  absl::CondVar done_;
};

}  // namespace tandem

#endif  // TANDEM_COMMON_WORKER_POOL_H_
