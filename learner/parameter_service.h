// The ParameterService (proto/parameter_service.proto): the learner publishes versioned weights;
// subscribers get the newest version as soon as it is published, and only the newest when they fall
// behind. Publishing never blocks on subscribers.
//
// Thread-safety: thread-safe.
#ifndef TANDEM_LEARNER_PARAMETER_SERVICE_H_
#define TANDEM_LEARNER_PARAMETER_SERVICE_H_

#include <memory>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "common/metrics.h"
#include "grpcpp/server.h"
#include "proto/config.pb.h"
#include "proto/parameter_service.grpc.pb.h"

namespace tandem::learner {

class ParameterServiceImpl final : public ParameterService::Service {
 public:
  ParameterServiceImpl(std::string auth_token, MetricsRegistry* metrics);

  // Makes `weights` the newest version; its version must exceed the previous one.
  absl::Status Publish(Weights weights) ABSL_LOCKS_EXCLUDED(mu_);
  // Ends every subscription (UNAVAILABLE) and refuses new ones.
  void Close() ABSL_LOCKS_EXCLUDED(mu_);
  uint64_t latest_version() const ABSL_LOCKS_EXCLUDED(mu_);

  grpc::Status Subscribe(grpc::ServerContext* context, const SubscribeRequest* request,
                         grpc::ServerWriter<Weights>* writer) override;
  grpc::Status GetLatest(grpc::ServerContext* context, const GetLatestRequest* request,
                         Weights* response) override;

 private:
  const std::string auth_token_;
  mutable absl::Mutex mu_;
  std::shared_ptr<const Weights> latest_ ABSL_GUARDED_BY(mu_);
  bool closed_ ABSL_GUARDED_BY(mu_) = false;
  Gauge& version_;
  Counter& published_;
  Gauge& subscribers_;
};

// A ParameterService listening on `address` (port 0 = any free port).
class ParameterServer {
 public:
  static absl::StatusOr<std::unique_ptr<ParameterServer>> Start(const std::string& address,
                                                                const SecurityConfig& security,
                                                                MetricsRegistry* metrics);
  ~ParameterServer();
  ParameterServiceImpl& service() { return *service_; }
  int port() const { return port_; }
  // A channel to this server that bypasses the network (tests). Every client on it must be gone
  // before Shutdown(): gRPC's in-process transport crashes when a call starts after shutdown.
  std::shared_ptr<grpc::Channel> InProcessChannel();
  void Shutdown();

 private:
  ParameterServer() = default;
  std::unique_ptr<ParameterServiceImpl> service_;
  std::unique_ptr<grpc::Server> server_;
  int port_ = 0;
  bool shut_down_ = false;
};

}  // namespace tandem::learner

#endif  // TANDEM_LEARNER_PARAMETER_SERVICE_H_
