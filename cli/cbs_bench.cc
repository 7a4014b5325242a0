#include "cli/cbs_bench.h"

#include <ATen/Parallel.h>

#include <filesystem>
#include <iomanip>
#include <map>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "actor/actor.h"
#include "common/config.h"
#include "common/status_macros.h"
#include "envs/env_command.h"
#include "envs/registry.h"
#include "learner/checkpoint.h"
#include "learner/omiga.h"
#include "replay_server/replay_server.h"

namespace tandem {
namespace {

// An offline checkpoint of randomly initialised OMIGA networks for `env`, written once to `scratch`
// (the benchmarks time selection, not the quality of the networks).
absl::StatusOr<std::string> RandomNetworkCheckpoint(const std::string& env,
                                                    const AlgorithmConfig& algorithm,
                                                    const std::string& scratch) {
  const std::string checkpoint = absl::StrCat(scratch, "/", std::hash<std::string>()(env), ".pt");
  if (std::filesystem::exists(checkpoint)) return checkpoint;
  ASSIGN_OR_RETURN(auto probe, envs::CreateEnv(env));
  learner::AlgorithmContext context;
  context.spec = probe->spec().ToTransitionSpec();
  context.config = algorithm;
  ASSIGN_OR_RETURN(auto omiga, learner::Omiga::Create(context));
  RETURN_IF_ERROR(
      learner::SaveCheckpoint(checkpoint, *omiga, {"omiga", context.spec, 0, 0, "offline"}));
  return checkpoint;
}

// Seconds per decision step of `selector` on `env` with 16 envs, using networks initialised at
// random and saved as the offline checkpoint the actor loads.
absl::StatusOr<double> TimeSelector(const std::string& env, const std::string& selector,
                                    int iterations, const std::string& scratch) {
  ExperimentConfig config;
  config.mutable_env()->set_name(env);
  config.mutable_selector()->set_name(selector);
  config.mutable_actors()->set_envs_per_actor(16);
  FillDefaults(&config);
  ASSIGN_OR_RETURN(const std::string checkpoint,
                   RandomNetworkCheckpoint(env, config.algorithm(), scratch));
  actor::ActorOptions options;
  options.config = config;
  // Selection never sends; the replay address is never contacted.
  ASSIGN_OR_RETURN(auto client, replay::ReplayClient::Connect("127.0.0.1:1", SecurityConfig(), ""));
  options.replay = std::move(client);
  options.offline_checkpoint = checkpoint;
  ASSIGN_OR_RETURN(auto actor, actor::Actor::Create(options));
  return actor->TimeSelection(iterations);
}

// Env steps/s of one actor (CBS, `threads` actor threads) streaming every transition to a replay
// server in this process, after a warm-up that touches the replay table's pages once (a table
// small enough to fill during the warm-up, so the timed part sees a replay in steady state).
absl::StatusOr<double> MeasureActor(const std::string& env, int envs, int threads,
                                    absl::Duration duration, const std::string& scratch,
                                    int64_t* stored) {
  ExperimentConfig config;
  config.mutable_env()->set_name(env);
  config.mutable_actors()->set_envs_per_actor(envs);
  config.mutable_actors()->set_threads(threads);
  config.mutable_replay()->set_offline_ratio(0);
  config.mutable_replay()->set_address("127.0.0.1:0");
  config.mutable_replay()->set_online_capacity(32768);
  FillDefaults(&config);
  ASSIGN_OR_RETURN(auto metrics, MetricsRegistry::Create(""));
  ASSIGN_OR_RETURN(auto replay, replay::ReplayServer::Start(config, metrics.get()));
  ASSIGN_OR_RETURN(const std::string checkpoint,
                   RandomNetworkCheckpoint(env, config.algorithm(), scratch));
  actor::ActorOptions options;
  options.config = config;
  ASSIGN_OR_RETURN(auto client,
                   replay::ReplayClient::Connect(replay->address(), SecurityConfig(), ""));
  options.replay = std::move(client);
  options.offline_checkpoint = checkpoint;
  ASSIGN_OR_RETURN(auto actor, actor::Actor::Create(options));
  const absl::Time warm = absl::Now();
  RETURN_IF_ERROR(actor->Run([&] { return absl::Now() - warm >= absl::Seconds(2); },
                             std::numeric_limits<int64_t>::max()));
  const int64_t steps_before = actor->stats().env_steps;
  const absl::Time start = absl::Now();
  RETURN_IF_ERROR(actor->Run([&] { return absl::Now() - start >= duration; },
                             std::numeric_limits<int64_t>::max()));
  const double seconds = absl::ToDoubleSeconds(absl::Now() - start);
  actor->sender().Close(absl::Seconds(30));
  *stored = actor->sender().acknowledged_transitions();
  replay->Shutdown();
  return (actor->stats().env_steps - steps_before) / seconds;
}

absl::Status RunActorBench(const cli::Args& args, std::ostream& out) {
  at::set_num_threads(1);  // as in actor processes
  const std::string env = args.GetString("env");
  const int envs = static_cast<int>(args.GetInt("envs"));
  const absl::Duration duration = absl::Seconds(args.GetDouble("seconds"));
  const std::string scratch = args.GetString("scratch");
  std::filesystem::create_directories(scratch);
  std::vector<int> thread_counts;
  for (absl::string_view part : absl::StrSplit(args.GetString("threads"), ',')) {
    int threads = 0;
    if (!absl::SimpleAtoi(part, &threads) || threads < 1) {
      return absl::InvalidArgumentError(absl::StrCat(
          "--threads must be a comma-separated list of counts >= 1, got '", part, "'"));
    }
    thread_counts.push_back(threads);
  }
  out << "tandem bench actor: " << env << ", " << envs << " envs, selector cbs (K = 5), "
      << absl::FormatDuration(duration) << " each, streaming to a replay server in this process"
      << std::endl;
  std::vector<double> rates;
  for (int threads : thread_counts) {
    int64_t stored = 0;
    ASSIGN_OR_RETURN(const double rate,
                     MeasureActor(env, envs, threads, duration, scratch, &stored));
    rates.push_back(rate);
    out << "  actor, " << threads << " thread(s): " << std::fixed << std::setprecision(0)
        << std::setw(7) << rate << " env steps/s (select + step + stream; " << stored
        << " transitions stored)" << std::endl;
  }
  ASSIGN_OR_RETURN(const double physics_rate, envs::RawPhysicsStepsPerSecond(env, duration));
  out << "  raw physics, 1 thread: " << std::setw(7) << physics_rate
      << " env steps/s (mj_step x frame_skip only)\n";
  for (size_t i = 0; i < rates.size(); ++i) {
    out << "  ratio actor (" << thread_counts[i]
        << " thread(s)) / raw physics: " << std::setprecision(2) << rates[i] / physics_rate << "\n";
  }
  return absl::OkStatus();
}

absl::Status RunBench(const cli::Args& args, std::ostream& out) {
  at::set_num_threads(static_cast<int>(args.GetInt("threads")));
  const int iterations = static_cast<int>(args.GetInt("iterations"));
  const std::string scratch = args.GetString("scratch");
  std::filesystem::create_directories(scratch);
  out << "tandem bench cbs: action selection per decision step, 16 envs, K = 5, "
      << at::get_num_threads() << " threads, " << iterations << " steps each\n";
  for (const std::string env : {"mamujoco/Ant-8x1", "mamujoco/HalfCheetah-6x1"}) {
    std::map<std::string, double> times;
    for (const std::string selector : {"online", "pex", "cbs", "exhaustive"}) {
      ASSIGN_OR_RETURN(times[selector], TimeSelector(env, selector, iterations, scratch));
    }
    out << "  " << env << "\n";
    for (const auto& [selector, seconds] : times) {
      out << "    " << std::left << std::setw(11) << selector << std::right << std::fixed
          << std::setprecision(3) << std::setw(8) << seconds * 1e3 << " ms   "
          << std::setprecision(2) << seconds / times["pex"] << " x pex\n";
    }
  }
  out << "  agent scaling (cbs, Ant factorizations; per-agent input size varies with N):\n";
  std::map<int, double> scaling;
  for (const auto& [n, env] :
       std::vector<std::pair<int, std::string>>{{2, "mamujoco/Ant-2x4"},
                                                {4, "mamujoco/Ant-4x2"},
                                                {6, "mamujoco/HalfCheetah-6x1"},
                                                {8, "mamujoco/Ant-8x1"}}) {
    ASSIGN_OR_RETURN(scaling[n], TimeSelector(env, "cbs", iterations, scratch));
    out << "    N = " << n << "  " << std::setprecision(3) << scaling[n] * 1e3 << " ms   "
        << std::setprecision(2) << scaling[n] / scaling[2] << " x N = 2\n";
  }
  return absl::OkStatus();
}

}  // namespace

cli::Command CbsBenchCommand() {
  cli::Command command("cbs",
                       "Action-selection time of online, pex, cbs and exhaustive with 16 envs on "
                       "Ant-8x1 and HalfCheetah-6x1, and cbs's scaling with the number of agents.");
  command.flags = {
      {"iterations", cli::FlagKind::kInt, "Decision steps timed per selector.", "200", "N"},
      {"threads", cli::FlagKind::kInt, "LibTorch intra-op threads.", "1", "N"},
      {"scratch", cli::FlagKind::kString, "Directory for the random-network checkpoints.",
       "/tmp/tandem-bench-cbs", "DIR"},
  };
  command.run = cli::StatusHandler("tandem bench cbs", RunBench);
  return command;
}

cli::Command ActorBenchCommand() {
  cli::Command command(
      "actor",
      "Env steps/s of one actor with CBS streaming to a replay server, next to the "
      "raw physics steps/s of the same model.");
  command.flags = {
      {"env", cli::FlagKind::kString, "Environment.", "mamujoco/HalfCheetah-6x1", "ENV"},
      {"seconds", cli::FlagKind::kDouble, "Duration of each measurement.", "5", "S"},
      {"threads", cli::FlagKind::kString,
       "Actor thread counts to measure, comma-separated (actors.threads).", "1,2", "N[,N...]"},
      {"envs", cli::FlagKind::kInt, "Envs in the actor's pool (actors.envs_per_actor).", "16", "N"},
      {"scratch", cli::FlagKind::kString, "Directory for the random-network checkpoint.",
       "/tmp/tandem-bench-cbs", "DIR"},
  };
  command.run = cli::StatusHandler("tandem bench actor", RunActorBench);
  return command;
}

}  // namespace tandem
