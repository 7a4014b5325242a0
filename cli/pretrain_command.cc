#include "cli/pretrain_command.h"

#include <filesystem>
#include <iomanip>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "actor/evaluator.h"
#include "common/config.h"
#include "common/config_command.h"
#include "common/logging.h"
#include "common/networks/weights.h"
#include "common/policies/acting_policy.h"
#include "common/replay_client.h"
#include "common/shutdown.h"
#include "common/status_macros.h"
#include "common/transition_schema.h"
#include "envs/registry.h"
#include "learner/learner.h"
#include "learner/parameter_service.h"
#include "replay_server/replay_server.h"

namespace tandem {
namespace {

std::string DefaultCheckpointPath(const ExperimentConfig& config) {
  const std::string dir = !config.learner().checkpoint_dir().empty()
                              ? config.learner().checkpoint_dir()
                              : absl::StrCat(config.run_root(), "/", config.name());
  return absl::StrCat(dir, "/offline.pt");
}

absl::Status RunPretrain(const cli::Args& args, std::ostream& out) {
  ASSIGN_OR_RETURN(ExperimentConfig config, LoadConfigFromArgs(args));
  if (config.dataset().path().empty()) {
    return absl::InvalidArgumentError("dataset.path: pretraining needs an offline dataset");
  }
  // The dataset must be of the configured env (checked before anything starts).
  ASSIGN_OR_RETURN(std::unique_ptr<OfflineDataSource> dataset,
                   replay::OpenOfflineDataset(config.dataset()));
  RETURN_IF_ERROR(replay::CheckDatasetForEnv(config, *dataset));

  InstallShutdownHandlers();
  ASSIGN_OR_RETURN(auto metrics, MetricsRegistry::Create(config.metrics().enabled()
                                                             ? config.metrics().learner_address()
                                                             : std::string()));
  // The replay server serves the dataset at rho = 1; it runs in this process but is reached over
  // real gRPC on loopback, exactly as a separate replay process would be.
  ExperimentConfig replay_config = config;
  replay_config.mutable_replay()->set_offline_ratio(1.0);
  replay_config.mutable_replay()->set_address("127.0.0.1:0");
  replay_config.mutable_replay()->set_wal_dir("");
  ASSIGN_OR_RETURN(auto replay, replay::ReplayServer::Start(replay_config, metrics.get()));
  ASSIGN_OR_RETURN(auto client, replay::ReplayClient::Connect(replay->address(), config.security(),
                                                              std::string()));
  ASSIGN_OR_RETURN(ServerInfoResponse info, client->Info());

  ASSIGN_OR_RETURN(auto parameters,
                   learner::ParameterServer::Start(config.learner().parameter_address(),
                                                   config.security(), metrics.get()));
  learner::LearnerOptions options;
  options.config = config;
  options.spec = info.spec();
  options.phase = "offline";
  options.checkpoint_path = args.GetString("checkpoint").empty() ? DefaultCheckpointPath(config)
                                                                 : args.GetString("checkpoint");
  std::filesystem::create_directories(std::filesystem::path(options.checkpoint_path).parent_path());
  options.publisher = &parameters->service();
  options.metrics = metrics.get();
  ASSIGN_OR_RETURN(auto learner, learner::Learner::Create(options, *client));

  const int64_t total = config.learner().offline_updates();
  out << "tandem pretrain: " << config.algorithm().name() << " on " << config.dataset().path()
      << " (" << info.tables(0).size()
      << (info.spec().episode_steps() > 0 ? " episodes, " : " transitions, ")
      << DescribeSpec(info.spec()) << "), " << total << " updates on " << learner->device().str()
      << std::endl;
  const absl::Time start = absl::Now();
  RETURN_IF_ERROR(learner->Train(
      total, [] { return ShutdownRequested(); },
      [&](const learner::LearnerProgress& p) {
        const double eta =
            p.updates_per_second > 0 ? (total - p.updates) / p.updates_per_second : 0;
        out << "  updates " << p.updates << "/" << total << "  " << std::fixed
            << std::setprecision(1) << p.updates_per_second << " updates/s";
        // OMIGA's losses, or QMIX's TD and conservative terms with the mean Q_tot and target.
        for (const char* term : {"q_loss", "v_loss", "policy_loss", "td_loss", "cql_loss",
                                 "q_tot_mean", "target_mean"}) {
          if (auto it = p.last.find(term); it != p.last.end()) {
            out << "  " << term << " " << std::setprecision(3) << it->second;
          }
        }
        out << "  batch wait " << std::setprecision(0) << 100 * p.batch_wait_fraction << "%  ETA "
            << eta << " s" << std::endl;
      }));
  const double seconds = absl::ToDoubleSeconds(absl::Now() - start);
  out << "trained " << learner->algorithm().updates() << " updates in " << std::fixed
      << std::setprecision(1) << seconds << " s; offline checkpoint " << options.checkpoint_path
      << std::endl;

  // Evaluate the deterministic policy, using the published weights like an evaluator process.
  const int episodes = config.evaluation().episodes();
  if (episodes > 0) {
    ASSIGN_OR_RETURN(Weights weights, networks::PackWeights(learner->algorithm().PublishedModules(),
                                                            learner->algorithm().name(), 1, 0));
    ASSIGN_OR_RETURN(
        std::unique_ptr<policies::ActingPolicy> policy,
        policies::CreateActingPolicy(policies::PolicyContext{info.spec(), config.algorithm(), ""}));
    RETURN_IF_ERROR(policy->LoadWeights(weights));
    ASSIGN_OR_RETURN(
        actor::EvaluationResult eval,
        actor::EvaluateNamedPolicy(
            config.env().name(),
            envs::EnvOptions(config.env().options().begin(), config.env().options().end()), *policy,
            "online", config.selector().beam_width(), episodes, config.seed()));
    out << "evaluation: " << eval.episodes << " episodes, return " << std::setprecision(1)
        << eval.mean_return << " +- " << eval.std_return << " (min " << eval.min_return << ", max "
        << eval.max_return << ", mean length " << eval.mean_length << ")";
    if (eval.reports_wins) out << ", win rate " << std::setprecision(3) << eval.win_rate;
    if (!std::isnan(config.evaluation().random_return()) &&
        !std::isnan(config.evaluation().expert_return())) {
      out << ", normalized score "
          << actor::NormalizedScore(eval.mean_return, config.evaluation().random_return(),
                                    config.evaluation().expert_return());
    }
    out << std::endl;
  }
  parameters->Shutdown();
  replay->Shutdown();
  return absl::OkStatus();
}

}  // namespace

cli::Command PretrainCommand() {
  cli::Command command("pretrain",
                       "Train the algorithm offline on the configured dataset through the replay "
                       "server (rho = 1), evaluate it, and write the offline checkpoint.");
  command.flags = ConfigFlags();
  command.flags.insert(
      command.flags.end(),
      {
          {"checkpoint", cli::FlagKind::kString,
           "Where to write the offline checkpoint (default <run_root>/<name>/offline.pt, or "
           "learner.checkpoint_dir/offline.pt).",
           "", "PATH"},
      });
  command.run = cli::StatusHandler("tandem pretrain", RunPretrain);
  return command;
}

}  // namespace tandem
