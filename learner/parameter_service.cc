#include "learner/parameter_service.h"

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/grpc_security.h"
#include "common/grpc_status.h"
#include "common/status_macros.h"
#include "grpcpp/server_builder.h"

namespace tandem::learner {

ParameterServiceImpl::ParameterServiceImpl(std::string auth_token, MetricsRegistry* metrics)
    : auth_token_(std::move(auth_token)),
      version_(
          metrics->GetGauge("tandem_learner_weights_version", "Newest published weights version")),
      published_(metrics->GetCounter("tandem_learner_weights_published_total",
                                     "Weights versions published")),
      subscribers_(
          metrics->GetGauge("tandem_learner_weight_subscribers", "Open weight subscriptions")) {}

absl::Status ParameterServiceImpl::Publish(Weights weights) {
  auto shared = std::make_shared<const Weights>(std::move(weights));
  absl::MutexLock lock(&mu_);
  if (latest_ != nullptr && shared->version() <= latest_->version()) {
    return absl::InvalidArgumentError(absl::StrCat("weights version ", shared->version(),
                                                   " is not newer than ", latest_->version()));
  }
  latest_ = std::move(shared);
  version_.Set(static_cast<double>(latest_->version()));
  published_.Increment();
  return absl::OkStatus();
}

void ParameterServiceImpl::Close() {
  absl::MutexLock lock(&mu_);
  closed_ = true;
}

uint64_t ParameterServiceImpl::latest_version() const {
  absl::MutexLock lock(&mu_);
  return latest_ == nullptr ? 0 : latest_->version();
}

grpc::Status ParameterServiceImpl::Subscribe(grpc::ServerContext* context,
                                             const SubscribeRequest* request,
                                             grpc::ServerWriter<Weights>* writer) {
  if (absl::Status auth = CheckAuthToken(*context, auth_token_); !auth.ok()) {
    return ToGrpcStatus(auth);
  }
  subscribers_.Increment();
  uint64_t sent = request->after_version();
  {
    // A subscriber ahead of this service saw an earlier incarnation of the learner (restarted
    // from a checkpoint since): it gets the current version at once, not after the count catches
    // up.
    absl::MutexLock lock(&mu_);
    const uint64_t current = latest_ == nullptr ? 0 : latest_->version();
    if (sent > current) sent = current == 0 ? 0 : current - 1;
  }
  grpc::Status result = grpc::Status::OK;
  while (true) {
    std::shared_ptr<const Weights> next;
    {
      absl::MutexLock lock(&mu_);
      auto ready = [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
        return closed_ || (latest_ != nullptr && latest_->version() > sent);
      };
      // Wake up regularly to notice a cancelled client.
      while (!mu_.AwaitWithTimeout(absl::Condition(&ready), absl::Milliseconds(100))) {
        if (context->IsCancelled()) break;
      }
      if (closed_) {
        result = grpc::Status(grpc::StatusCode::UNAVAILABLE, "learner shutting down");
        break;
      }
      if (context->IsCancelled()) break;
      next = latest_;
    }
    if (!writer->Write(*next)) break;
    sent = next->version();
  }
  subscribers_.Decrement();
  return result;
}

grpc::Status ParameterServiceImpl::GetLatest(grpc::ServerContext* context,
                                             const GetLatestRequest* request, Weights* response) {
  if (absl::Status auth = CheckAuthToken(*context, auth_token_); !auth.ok()) {
    return ToGrpcStatus(auth);
  }
  absl::MutexLock lock(&mu_);
  if (latest_ == nullptr) return grpc::Status(grpc::StatusCode::NOT_FOUND, "nothing published yet");
  *response = *latest_;
  return grpc::Status::OK;
}

absl::StatusOr<std::unique_ptr<ParameterServer>> ParameterServer::Start(
    const std::string& address, const SecurityConfig& security, MetricsRegistry* metrics) {
  std::unique_ptr<ParameterServer> server(new ParameterServer());
  ASSIGN_OR_RETURN(std::string token, ResolveAuthToken(security));
  ASSIGN_OR_RETURN(auto credentials, MakeServerCredentials(security));
  server->service_ = std::make_unique<ParameterServiceImpl>(token, metrics);
  grpc::ServerBuilder builder;
  builder.AddListeningPort(address, credentials, &server->port_);
  builder.SetMaxSendMessageSize(std::numeric_limits<int>::max());
  builder.RegisterService(server->service_.get());
  server->server_ = builder.BuildAndStart();
  if (server->server_ == nullptr || server->port_ == 0) {
    return absl::UnavailableError(
        absl::StrCat("learner.parameter_address: cannot listen on ", address));
  }
  return server;
}

ParameterServer::~ParameterServer() { Shutdown(); }

std::shared_ptr<grpc::Channel> ParameterServer::InProcessChannel() {
  grpc::ChannelArguments arguments;
  arguments.SetMaxReceiveMessageSize(-1);
  return server_->InProcessChannel(arguments);
}

void ParameterServer::Shutdown() {
  if (shut_down_) return;
  shut_down_ = true;
  service_->Close();
  server_->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(2));
  server_->Wait();
}

}  // namespace tandem::learner
