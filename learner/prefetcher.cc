#include "learner/prefetcher.h"

#include "absl/time/clock.h"

namespace tandem::learner {

Prefetcher::Prefetcher(replay::ReplayClient& client, const PrefetcherOptions& options)
    : client_(client), options_(options), queue_(std::max(1, options.queue_size)) {
  if (options.metrics != nullptr) {
    wait_seconds_ = &options.metrics->GetCounter("tandem_learner_batch_wait_seconds_total",
                                                 "Seconds the update loop waited for a batch");
  }
  SampleRequest request;
  request.set_batch_size(options.batch_size);
  if (options.offline_ratio.has_value()) request.set_offline_ratio(*options.offline_ratio);
  sampler_ = client_.NewSampler(request);
  thread_ = std::thread([this] { Run(); });
}

Prefetcher::~Prefetcher() {
  sampler_->Cancel();
  queue_.Close();
  thread_.join();
}

void Prefetcher::Run() {
  SampleResponse response;
  while (true) {
    absl::Status status = sampler_->Next(&response);
    if (status.ok()) {
      absl::StatusOr<TrainingBatch> batch = ToTrainingBatch(response.batch(), options_.device);
      status = batch.status();
      if (status.ok()) {
        if (!queue_.Push(std::move(*batch)).ok()) return;  // closed: shutting down
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
