// A bounded, closeable, multi-producer multi-consumer FIFO queue.
//
// Status codes:
//   Push  OK                 the item is in the queue
//         CANCELLED          the queue is closed (the item is dropped)
//         DEADLINE_EXCEEDED  the queue stayed full for `timeout`
//   Pop   OK                 an item was taken
//         CANCELLED          the queue is closed and empty (items pushed before Close() are still
//                            handed out, so consumers can drain it)
//         DEADLINE_EXCEEDED  the queue stayed empty for `timeout`
// Close() wakes every waiting Push and Pop. Thread-safe.
#ifndef TANDEM_COMMON_BOUNDED_QUEUE_H_
#define TANDEM_COMMON_BOUNDED_QUEUE_H_

#include <cstddef>
#include <deque>
#include <utility>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "glog/logging.h"

namespace tandem {

template <typename T>
class BoundedQueue {
 public:
  // A queue holding at most `capacity` (>= 1) items.
  explicit BoundedQueue(size_t capacity) : capacity_(capacity) { CHECK_GE(capacity, 1u); }

  BoundedQueue(const BoundedQueue&) = delete;
  BoundedQueue& operator=(const BoundedQueue&) = delete;

  // Waits up to `timeout` for room, then appends `item`.
  absl::Status Push(T item, absl::Duration timeout = absl::InfiniteDuration())
      ABSL_LOCKS_EXCLUDED(mu_) {
    absl::MutexLock lock(&mu_);
    auto ready = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
      return closed_ || items_.size() < capacity_;
    };
    if (!mu_.AwaitWithTimeout(absl::Condition(&ready), timeout)) {
      return absl::DeadlineExceededError("queue full");
    }
    if (closed_) return absl::CancelledError("queue closed");
    items_.push_back(std::move(item));
    return absl::OkStatus();
  }

  // Waits up to `timeout` for an item, then moves the oldest into `*item`.
  absl::Status Pop(T* item, absl::Duration timeout = absl::InfiniteDuration())
      ABSL_LOCKS_EXCLUDED(mu_) {
    absl::MutexLock lock(&mu_);
    auto ready = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return closed_ || !items_.empty(); };
    if (!mu_.AwaitWithTimeout(absl::Condition(&ready), timeout)) {
      return absl::DeadlineExceededError("queue empty");
    }
    if (items_.empty()) return absl::CancelledError("queue closed");
    *item = std::move(items_.front());
    items_.pop_front();
    return absl::OkStatus();
  }

  // Refuses further pushes and wakes every waiter. Idempotent.
  void Close() ABSL_LOCKS_EXCLUDED(mu_) {
    absl::MutexLock lock(&mu_);
    closed_ = true;
  }

  // Items currently queued.
  size_t size() const ABSL_LOCKS_EXCLUDED(mu_) {
    absl::MutexLock lock(&mu_);
    return items_.size();
  }

  // Maximum number of items.
  size_t capacity() const { return capacity_; }

  // Whether Close() was called.
  bool closed() const ABSL_LOCKS_EXCLUDED(mu_) {
    absl::MutexLock lock(&mu_);
    return closed_;
  }

 private:
  const size_t capacity_;
  mutable absl::Mutex mu_;
  std::deque<T> items_ ABSL_GUARDED_BY(mu_);
  bool closed_ ABSL_GUARDED_BY(mu_) = false;
};

}  // namespace tandem

#endif  // TANDEM_COMMON_BOUNDED_QUEUE_H_
