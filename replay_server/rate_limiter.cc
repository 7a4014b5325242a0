#include "replay_server/rate_limiter.h"

#include <algorithm>
#include <cmath>

#include "absl/time/clock.h"

namespace tandem::replay {

RateLimiterOptions SampleToInsertRatio(double samples_per_insert, int64_t min_size_to_sample,
                                       double error_buffer) {
  const double center = static_cast<double>(min_size_to_sample) * samples_per_insert;
  return RateLimiterOptions{samples_per_insert, min_size_to_sample, center - error_buffer,
                            center + error_buffer};
}

bool RateLimiter::CanInsert(int64_t n) const {
  if (options_.samples_per_insert <= 0) return true;
  const double diff = Diff();
  if (diff + static_cast<double>(n) * options_.samples_per_insert <= options_.max_diff) return true;
  return waiting_samplers_ > 0 && diff < options_.max_diff;
}

bool RateLimiter::CanSample(int64_t n) const {
  if (inserts_ < options_.min_size_to_sample) return false;
  if (options_.samples_per_insert <= 0) return true;
  const double diff = Diff();
  if (diff - static_cast<double>(n) >= options_.min_diff) return true;
  return waiting_inserters_ > 0 && diff > options_.min_diff;
}

absl::Status RateLimiter::Wait(const std::function<bool()>& ready, int* waiting,
                               absl::Duration timeout, const CancelFn& cancelled, double* waited) {
  const absl::Time start = absl::Now();
  const absl::Time deadline =
      timeout == absl::InfiniteDuration() ? absl::InfiniteFuture() : start + timeout;
  ++*waiting;
  absl::Status status = absl::OkStatus();
  auto done = [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return closed_ || ready(); };
  while (!done()) {
    if (cancelled && cancelled()) {
      status = absl::CancelledError("caller went away while waiting for the rate limiter");
      break;
    }
    const absl::Time now = absl::Now();
    if (now >= deadline) {
      status = absl::DeadlineExceededError("rate limiter timeout");
      break;
    }
    mu_.AwaitWithTimeout(absl::Condition(&done), std::min(absl::Milliseconds(20), deadline - now));
  }
  --*waiting;
  if (status.ok() && closed_) status = absl::CancelledError("rate limiter closed");
  if (waited != nullptr) *waited = absl::ToDoubleSeconds(absl::Now() - start);
  return status;
}

absl::Status RateLimiter::AwaitCanInsert(int64_t n, absl::Duration timeout,
                                         const CancelFn& cancelled, double* waited) {
  absl::MutexLock lock(&mu_);
  return Wait([&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return CanInsert(n); },
              &waiting_inserters_, timeout, cancelled, waited);
}

void RateLimiter::CommitInsert(int64_t n) {
  absl::MutexLock lock(&mu_);
  inserts_ += n;
}

absl::Status RateLimiter::AwaitSample(int64_t n, absl::Duration timeout, const CancelFn& cancelled,
                                      double* waited) {
  absl::MutexLock lock(&mu_);
  absl::Status status = Wait([&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return CanSample(n); },
                             &waiting_samplers_, timeout, cancelled, waited);
  if (status.ok()) samples_ += n;
  return status;
}

void RateLimiter::Close() {
  absl::MutexLock lock(&mu_);
  closed_ = true;
}

void RateLimiter::Restore(int64_t inserts) {
  absl::MutexLock lock(&mu_);
  inserts_ = inserts;
  const double center = (options_.min_diff + options_.max_diff) / 2;
  samples_ = std::max<int64_t>(
      0, static_cast<int64_t>(
             std::llround(static_cast<double>(inserts) * options_.samples_per_insert - center)));
}

int64_t RateLimiter::inserts() const {
  absl::MutexLock lock(&mu_);
  return inserts_;
}

int64_t RateLimiter::samples() const {
  absl::MutexLock lock(&mu_);
  return samples_;
}

}  // namespace tandem::replay
