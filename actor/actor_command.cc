#include "actor/actor_command.h"

#include <ATen/Parallel.h>
#include <unistd.h>

#include <iomanip>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "actor/actor.h"
#include "actor/evaluator_role.h"
#include "common/config.h"
#include "common/config_command.h"
#include "common/files.h"
#include "common/grpc_security.h"
#include "common/shutdown.h"
#include "common/status_macros.h"
#include "grpcpp/create_channel.h"

namespace tandem::actor {
namespace {

absl::StatusOr<std::shared_ptr<grpc::Channel>> LearnerChannel(const cli::Args& args,
                                                              const ExperimentConfig& config) {
  if (args.GetString("learner").empty()) return nullptr;
  ASSIGN_OR_RETURN(auto credentials, MakeChannelCredentials(config.security()));
  grpc::ChannelArguments arguments;
  arguments.SetMaxReceiveMessageSize(-1);
  return grpc::CreateCustomChannel(args.GetString("learner"), credentials, arguments);
}

// --id -1: a replica of a scaled service (docker-compose --scale, a Kubernetes Deployment) does not
// know an index, so it derives its id from its hostname (unique per container/pod): FNV-1a, 31
// bits.
int ActorId(const cli::Args& args) {
  const int64_t id = args.GetInt("id");
  if (id >= 0) return static_cast<int>(id);
  char host[256] = {};
  gethostname(host, sizeof(host) - 1);
  uint32_t hash = 2166136261u;
  for (const char* c = host; *c != 0; ++c) hash = (hash ^ static_cast<uint8_t>(*c)) * 16777619u;
  return static_cast<int>(hash & 0x7fffffff);
}

absl::Status RunActor(const cli::Args& args, std::ostream& out) {
  ASSIGN_OR_RETURN(ExperimentConfig config, LoadConfigFromArgs(args));
  InstallShutdownHandlers();
  // Per-decision matrices are small (agents x envs rows): intra-op threads do not speed them up,
  // and they would compete with the actor's own threads (actors.threads) for the cores.
  at::set_num_threads(1);
  ASSIGN_OR_RETURN(std::string token, ResolveAuthToken(config.security()));
  ASSIGN_OR_RETURN(auto metrics, MetricsRegistry::Create(config.metrics().enabled()
                                                             ? config.metrics().actor_address()
                                                             : std::string()));
  if (const std::string& port_file = args.GetString("port_file"); !port_file.empty()) {
    RETURN_IF_ERROR(WriteFileAtomically(port_file, absl::StrCat(metrics->port(), "\n")));
  }
  if (args.GetBool("eval")) {
    EvaluatorOptions options;
    options.config = config;
    ASSIGN_OR_RETURN(options.parameters, LearnerChannel(args, config));
    options.csv_path = args.GetString("eval_out");
    options.metrics = metrics.get();
    out << "tandem evaluator: " << config.env().name() << ", " << config.evaluation().episodes()
        << " episodes every "
        << (config.evaluation().every_env_steps() > 0
                ? absl::StrCat(config.evaluation().every_env_steps(), " env steps")
                : absl::StrCat(config.evaluation().every_versions(), " weights versions"))
        << (metrics->port() > 0 ? absl::StrCat(", metrics on port ", metrics->port()) : "")
        << std::endl;
    return RunEvaluator(
        options, [] { return ShutdownRequested(); }, out);
  }
  if (args.GetString("replay").empty()) {
    return absl::InvalidArgumentError("--replay HOST:PORT is required (except with --eval)");
  }
  ASSIGN_OR_RETURN(auto replay, replay::ReplayClient::Connect(args.GetString("replay"),
                                                              config.security(), token));
  ActorOptions options;
  options.config = config;
  options.actor_id = ActorId(args);
  options.replay = std::move(replay);
  ASSIGN_OR_RETURN(options.parameters, LearnerChannel(args, config));
  options.offline_checkpoint = config.learner().offline_checkpoint();
  options.metrics = metrics.get();
  ASSIGN_OR_RETURN(auto actor, Actor::Create(options));
  out << "tandem actor " << options.actor_id << ": " << config.env().name() << " x "
      << config.actors().envs_per_actor() << ", selector " << config.selector().name()
      << (metrics->port() > 0 ? absl::StrCat(", metrics on port ", metrics->port()) : "")
      << std::endl;
  const int64_t steps = args.GetInt("steps");
  const absl::Time start = absl::Now();
  RETURN_IF_ERROR(actor->Run([] { return ShutdownRequested(); },
                             steps > 0 ? steps : std::numeric_limits<int64_t>::max()));
  // At shutdown the replay server may have stopped acknowledging (its rate limiter waits on a
  // learner that is gone): give the flush a short grace then.
  actor->CloseSenders(ShutdownRequested() ? absl::Seconds(2) : absl::Seconds(10));
  const ActorStats& stats = actor->stats();
  out << "actor " << options.actor_id << " done: " << stats.env_steps << " env steps ("
      << std::fixed << std::setprecision(0)
      << stats.env_steps / absl::ToDoubleSeconds(absl::Now() - start) << "/s), " << stats.episodes
      << " episodes, weights version " << stats.weights_version << ", "
      << actor->sender().acknowledged_transitions() << " transitions stored, "
      << actor->sender().dropped_transitions() << " dropped" << std::endl;
  double latency_sum = 0, latency_count = 0, action_sum = 0, action_count = 0;
  for (const auto& [key, value] : metrics->Snapshot()) {
    if (key == "tandem_weights_receive_latency_seconds_sum{}") latency_sum = value;
    if (key == "tandem_weights_receive_latency_seconds_count{}") latency_count = value;
    if (key == "tandem_actor_action_selection_seconds_sum{}") action_sum = value;
    if (key == "tandem_actor_action_selection_seconds_count{}") action_count = value;
  }
  if (action_count > 0) {
    out << "  action selection " << std::setprecision(3) << 1e3 * action_sum / action_count
        << " ms per step for " << config.actors().envs_per_actor() << " envs" << std::endl;
  }
  if (latency_count > 0) {
    out << "  weights publish-to-receive latency " << std::setprecision(2)
        << 1e3 * latency_sum / latency_count << " ms mean over " << latency_count << " versions"
        << std::endl;
  }
  return absl::OkStatus();
}

}  // namespace

cli::Command ActorCommand() {
  cli::Command command("actor",
                       "Run an actor process: step a pool of envs with the configured selector and "
                       "stream transitions to the replay server.");
  command.flags = ConfigFlags();
  command.flags.insert(
      command.flags.end(),
      {
          {"id", cli::FlagKind::kInt,
           "This actor's id (seeds its envs); -1 derives it from the hostname (scaled replicas).",
           "0", "N"},
          {"replay", cli::FlagKind::kString, "Replay server address (required unless --eval).", "",
           "HOST:PORT"},
          {"learner", cli::FlagKind::kString, "The learner's weights address (empty: no sync).", "",
           "HOST:PORT"},
          {"steps", cli::FlagKind::kInt, "Stop after this many env steps (0 = until SIGTERM).", "0",
           "N"},
          {"eval", cli::FlagKind::kBool,
           "Be the evaluator: follow the learner's weights and evaluate the offline, online and "
           "CBS-composed policies deterministically (no replay needed).",
           "false"},
          {"eval_out", cli::FlagKind::kString, "With --eval: append every evaluation to this CSV.",
           "", "FILE"},
          {"port_file", cli::FlagKind::kString, "Write '<metrics port>' to FILE once serving.", "",
           "FILE"},
      });
  command.run = cli::StatusHandler("tandem actor", RunActor);
  return command;
}

}  // namespace tandem::actor
