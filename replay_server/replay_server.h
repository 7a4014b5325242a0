// A running replay server: the ReplayService on a gRPC port, built from an ExperimentConfig.
//
//   ASSIGN_OR_RETURN(auto server, ReplayServer::Start(config, metrics.get()));
//   LOG(INFO) << "listening on port " << server->port();
//   ...
//   server->Shutdown();
#ifndef TANDEM_REPLAY_SERVER_REPLAY_SERVER_H_
#define TANDEM_REPLAY_SERVER_REPLAY_SERVER_H_

#include <memory>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "common/dataset.h"
#include "common/metrics.h"
#include "grpcpp/server.h"
#include "proto/config.pb.h"
#include "replay_server/replay_service.h"

namespace tandem::replay {

class ReplayServer {
 public:
  // Loads the dataset (config.dataset.path, if any), recovers the write-ahead log
  // (config.replay.wal_dir, if any) and listens on config.replay.address. `spec` shapes the online
  // table when there is no dataset (otherwise the first insert does).
  static absl::StatusOr<std::unique_ptr<ReplayServer>> Start(
      const ExperimentConfig& config, MetricsRegistry* metrics,
      std::optional<TransitionSpec> spec = std::nullopt);

  ~ReplayServer();

  // The bound port (the one picked when the address asked for port 0).
  int port() const { return port_; }
  // "host:port" clients connect to.
  std::string address() const;
  // A channel to this server that bypasses the network (tests).
  std::shared_ptr<grpc::Channel> InProcessChannel();
  ReplayServiceImpl& service() { return *service_; }

  // Ends blocked calls, stops accepting new ones, waits up to `grace` for calls in flight and
  // flushes the log. Idempotent.
  void Shutdown(absl::Duration grace = absl::Seconds(2));

 private:
  ReplayServer() = default;
  std::unique_ptr<OfflineDataSource> dataset_;
  std::unique_ptr<ReplayServiceImpl> service_;
  std::unique_ptr<grpc::Server> server_;
  std::string host_;
  int port_ = 0;
  bool shut_down_ = false;
};

// Opens the offline dataset `path` in the configured format.
absl::StatusOr<std::unique_ptr<OfflineDataSource>> OpenOfflineDataset(const DatasetConfig& dataset);

}  // namespace tandem::replay

#endif  // TANDEM_REPLAY_SERVER_REPLAY_SERVER_H_
