#include "replay_server/replay_server.h"

#include "absl/strings/str_cat.h"
#include "common/grpc_security.h"
#include "common/logging.h"
#include "common/omiga_dataset.h"
#include "common/status_macros.h"
#include "grpcpp/server_builder.h"

namespace tandem::replay {

absl::StatusOr<std::unique_ptr<OfflineDataSource>> OpenOfflineDataset(
    const DatasetConfig& dataset) {
  if (dataset.format() == DatasetConfig::FORMAT_OMIGA ||
      (dataset.format() == DatasetConfig::FORMAT_AUTO && LooksLikeOmigaDataset(dataset.path()))) {
    return OpenOmigaDataset(dataset.path());
  }
  return OpenTandemDataset(dataset.path());
}

absl::StatusOr<std::unique_ptr<ReplayServer>> ReplayServer::Start(
    const ExperimentConfig& config, MetricsRegistry* metrics, std::optional<TransitionSpec> spec) {
  std::unique_ptr<ReplayServer> server(new ReplayServer());
  ReplayServiceOptions options;
  options.config = config.replay();
  options.seed = config.seed();
  options.spec = std::move(spec);
  options.metrics = metrics;
  ASSIGN_OR_RETURN(options.auth_token, ResolveAuthToken(config.security()));
  if (!config.dataset().path().empty()) {
    ASSIGN_OR_RETURN(server->dataset_, OpenOfflineDataset(config.dataset()));
  }
  ASSIGN_OR_RETURN(server->service_, ReplayServiceImpl::Create(options, server->dataset_.get()));
  ASSIGN_OR_RETURN(std::shared_ptr<grpc::ServerCredentials> credentials,
                   MakeServerCredentials(config.security()));

  const std::string& address = config.replay().address();
  server->host_ = address.substr(0, address.rfind(':'));
  grpc::ServerBuilder builder;
  builder.AddListeningPort(address, credentials, &server->port_);
  builder.SetMaxReceiveMessageSize(static_cast<int>(
      std::min<int64_t>(config.replay().max_message_bytes(), std::numeric_limits<int>::max())));
  builder.SetMaxSendMessageSize(std::numeric_limits<int>::max());
  builder.RegisterService(server->service_.get());
  server->server_ = builder.BuildAndStart();
  if (server->server_ == nullptr || server->port_ == 0) {
    return absl::UnavailableError(absl::StrCat("replay.address: cannot listen on ", address));
  }
  LOG(INFO) << "replay server listening on " << server->address();
  return server;
}

ReplayServer::~ReplayServer() { Shutdown(); }

std::string ReplayServer::address() const { return absl::StrCat(host_, ":", port_); }

std::shared_ptr<grpc::Channel> ReplayServer::InProcessChannel() {
  grpc::ChannelArguments arguments;
  arguments.SetMaxReceiveMessageSize(-1);
  arguments.SetMaxSendMessageSize(-1);
  return server_->InProcessChannel(arguments);
}

void ReplayServer::Shutdown(absl::Duration grace) {
  if (shut_down_) return;
  shut_down_ = true;
  if (service_ != nullptr) service_->Close();
  if (server_ != nullptr) {
    server_->Shutdown(std::chrono::system_clock::now() + absl::ToChronoSeconds(grace));
    server_->Wait();
  }
}

}  // namespace tandem::replay
