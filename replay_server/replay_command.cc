#include "replay_server/replay_command.h"

#include <fstream>
#include <optional>

#include "absl/strings/str_cat.h"
#include "common/config.h"
#include "common/config_command.h"
#include "common/files.h"
#include "common/logging.h"
#include "common/metrics.h"
#include "common/shutdown.h"
#include "common/status_macros.h"
#include "envs/registry.h"
#include "replay_server/replay_server.h"

namespace tandem::replay {
namespace {

absl::Status RunReplay(const cli::Args& args, std::ostream& out) {
  ASSIGN_OR_RETURN(ExperimentConfig config, LoadConfigFromArgs(args));
  InstallShutdownHandlers();
  const MetricsConfig& metrics_config = config.metrics();
  ASSIGN_OR_RETURN(auto metrics, MetricsRegistry::Create(metrics_config.enabled()
                                                             ? metrics_config.replay_address()
                                                             : std::string()));
  std::optional<TransitionSpec> spec;
  std::vector<float> action_low, action_high;
  if (config.replay().shape_from_env()) {
    ASSIGN_OR_RETURN(
        std::unique_ptr<envs::MultiAgentEnv> env,
        envs::CreateEnv(config.env().name(), envs::EnvOptions(config.env().options().begin(),
                                                              config.env().options().end())),
        _.WithPrefix("replay.shape_from_env: "));
    spec = EpisodeItems(config.replay()) ? env->spec().ToEpisodeSpec()
                                         : env->spec().ToTransitionSpec();
    action_low = env->spec().action_low;
    action_high = env->spec().action_high;
  }
  ASSIGN_OR_RETURN(auto server,
                   ReplayServer::Start(config, metrics.get(), spec, action_low, action_high));
  out << "replay server listening on " << server->address();
  if (metrics->port() > 0) out << ", metrics on port " << metrics->port();
  out << std::endl;
  if (const std::string& port_file = args.GetString("port_file"); !port_file.empty()) {
    RETURN_IF_ERROR(
        WriteFileAtomically(port_file, absl::StrCat(server->port(), " ", metrics->port(), "\n")));
  }
  WaitForShutdown();
  LOG(INFO) << "replay server shutting down";
  server->Shutdown();
  return absl::OkStatus();
}

}  // namespace

cli::Command ReplayCommand() {
  cli::Command command("replay",
                       "Run the replay server (offline + online tables, rho mixing, rate limiter, "
                       "write-ahead log) until SIGINT/SIGTERM.");
  command.flags = ConfigFlags();
  command.flags.insert(
      command.flags.end(),
      {
          {"port_file", cli::FlagKind::kString,
           "Write '<grpc port> <metrics port>' to FILE once listening.", "", "FILE"},
      });
  command.run = cli::StatusHandler("tandem replay", RunReplay);
  return command;
}

}  // namespace tandem::replay
