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
#include <vector>

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
  // table when there is no dataset (otherwise the first insert does). `action_low`/`action_high`
  // are the env's continuous action box (EnvSpec's layout), empty when the server does not know
  // the env; with config.replay.validation they bound what inserts may hold.
  static absl::StatusOr<std::unique_ptr<ReplayServer>> Start(
      const ExperimentConfig& config, MetricsRegistry* metrics,
      std::optional<TransitionSpec> spec = std::nullopt, std::vector<float> action_low = {},
      std::vector<float> action_high = {});

  ~ReplayServer();

  // The bound port (the one picked when the address asked for port 0).
  int port() const { return port_; }
  // "host:port" clients connect to.
  std::string address() const;
  // A channel to this server that bypasses the network (tests). Every client on it must be gone
  // before Shutdown(): gRPC's in-process transport crashes when a call starts after shutdown.
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

// Checks that `dataset` (opened from config.dataset) fits config.env before anything trains on
// it: the env it was recorded on (name, which includes the agent factorization, and obs_mode)
// when the file records them, and its shapes (transitions or whole episodes, as the replay
// tables hold). FAILED_PRECONDITION naming both sides.
absl::Status CheckDatasetForEnv(const ExperimentConfig& config, const OfflineDataSource& dataset);

}  // namespace tandem::replay

#endif  // TANDEM_REPLAY_SERVER_REPLAY_SERVER_H_
