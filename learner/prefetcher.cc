#include "learner/prefetcher.h"

#include <algorithm>

#include "absl/time/clock.h"
#include "common/logging.h"

namespace tandem::learner {

Prefetcher::Prefetcher(replay::ReplayClient& client, const PrefetcherOptions& options)
    : client_(client), options_(options), queue_(std::max(1, options.queue_size)) {
  if (options.metrics != nullptr) {
    wait_seconds_ = &options.metrics->GetCounter("tandem_learner_batch_wait_seconds_total",
                                                 "Seconds the update loop waited for a batch");
    reconnects_ = &options.metrics->GetCounter(
        "tandem_learner_replay_reconnects_total",
        "Sample streams reopened after the replay server became unreachable");
  }
  request_.set_batch_size(options.batch_size);
  if (options.offline_ratio.has_value()) request_.set_offline_ratio(*options.offline_ratio);
  request_.set_offline_table(options.offline_table);
  request_.set_online_table(options.online_table);
  {
    absl::MutexLock lock(&mu_);
    sampler_ = client_.NewSampler(request_);
  }
  thread_ = std::thread([this] { Run(); });
}

Prefetcher::~Prefetcher() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
    sampler_->Cancel();
  }
  queue_.Close();
  thread_.join();
}

void Prefetcher::Run() {
  SampleResponse response;
  absl::Time down_since = absl::InfiniteFuture();
  absl::Duration backoff = absl::Milliseconds(100);
  while (true) {
    std::shared_ptr<replay::ReplaySampler> sampler;
    {
      absl::MutexLock lock(&mu_);
      if (stopping_) return;
      sampler = sampler_;
    }
    absl::Status status = sampler->Next(&response);
    if (status.ok()) {
      if (down_since != absl::InfiniteFuture()) {
        LOG(INFO) << "learner: replay server reachable again after "
                  << absl::FormatDuration(absl::Now() - down_since);
        down_since = absl::InfiniteFuture();
        backoff = absl::Milliseconds(100);
      }
      absl::StatusOr<TrainingBatch> batch = ToTrainingBatch(response.batch(), options_.device);
      status = batch.status();
      if (status.ok()) {
        if (!queue_.Push(std::move(*batch)).ok()) return;  // closed: shutting down
        continue;
      }
    } else if (absl::IsUnavailable(status) && options_.reconnect_timeout > absl::ZeroDuration()) {
      const absl::Time now = absl::Now();
      if (down_since == absl::InfiniteFuture()) {
        down_since = now;
        LOG(WARNING) << "learner: replay server unreachable (" << status.message()
                     << "); reconnecting for up to "
                     << absl::FormatDuration(options_.reconnect_timeout);
      }
      if (now - down_since < options_.reconnect_timeout) {
        absl::SleepFor(backoff);
        backoff = std::min(2 * backoff, absl::Seconds(2));
        absl::MutexLock lock(&mu_);
        if (stopping_) return;
        sampler_ = client_.NewSampler(request_);
        if (reconnects_ != nullptr) reconnects_->Increment();
        continue;
      }
    }
    absl::MutexLock lock(&mu_);
    error_ = status;
    queue_.Close();
    return;
  }
}

absl::Status Prefetcher::Next(TrainingBatch* batch) {
  const int64_t start = absl::GetCurrentTimeNanos();
  int64_t expected = 0;
  first_call_nanos_.compare_exchange_strong(expected, start);
  absl::Status status = queue_.Pop(batch);
  const int64_t waited = absl::GetCurrentTimeNanos() - start;
  waited_nanos_ += waited;
  if (wait_seconds_ != nullptr) wait_seconds_->Increment(waited / 1e9);
  if (status.ok()) return status;
  absl::MutexLock lock(&mu_);
  return error_.ok() ? status : error_;
}

double Prefetcher::wait_fraction() const {
  const int64_t first = first_call_nanos_.load();
  if (first == 0) return 0;
  const double elapsed = static_cast<double>(absl::GetCurrentTimeNanos() - first);
  return elapsed > 0 ? waited_nanos_.load() / elapsed : 0;
}

}  // namespace tandem::learner
