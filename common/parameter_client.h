// Subscribes to a learner's ParameterService and keeps the newest weights version, reconnecting
// with exponential back-off when the learner is away. Actors and evaluators read `Latest()` between
// steps and swap networks when the version changes.
//
// Thread-safety: thread-safe; one background thread per subscriber.
#ifndef TANDEM_COMMON_PARAMETER_CLIENT_H_
#define TANDEM_COMMON_PARAMETER_CLIENT_H_

#include <atomic>
#include <memory>
#include <string>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/time.h"
#include "common/metrics.h"
#include "grpcpp/channel.h"
#include "grpcpp/client_context.h"
#include "proto/parameter_service.grpc.pb.h"

namespace tandem {

struct ParameterSubscriberOptions {
  std::string auth_token;
  absl::Duration initial_backoff = absl::Milliseconds(100);
  absl::Duration max_backoff = absl::Seconds(10);
  // Optional: publish-to-receive latency histogram and received-versions counter.
  MetricsRegistry* metrics = nullptr;
};

class ParameterSubscriber {
 public:
  ParameterSubscriber(std::shared_ptr<grpc::Channel> channel,
                      const ParameterSubscriberOptions& options);
  // Cancels the subscription and joins the thread.
  ~ParameterSubscriber();

  // The newest weights received, or nullptr before the first.
  std::shared_ptr<const Weights> Latest() const ABSL_LOCKS_EXCLUDED(mu_);
  uint64_t latest_version() const ABSL_LOCKS_EXCLUDED(mu_);
  // Waits until a version > `after` arrives or `timeout` passes; returns whether it did.
  bool WaitForVersion(uint64_t after, absl::Duration timeout) ABSL_LOCKS_EXCLUDED(mu_);
  // Waits until the latest version differs from `seen` (newer, or lower after the learner was
  // restarted from a checkpoint) or `timeout` passes; returns whether it did.
  bool WaitForChange(uint64_t seen, absl::Duration timeout) ABSL_LOCKS_EXCLUDED(mu_);
  // Connection attempts that failed (for tests and logs).
  int64_t failed_attempts() const { return failed_attempts_.load(); }

 private:
  void Run();

  std::unique_ptr<ParameterService::Stub> stub_;
  const ParameterSubscriberOptions options_;
  Histogram* latency_ = nullptr;
  Counter* received_ = nullptr;
  mutable absl::Mutex mu_;
  std::shared_ptr<const Weights> latest_ ABSL_GUARDED_BY(mu_);
  grpc::ClientContext* active_ ABSL_GUARDED_BY(mu_) = nullptr;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::atomic<int64_t> failed_attempts_{0};
  absl::Notification stop_;
  std::thread thread_;
};

}  // namespace tandem

#endif  // TANDEM_COMMON_PARAMETER_CLIENT_H_
