#include "learner/learner_command.h"

#include <filesystem>
#include <fstream>
#include <iomanip>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/config.h"
#include "common/config_command.h"
#include "common/files.h"
#include "common/grpc_security.h"
#include "common/logging.h"
#include "common/replay_client.h"
#include "common/shutdown.h"
#include "common/status_macros.h"
#include "learner/learner.h"

namespace tandem::learner {
namespace {

absl::Status RunLearner(const cli::Args& args, std::ostream& out) {
  ASSIGN_OR_RETURN(ExperimentConfig config, LoadConfigFromArgs(args));
  const std::string phase = args.GetString("phase");
  if (phase != "offline" && phase != "online") {
    return absl::InvalidArgumentError(
        absl::StrCat("--phase must be offline or online, got '", phase, "'"));
  }
  const int rank = static_cast<int>(args.GetInt("rank"));
  const int world = config.learner().num_learners();
  if (rank < 0 || rank >= world) {
    return absl::InvalidArgumentError(absl::StrCat("--rank ", rank, " is outside the ", world,
                                                   " learner(s) of learner.num_learners"));
  }
  InstallShutdownHandlers();
  ASSIGN_OR_RETURN(std::string token, ResolveAuthToken(config.security()));
  ASSIGN_OR_RETURN(auto metrics, MetricsRegistry::Create(config.metrics().enabled()
                                                             ? config.metrics().learner_address()
                                                             : std::string()));
  ASSIGN_OR_RETURN(auto client, replay::ReplayClient::Connect(args.GetString("replay"),
                                                              config.security(), token));
  RETURN_IF_ERROR(client->WaitUntilReady(absl::Seconds(args.GetDouble("connect_timeout"))));
  // The shapes come from the replay server's tables (its dataset, replay.shape_from_env, or the
  // first insert), never from building an env here.
  ASSIGN_OR_RETURN(ServerInfoResponse info, client->Info());
  if (info.spec().num_agents() == 0) {
    LOG(INFO) << "learner: waiting for the replay server's transition shapes (they come with the "
                 "first insert; replay.shape_from_env gives them at startup)";
  }
  while (info.spec().num_agents() == 0) {
    if (ShutdownRequested()) return absl::CancelledError("interrupted");
    absl::SleepFor(absl::Milliseconds(200));
    ASSIGN_OR_RETURN(info, client->Info());
  }
  const TransitionSpec spec = info.spec();

  std::unique_ptr<DataParallel> data_parallel;
  if (world > 1) {
    const std::string master = args.GetString("master");
    const size_t colon = master.rfind(':');
    int port = 0;
    if (colon == std::string::npos || !absl::SimpleAtoi(master.substr(colon + 1), &port)) {
      return absl::InvalidArgumentError(
          absl::StrCat("--master must be host:port for num_learners > 1, got '", master, "'"));
    }
    ASSIGN_OR_RETURN(const c10::Device device, ResolveDevice(config.learner().device()));
    DataParallelOptions options{rank, world, master.substr(0, colon), port};
    options.cuda = device.is_cuda();
    ASSIGN_OR_RETURN(data_parallel, DataParallel::Create(options));
  }

  std::unique_ptr<ParameterServer> parameters;
  if (rank == 0) {
    ASSIGN_OR_RETURN(parameters, ParameterServer::Start(config.learner().parameter_address(),
                                                        config.security(), metrics.get()));
  }
  const std::string dir = !config.learner().checkpoint_dir().empty()
                              ? config.learner().checkpoint_dir()
                              : absl::StrCat(config.run_root(), "/", config.name());
  std::filesystem::create_directories(dir);
  LearnerOptions options;
  options.config = config;
  options.spec = spec;
  options.phase = phase;
  const int64_t deployment = args.GetInt("deployment");
  if (deployment < 0 || (deployment > 0 && phase != "online")) {
    return absl::InvalidArgumentError(
        absl::StrCat("--deployment must be >= 1 with --phase online (0: no deployments), got ",
                     deployment, " with --phase ", phase));
  }
  if (deployment > 0 && config.learner().num_learners() > 1) {
    return absl::InvalidArgumentError(
        "--deployment: deployment-driven training runs one learner (learner.num_learners = 1)");
  }
  options.deployment = static_cast<int>(deployment);
  options.checkpoint_path = absl::StrCat(dir, "/", phase, ".pt");
  options.publisher = parameters ? &parameters->service() : nullptr;
  options.metrics = metrics.get();
  options.data_parallel = data_parallel.get();
  ASSIGN_OR_RETURN(auto learner, Learner::Create(options, *client));

  const bool resume = args.GetBool("resume") && std::filesystem::exists(options.checkpoint_path);
  if (resume) {
    ASSIGN_OR_RETURN(CheckpointInfo restored, learner->Restore(options.checkpoint_path));
    out << "resumed from " << options.checkpoint_path << " at update " << restored.updates
        << std::endl;
  } else if (phase == "online") {
    if (!config.learner().offline_checkpoint().empty()) {
      RETURN_IF_ERROR(learner->StartOnlineFrom(config.learner().offline_checkpoint()));
      if (config.learner().probe_every_updates() > 0) {
        // A run without a dataset has nothing to probe: it trains on, without the statistics.
        if (absl::Status probe = learner->SetUpProbe(*client); !probe.ok()) {
          out << "learner.probe_every_updates: no probe (" << probe.message() << ")" << std::endl;
        }
      }
    } else if (config.replay().offline_ratio() > 0) {
      return absl::InvalidArgumentError(
          "learner.offline_checkpoint: the online phase starts from an offline checkpoint (or "
          "trains from scratch with replay.offline_ratio = 0)");
    } else {
      out << "no offline checkpoint and replay.offline_ratio = 0: training from scratch"
          << std::endl;
    }
  }
  if (deployment > 0) learner->algorithm().BeginDeployment();
  if (parameters != nullptr) {
    RETURN_IF_ERROR(learner->Publish());
    if (const std::string& port_file = args.GetString("port_file"); !port_file.empty()) {
      RETURN_IF_ERROR(WriteFileAtomically(
          port_file, absl::StrCat(parameters->port(), " ", metrics->port(), "\n")));
    }
  }
  out << "tandem learner: rank " << rank << "/" << world << ", " << phase << " phase, "
      << learner->algorithm().name()
      << (phase == "online" && learner->algorithm().name() == "omiga"
              ? absl::StrCat(" (online update ", config.algorithm().omiga().online_update(), ")")
              : "")
      << " on " << learner->device().str()
      << (parameters ? absl::StrCat(", weights on port ", parameters->port()) : "") << std::endl;

  // Offline: a fixed number of updates. A deployment: L more. Online: until the actors have taken
  // online_env_steps steps.
  const int64_t target = phase == "offline"
                             ? config.learner().offline_updates()
                             : (deployment > 0 ? learner->algorithm().updates() +
                                                     config.learner().deployments().updates()
                                               : std::numeric_limits<int64_t>::max());
  absl::Time last_poll = absl::InfinitePast();
  bool done = false;
  auto stop = [&]() {
    if (ShutdownRequested() || done) return true;
    if (phase == "online" && deployment == 0 && absl::Now() - last_poll > absl::Seconds(1)) {
      last_poll = absl::Now();
      auto state = client->Info(absl::Seconds(5));
      if (state.ok()) {
        for (const TableInfo& table : state->tables()) {
          if (table.name() != "online") continue;
          learner->algorithm().set_env_steps(table.inserted_steps());
          done = table.inserted_steps() >= config.learner().online_env_steps();
        }
      }
    }
    return done;
  };
  RETURN_IF_ERROR(learner->Train(target, stop, [&](const LearnerProgress& p) {
    out << "  updates " << p.updates << "  " << std::fixed << std::setprecision(1)
        << p.updates_per_second << " updates/s" << std::setprecision(3);
    // Every loss term the algorithm reports (q/v/policy for OMIGA, td for QMIX, ...).
    for (const auto& [name, value] : p.last) {
      if (absl::EndsWith(name, "_loss")) out << "  " << name << " " << value;
    }
    out << "  batch wait " << std::setprecision(0) << 100 * p.batch_wait_fraction << "%"
        << std::endl;
  }));
  if (rank == 0) {
    out << "learner finished at update " << learner->algorithm().updates() << "; checkpoint "
        << options.checkpoint_path << std::endl;
  } else {
    out << "learner rank " << rank << " finished at update " << learner->algorithm().updates()
        << " (rank 0 writes the checkpoint)" << std::endl;
  }
  if (parameters != nullptr) parameters->Shutdown();
  return absl::OkStatus();
}

}  // namespace

cli::Command LearnerCommand() {
  cli::Command command("learner",
                       "Run a learner process: train from a replay server, publish weights, write "
                       "checkpoints (one rank of learner.num_learners data-parallel learners).");
  command.flags = ConfigFlags();
  command.flags.insert(
      command.flags.end(),
      {
          {"replay", cli::FlagKind::kString, "Replay server address.", "", "HOST:PORT", true},
          {"phase", cli::FlagKind::kString, "offline (pretraining) or online (fine-tuning).",
           "offline", "PHASE"},
          {"rank", cli::FlagKind::kInt, "This learner's rank among learner.num_learners.", "0",
           "R"},
          {"master", cli::FlagKind::kString, "Rendezvous host:port served by rank 0.",
           "127.0.0.1:29500", "HOST:PORT"},
          {"deployment", cli::FlagKind::kInt,
           "OTC: train after deployment K on the tables merged and deployment-K, "
           "learner.deployments.updates updates (0: no deployments).",
           "0", "K"},
          {"resume", cli::FlagKind::kBool, "Continue from this phase's checkpoint if it exists.",
           "false"},
          {"connect_timeout", cli::FlagKind::kDouble, "Seconds to wait for the replay server.",
           "60", "S"},
          {"port_file", cli::FlagKind::kString,
           "Write '<weights port> <metrics port>' to FILE once serving.", "", "FILE"},
      });
  command.run = cli::StatusHandler("tandem learner", RunLearner);
  return command;
}

}  // namespace tandem::learner
