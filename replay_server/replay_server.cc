#include "replay_server/replay_server.h"

#include <map>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/config.h"
#include "common/grpc_security.h"
#include "common/logging.h"
#include "common/omiga_dataset.h"
#include "common/status_macros.h"
#include "envs/registry.h"
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

namespace {

// "family/Task(key=value,key=value)" -> ("family/Task", {key: value, ...}).
std::pair<std::string, std::map<std::string, std::string>> SplitEnvName(const std::string& text) {
  const size_t open = text.find('(');
  std::map<std::string, std::string> options;
  if (open == std::string::npos) return {text, options};
  const size_t close = text.rfind(')');
  const std::string inside = text.substr(
      open + 1, close == std::string::npos || close < open ? std::string::npos : close - open - 1);
  for (absl::string_view pair : absl::StrSplit(inside, ',', absl::SkipEmpty())) {
    const size_t eq = pair.find('=');
    if (eq == absl::string_view::npos) continue;
    options[std::string(pair.substr(0, eq))] = std::string(pair.substr(eq + 1));
  }
  return {text.substr(0, open), options};
}

}  // namespace

absl::Status CheckDatasetForEnv(const ExperimentConfig& config, const OfflineDataSource& dataset) {
  const std::string& path = config.dataset().path();
  const EnvConfig& env_config = config.env();
  ASSIGN_OR_RETURN(std::unique_ptr<envs::MultiAgentEnv> env,
                   envs::CreateEnv(env_config.name(), envs::EnvOptions(env_config.options().begin(),
                                                                       env_config.options().end())),
                   _.WithPrefix("env: "));
  // Tandem files record the env as "name(key=value,...)" with its resolved options; imported ones
  // (OMIGA, CFCQL) may record only the name, or nothing.
  const bool omiga =
      config.dataset().format() == DatasetConfig::FORMAT_OMIGA ||
      (config.dataset().format() == DatasetConfig::FORMAT_AUTO && LooksLikeOmigaDataset(path));
  if (!omiga) {
    ASSIGN_OR_RETURN(DatasetMetadata recorded, ReadDatasetMetadata(path));
    const auto [recorded_name, recorded_options] = SplitEnvName(recorded.env_name);
    const auto [name, options] = SplitEnvName(env->spec().name);
    if (!recorded_name.empty() && recorded_name != name) {
      return absl::FailedPreconditionError(
          absl::StrCat("dataset ", path, " was recorded on ", recorded_name, " but env.name is ",
                       name, "; use a dataset of ", name, " or change env.name"));
    }
    // Options that change what agents observe or how the env behaves must agree; the episode
    // limit may differ (a dataset of longer or shorter episodes is still of this env).
    for (const auto& [key, value] : options) {
      if (key == "episode_limit") continue;
      const auto it = recorded_options.find(key);
      if (it != recorded_options.end() && it->second != value) {
        return absl::FailedPreconditionError(absl::StrCat("dataset ", path, " was recorded with ",
                                                          key, "=", it->second, " but the env has ",
                                                          key, "=", value, " (env.options)"));
      }
    }
    if (!recorded.obs_mode.empty() && options.count("obs_mode") > 0 &&
        recorded.obs_mode != options.at("obs_mode")) {
      return absl::FailedPreconditionError(
          absl::StrCat("dataset ", path, " holds obs_mode ", recorded.obs_mode,
                       " observations but the env has obs_mode ", options.at("obs_mode")));
    }
  }
  // Episode datasets (recurrent agents) hold whole episodes of the env.
  const bool episodes = EpisodeItems(config.replay()) || dataset.spec().episode_steps() > 0;
  const TransitionSpec produced =
      episodes ? env->spec().ToEpisodeSpec() : env->spec().ToTransitionSpec();
  if (!TransitionSchema::Compatible(produced, dataset.spec())) {
    return absl::FailedPreconditionError(
        absl::StrCat("dataset ", path, " holds ", DescribeSpec(dataset.spec()), " but env ",
                     env->spec().name, " produces ", DescribeSpec(produced)));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<ReplayServer>> ReplayServer::Start(
    const ExperimentConfig& config, MetricsRegistry* metrics, std::optional<TransitionSpec> spec,
    std::vector<float> action_low, std::vector<float> action_high) {
  std::unique_ptr<ReplayServer> server(new ReplayServer());
  ReplayServiceOptions options;
  options.config = config.replay();
  options.seed = config.seed();
  options.spec = std::move(spec);
  const ValidationConfig& validation = config.replay().validation();
  options.bounds.max_abs_reward = validation.max_abs_reward();
  options.bounds.max_abs_observation = validation.max_abs_observation();
  if (validation.action_box_tolerance() >= 0 && action_low.size() == action_high.size()) {
    options.bounds.action_low = std::move(action_low);
    options.bounds.action_high = std::move(action_high);
    options.bounds.action_tolerance = validation.action_box_tolerance();
  }
  options.metrics = metrics;
  ASSIGN_OR_RETURN(options.auth_token, ResolveAuthToken(config.security()));
  if (!config.dataset().path().empty()) {
    ASSIGN_OR_RETURN(server->dataset_, OpenOfflineDataset(config.dataset()));
    // Shapes given from the env (`tandem replay` with replay.shape_from_env): the dataset must be
    // of that env.
    if (options.spec.has_value() && config.replay().shape_from_env()) {
      RETURN_IF_ERROR(CheckDatasetForEnv(config, *server->dataset_));
    }
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
  // Sampled batches are bounded by replay.max_sample_bytes (Sample refuses larger ones itself).
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
