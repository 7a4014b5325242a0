#include "common/worker_pool.h"

#include <algorithm>

#include "absl/time/clock.h"

namespace tandem {
namespace {

// Spins until `ready()` or kSpin has passed; returns whether it became ready.
template <typename Ready>
bool SpinUntil(const Ready& ready) {
  const absl::Time deadline = absl::Now() + WorkerPool::kSpin;
  while (true) {
    for (int i = 0; i < 64; ++i) {
      if (ready()) return true;
#if defined(__x86_64__) || defined(__i386__)
      __builtin_ia32_pause();
#endif
    }
    if (absl::Now() >= deadline) return ready();
  }
}

}  // namespace

WorkerPool::WorkerPool(int threads) {
  const int helpers = std::max(threads, 1) - 1;
  status_.assign(helpers + 1, absl::OkStatus());
  for (int t = 1; t <= helpers; ++t) helpers_.emplace_back([this, t] { HelperLoop(t); });
}

WorkerPool::~WorkerPool() {
  {
    absl::MutexLock lock(&mu_);
    stop_.store(true, std::memory_order_release);
  }
  wake_.SignalAll();
  for (std::thread& helper : helpers_) helper.join();
}

absl::Status WorkerPool::RunShare(int thread, int n,
                                  const std::function<absl::Status(int)>& work) const {
  for (int i = thread; i < n; i += threads()) {
    absl::Status status = work(i);
    if (!status.ok()) return status;
  }
  return absl::OkStatus();
}

absl::Status WorkerPool::ForEach(int n, const std::function<absl::Status(int)>& work) {
  if (helpers_.empty() || n <= 1) {
    for (int i = 0; i < n; ++i) {
      absl::Status status = work(i);
      if (!status.ok()) return status;
    }
    return absl::OkStatus();
  }
  job_ = &work;
  job_size_ = n;
  pending_.store(static_cast<int>(helpers_.size()), std::memory_order_relaxed);
  {
    absl::MutexLock lock(&mu_);
    generation_.fetch_add(1, std::memory_order_release);
  }
  wake_.SignalAll();
  absl::Status own = RunShare(0, n, work);
  auto finished = [this] { return pending_.load(std::memory_order_acquire) == 0; };
  if (!SpinUntil(finished)) {
    absl::MutexLock lock(&mu_);
    while (!finished()) done_.Wait(&mu_);
  }
  job_ = nullptr;
  if (!own.ok()) return own;
  for (const absl::Status& status : status_) {
    if (!status.ok()) return status;
  }
  return absl::OkStatus();
}

void WorkerPool::HelperLoop(int thread) {
  int64_t seen = 0;
  auto ready = [&] {
    return stop_.load(std::memory_order_acquire) ||
           generation_.load(std::memory_order_acquire) != seen;
  };
  while (true) {
    if (!SpinUntil(ready)) {
      absl::MutexLock lock(&mu_);
      while (!ready()) wake_.Wait(&mu_);
    }
    if (stop_.load(std::memory_order_acquire)) return;
    seen = generation_.load(std::memory_order_acquire);
    status_[thread] = RunShare(thread, job_size_, *job_);
    if (pending_.fetch_sub(1, std::memory_order_acq_rel) == 1) {
      absl::MutexLock lock(&mu_);  // the caller may be between its check and its Wait
      done_.Signal();
    }
  }
}

}  // namespace tandem
