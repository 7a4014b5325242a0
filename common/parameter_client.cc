#include "common/parameter_client.h"

#include <algorithm>

#include "absl/time/clock.h"
#include "common/grpc_security.h"
#include "common/logging.h"

namespace tandem {

ParameterSubscriber::ParameterSubscriber(std::shared_ptr<grpc::Channel> channel,
                                         const ParameterSubscriberOptions& options)
    : stub_(ParameterService::NewStub(channel)), options_(options) {
  if (options.metrics != nullptr) {
    latency_ = &options.metrics->GetHistogram("tandem_weights_receive_latency_seconds",
                                              "Time from a weights publish to its arrival here",
                                              LatencyBuckets());
    received_ =
        &options.metrics->GetCounter("tandem_weights_received_total", "Weights versions received");
  }
  thread_ = std::thread([this] { Run(); });
}

ParameterSubscriber::~ParameterSubscriber() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
    if (active_ != nullptr) active_->TryCancel();
  }
  stop_.Notify();
  thread_.join();
}

void ParameterSubscriber::Run() {
  absl::Duration backoff = options_.initial_backoff;
  while (true) {
    grpc::ClientContext context;
    AddAuthToken(&context, options_.auth_token);
    SubscribeRequest request;
    {
      absl::MutexLock lock(&mu_);
      if (stopping_) return;
      request.set_after_version(latest_ == nullptr ? 0 : latest_->version());
      active_ = &context;
    }
    auto reader = stub_->Subscribe(&context, request);
    auto weights = std::make_shared<Weights>();
    bool received_any = false;
    while (reader->Read(weights.get())) {
      received_any = true;
      if (latency_ != nullptr) {
        latency_->Observe(std::max(
            0.0, (absl::ToUnixNanos(absl::Now()) - weights->publish_time_unix_nanos()) / 1e9));
      }
      if (received_ != nullptr) received_->Increment();
      absl::MutexLock lock(&mu_);
      latest_ = std::move(weights);
      weights = std::make_shared<Weights>();
    }
    const grpc::Status status = reader->Finish();
    {
      absl::MutexLock lock(&mu_);
      active_ = nullptr;
      if (stopping_) return;
    }
    if (received_any) backoff = options_.initial_backoff;
    ++failed_attempts_;
    VLOG(1) << "weights subscription ended (" << status.error_message() << "); retrying in "
            << absl::FormatDuration(backoff);
    if (stop_.WaitForNotificationWithTimeout(backoff)) return;
    backoff = std::min(backoff * 2, options_.max_backoff);
  }
}

std::shared_ptr<const Weights> ParameterSubscriber::Latest() const {
  absl::MutexLock lock(&mu_);
  return latest_;
}

uint64_t ParameterSubscriber::latest_version() const {
  absl::MutexLock lock(&mu_);
  return latest_ == nullptr ? 0 : latest_->version();
}

bool ParameterSubscriber::WaitForVersion(uint64_t after, absl::Duration timeout) {
  absl::MutexLock lock(&mu_);
  auto ready = [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return latest_ != nullptr && latest_->version() > after;
  };
  return mu_.AwaitWithTimeout(absl::Condition(&ready), timeout);
}

bool ParameterSubscriber::WaitForChange(uint64_t seen, absl::Duration timeout) {
  absl::MutexLock lock(&mu_);
  auto ready = [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return latest_ != nullptr && latest_->version() != seen;
  };
  return mu_.AwaitWithTimeout(absl::Condition(&ready), timeout);
}

}  // namespace tandem
