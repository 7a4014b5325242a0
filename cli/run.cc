#include "cli/run.h"

#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <iomanip>
#include <map>
#include <sstream>

#include "absl/cleanup/cleanup.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "actor/evaluator.h"
#include "cli/build_revision.h"
#include "cli/cluster.h"
#include "cli/loopback_port.h"
#include "cli/pretrain_cache.h"
#include "cli/run_report.h"
#include "cli/subprocess.h"
#include "common/config.h"
#include "common/config_command.h"
#include "common/files.h"
#include "common/grpc_security.h"
#include "common/metrics_scrape.h"
#include "common/policies/acting_policy.h"
#include "common/replay_client.h"
#include "common/shutdown.h"
#include "common/status_macros.h"
#include "envs/registry.h"
#include "learner/checkpoint.h"
#include "replay_server/replay_server.h"

namespace tandem {
namespace {

namespace fs = std::filesystem;

// "family/task(k=v,...)": the registry name of the configured env with its options.
std::string EnvSpecString(const EnvConfig& env) {
  if (env.options().empty()) return env.name();
  std::map<std::string, std::string> sorted(env.options().begin(), env.options().end());
  std::vector<std::string> pairs;
  for (const auto& [key, value] : sorted) pairs.push_back(absl::StrCat(key, "=", value));
  return absl::StrCat(env.name(), "(", absl::StrJoin(pairs, ","), ")");
}

// The last non-empty line of a text file (from its final 4 KiB), "" when there is none.
std::string LastLine(const std::string& path) {
  std::ifstream file(path, std::ios::binary | std::ios::ate);
  if (!file) return "";
  const std::streamoff size = file.tellg();
  const std::streamoff start = std::max<std::streamoff>(0, size - 4096);
  file.seekg(start);
  std::string tail(static_cast<size_t>(size - start), '\0');
  file.read(tail.data(), static_cast<std::streamsize>(tail.size()));
  std::vector<std::string> lines = absl::StrSplit(tail, absl::ByAnyChar("\r\n"), absl::SkipEmpty());
  return lines.empty() ? "" : lines.back();
}

// The git revision this binary was built from (cli/build_revision.h): the tree may have moved on
// since, or be gone, when the binary runs.
std::string SourceRevision() { return absl::StrCat(cli::BuildRevision(), "\n"); }

// The environment variable through which `tandem run` hands its generated token to its children.
constexpr char kRunTokenVariable[] = "TANDEM_RUN_AUTH_TOKEN";

// 32 random bytes from the kernel, as 64 hex digits.
absl::StatusOr<std::string> RandomToken() {
  std::ifstream urandom("/dev/urandom", std::ios::binary);
  std::string bytes(32, '\0');
  if (!urandom.read(bytes.data(), static_cast<std::streamsize>(bytes.size()))) {
    return absl::UnavailableError("cannot read /dev/urandom for the run's authentication token");
  }
  return absl::BytesToHexString(bytes);
}

// Supervises one run: phases collect -> pretrain -> online, then the before/after evaluation.
class Run {
 public:
  Run(ExperimentConfig config, std::string dir, std::ostream& out)
      : config_(std::move(config)),
        dir_(std::move(dir)),
        out_(out),
        exe_(CurrentExecutable()),
        cluster_(dir_, config_.run().max_restarts(),
                 absl::Seconds(config_.run().health_timeout_seconds()), out),
        report_(dir_),
        tty_(isatty(STDOUT_FILENO)) {}

  absl::Status Execute() {
    RETURN_IF_ERROR(Prepare());
    RETURN_IF_ERROR(CollectIfMissing());
    RETURN_IF_ERROR(CheckDataset());
    RETURN_IF_ERROR(Pretrain());
    RETURN_IF_ERROR(FineTune());
    return Finish();
  }

  // On failure or interrupt: stop what runs and still leave the summary of what was done.
  void Abort(const absl::Status& status) {
    cluster_.StopAll();
    int64_t updates_before = 0;  // the online learner continues the offline one's counter
    if (phase_ == "online" && !offline_checkpoint_.empty()) {
      if (auto info = learner::ReadCheckpointInfo(offline_checkpoint_); info.ok()) {
        updates_before = info->updates;
      }
    }
    report_.RecordUnfinishedPhase(updates_before);
    report_.set_outcome(absl::IsCancelled(status) ? "interrupted"
                                                  : "failed: " + std::string(status.message()));
    report_.set_restarts(cluster_.total_restarts(), cluster_.restarts_by_role());
    (void)report_.WriteSummary(out_);
  }

 private:
  std::string ConfigPath() const { return dir_ + "/config.textproto"; }
  std::string CheckpointDir() const { return dir_ + "/checkpoints"; }
  std::string PortFile(const std::string& name) const { return dir_ + "/ports/" + name; }
  // The online replay server's write-ahead log when replay.wal_dir is unset and servers restart.
  std::string WalDir() const { return dir_ + "/wal"; }

  std::vector<std::string> RoleArgs(std::vector<std::string> role,
                                    const std::vector<std::string>& overrides) const {
    std::vector<std::string> argv{exe_};
    argv.insert(argv.end(), role.begin(), role.end());
    argv.push_back("--config");
    argv.push_back(ConfigPath());
    for (const std::string& assignment : overrides) {
      argv.push_back("--set");
      argv.push_back(assignment);
    }
    return argv;
  }

  absl::Status Prepare() {
    fs::create_directories(CheckpointDir());
    fs::create_directories(dir_ + "/ports");
    // Every child reads this file: loopback addresses with free ports, checkpoints in the run.
    config_.mutable_replay()->set_address("127.0.0.1:0");
    // The replay server knows the env's shapes from the start, so the learner never waits for
    // the first insert and a dataset of another env is refused at once.
    config_.mutable_replay()->set_shape_from_env(true);
    config_.mutable_learner()->set_parameter_address("127.0.0.1:0");
    config_.mutable_learner()->set_checkpoint_dir(fs::absolute(CheckpointDir()).string());
    config_.mutable_metrics()->set_replay_address("127.0.0.1:0");
    config_.mutable_metrics()->set_learner_address("127.0.0.1:0");
    config_.mutable_metrics()->set_actor_address("127.0.0.1:0");
    config_.mutable_metrics()->set_enabled(true);
    if (!config_.dataset().path().empty()) {
      config_.mutable_dataset()->set_path(fs::absolute(config_.dataset().path()).string());
    }
    std::string authentication = absl::StrCat("token from $", config_.security().auth_token_env());
    if (config_.security().auth_token_env().empty()) {
      // Loopback ports are open to every local process: without a token any of them could insert
      // into the replay tables or pull weights. The children inherit the token through the
      // environment; it is never written to the run directory.
      ASSIGN_OR_RETURN(const std::string token, RandomToken());
      if (setenv(kRunTokenVariable, token.c_str(), 1) != 0) {
        return absl::InternalError(absl::StrCat("cannot set ", kRunTokenVariable));
      }
      config_.mutable_security()->set_auth_token_env(kRunTokenVariable);
      authentication = "token generated for this run";
    }
    RETURN_IF_ERROR(WriteFileAtomically(ConfigPath(), ToTextProto(config_)));
    RETURN_IF_ERROR(WriteFileAtomically(dir_ + "/git_revision.txt", SourceRevision()));
    report_.set_config(config_);
    out_ << "tandem run " << config_.name() << ": " << EnvSpecString(config_.env()) << ", "
         << config_.algorithm().name() << ", selector " << config_.selector().name() << ", "
         << config_.actors().num_actors() << " actors; " << authentication << "; run directory "
         << dir_ << std::endl;
    return absl::OkStatus();
  }

  // Starts the phase's learner as child `name` and, with learner.num_learners = M > 1,
  // data-parallel ranks 1..M-1 beside it (children `name`-rank-<r>, role learner-rank: they publish
  // nothing and write no checkpoint, so the run's report and dashboards read rank 0 alone). The
  // other ranks start first: rank 0 serves the c10d rendezvous and writes its port file only once
  // every rank has joined, and Cluster::Start waits for that file.
  absl::Status StartLearners(const std::string& name, const std::string& phase,
                             const std::string& replay, const std::vector<std::string>& overrides,
                             bool restartable = false) {
    const int world = config_.learner().num_learners();
    std::vector<std::string> role{"learner", "--phase", phase, "--replay", replay};
    // A restarted learner continues from its phase's latest checkpoint (none on a first start).
    if (restartable) role.push_back("--resume");
    std::vector<std::string> rank0 = role;
    rank0.insert(rank0.end(), {"--port_file", PortFile(name)});
    if (world > 1) {
      ASSIGN_OR_RETURN(const int port, FreeLoopbackPort());
      const std::string master = absl::StrCat("127.0.0.1:", port);
      for (int rank = 1; rank < world; ++rank) {
        std::vector<std::string> args = role;
        args.insert(args.end(), {"--rank", std::to_string(rank), "--master", master});
        ChildSpec spec{absl::StrCat(name, "-rank-", rank), "learner-rank",
                       RoleArgs(args, overrides), ""};
        spec.may_finish = true;
        RETURN_IF_ERROR(cluster_.Start(spec));
      }
      rank0.insert(rank0.end(), {"--rank", "0", "--master", master});
    }
    ChildSpec learner{name, "learner", RoleArgs(rank0, overrides), PortFile(name)};
    learner.may_finish = true;
    learner.restartable = restartable;
    RETURN_IF_ERROR(cluster_.Start(learner));
    if (restartable) {
      // A restart serves weights and metrics where actors and scrapers already look.
      const std::vector<int>& ports = cluster_.Find(name)->ports;
      cluster_.AppendRestartArgs(
          name, {"--set", absl::StrCat("learner.parameter_address=127.0.0.1:", ports.front()),
                 "--set", absl::StrCat("metrics.learner_address=127.0.0.1:", ports.back())});
    }
    return absl::OkStatus();
  }

  // Runs a one-shot child to completion; with `echo_log`, prints its log's latest line as the
  // phase's progress.
  absl::Status RunToCompletion(const ChildSpec& spec, bool echo_log = false) {
    RETURN_IF_ERROR(cluster_.Start(spec));
    const absl::Duration progress_every = absl::Seconds(config_.run().progress_interval_seconds());
    absl::Time next_progress = absl::Now() + progress_every;
    std::string last_echoed;
    while (true) {
      const ChildState* child = cluster_.Find(spec.name);
      RETURN_IF_ERROR(cluster_.Poll());
      if (child->finished) break;
      if (ShutdownRequested()) return absl::CancelledError("interrupted");
      if (echo_log && absl::Now() >= next_progress) {
        const std::string line = LastLine(cluster_.LogPath(spec.name));
        if (!line.empty() && line != last_echoed) PrintProgress(Progress(), line);
        last_echoed = line;
        next_progress = absl::Now() + progress_every;
      }
      absl::SleepFor(absl::Milliseconds(100));
    }
    cluster_.Stop(spec.name);
    return absl::OkStatus();
  }

  absl::Status CollectIfMissing() {
    const std::string& path = config_.dataset().path();
    if (path.empty() || fs::exists(path)) return absl::OkStatus();
    if (!config_.run().collect_config().empty()) return CollectBehaviour(path);
    const int64_t steps = config_.run().collect_random_steps();
    if (steps == 0) {
      return absl::NotFoundError(absl::StrCat(
          "dataset.path: ", path,
          " does not exist (set run.collect_random_steps or run.collect_config to have tandem "
          "run record a dataset there first)"));
    }
    BeginPhase("collect");
    out_ << "[collect] recording " << steps << " random-policy steps of "
         << EnvSpecString(config_.env()) << " into " << path << std::endl;
    fs::create_directories(fs::path(path).parent_path());
    ChildSpec spec{"dataset",
                   "dataset",
                   {exe_, "dataset", "random", "--env", EnvSpecString(config_.env()), "--steps",
                    std::to_string(steps), "--envs", "8", "--seed", std::to_string(config_.seed()),
                    "--out", path},
                   ""};
    spec.may_finish = true;
    RETURN_IF_ERROR(RunToCompletion(spec));
    EndPhase();
    return absl::OkStatus();
  }

  // run.collect_config: `tandem dataset collect` trains a behaviour policy and writes its tiers
  // into dataset.path's folder (its own run directory is <run>/collect).
  absl::Status CollectBehaviour(const std::string& path) {
    const std::string& collect_config = config_.run().collect_config();
    if (!fs::exists(collect_config)) {
      return absl::NotFoundError(
          absl::StrCat("run.collect_config: ", collect_config, " does not exist"));
    }
    BeginPhase("collect");
    std::string out_dir = fs::path(path).parent_path().string();
    if (out_dir.empty()) out_dir = ".";
    out_ << "[collect] training a behaviour policy (" << collect_config << ") and writing its "
         << "dataset tiers into " << out_dir << " (log: " << cluster_.LogPath("collect") << ")"
         << std::endl;
    ChildSpec spec{"collect",
                   "collect",
                   {exe_, "dataset", "collect", "--config", collect_config, "--run_dir",
                    dir_ + "/collect", "--set", "collection.out_dir=" + out_dir},
                   ""};
    spec.may_finish = true;
    RETURN_IF_ERROR(RunToCompletion(spec, /*echo_log=*/true));
    if (tty_) out_ << std::endl;
    if (!fs::exists(path)) {
      return absl::NotFoundError(absl::StrCat(
          "dataset.path: ", path, " was not written by the collection (", collect_config,
          " writes <Task>-<tier>.h5 files into ", out_dir, ": name one of them)"));
    }
    EndPhase();
    return absl::OkStatus();
  }

  // A dataset of another env (or obs mode, or shapes) fails here, before any process starts.
  absl::Status CheckDataset() {
    if (config_.dataset().path().empty()) return absl::OkStatus();
    ASSIGN_OR_RETURN(std::unique_ptr<OfflineDataSource> dataset,
                     replay::OpenOfflineDataset(config_.dataset()));
    RETURN_IF_ERROR(replay::CheckDatasetForEnv(config_, *dataset));
    // Normalized scores: reference returns the config leaves unset come from the dataset (files
    // of `tandem dataset collect` carry them; other files have no metadata to read).
    EvaluationConfig& eval = *config_.mutable_evaluation();
    if (std::isnan(eval.random_return()) && std::isnan(eval.expert_return())) {
      absl::StatusOr<DatasetMetadata> metadata = ReadDatasetMetadata(config_.dataset().path());
      if (metadata.ok() && metadata->random_return && metadata->expert_return) {
        eval.set_random_return(*metadata->random_return);
        eval.set_expert_return(*metadata->expert_return);
        out_ << absl::StrFormat(
                    "normalized scores against the dataset's reference returns: random %.1f, "
                    "expert %.1f",
                    eval.random_return(), eval.expert_return())
             << std::endl;
        RETURN_IF_ERROR(WriteFileAtomically(ConfigPath(), ToTextProto(config_)));
        report_.set_config(config_);
      }
    }
    return absl::OkStatus();
  }

  absl::Status Pretrain() {
    offline_checkpoint_ = config_.learner().offline_checkpoint();
    if (!offline_checkpoint_.empty()) {
      out_ << "[pretrain] skipped: starting from learner.offline_checkpoint " << offline_checkpoint_
           << std::endl;
      return absl::OkStatus();
    }
    if (config_.dataset().path().empty()) {
      if (config_.replay().offline_ratio() == 0) {
        out_ << "[pretrain] skipped: no dataset and replay.offline_ratio = 0, so the online phase "
                "trains from scratch"
             << std::endl;
        return absl::OkStatus();
      }
      return absl::InvalidArgumentError(
          "tandem run needs dataset.path (to pretrain), learner.offline_checkpoint, or "
          "replay.offline_ratio = 0 (online from scratch)");
    }
    // A shared offline checkpoint (run.pretrain_cache_dir): reuse one another run of the same
    // offline phase trained, wait while one is training it, or train it here and store it.
    const std::string& cache = config_.run().pretrain_cache_dir();
    std::string cache_key;
    bool claimed = false;
    if (!cache.empty()) {
      ASSIGN_OR_RETURN(cache_key, OfflinePhaseKey(config_, exe_));
      const std::string entry = PretrainCacheEntry(cache, cache_key);
      bool announced = false;
      while (true) {
        const std::string checkpoint = CheckpointDir() + "/offline.pt";
        ASSIGN_OR_RETURN(const bool fetched, FetchPretrained(cache, cache_key, checkpoint));
        if (fetched) {
          offline_checkpoint_ = checkpoint;
          ASSIGN_OR_RETURN(learner::CheckpointInfo info,
                           learner::ReadCheckpointInfo(offline_checkpoint_));
          out_ << "[pretrain] reused " << entry << ".pt (" << info.updates
               << " updates, trained by another run of the same offline phase)" << std::endl;
          report_.RecordLearnerResult(info.updates, 0);
          return absl::OkStatus();
        }
        ASSIGN_OR_RETURN(claimed, ClaimPretraining(cache, cache_key));
        if (claimed) break;
        if (!announced) {
          out_ << "[pretrain] waiting for another run training the same offline phase (" << entry
               << ".lock)" << std::endl;
          announced = true;
        }
        if (ShutdownRequested()) {
          return absl::CancelledError("interrupted while waiting for a shared offline checkpoint");
        }
        absl::SleepFor(absl::Seconds(2));
      }
    }
    absl::Cleanup release = [&] {
      if (claimed) ReleasePretraining(cache, cache_key);
    };
    BeginPhase("pretrain");
    RETURN_IF_ERROR(cluster_.Start({"replay-offline", "replay",
                                    RoleArgs({"replay", "--port_file", PortFile("replay-offline")},
                                             {"replay.offline_ratio=1", "replay.wal_dir="}),
                                    PortFile("replay-offline")}));
    const std::string replay =
        absl::StrCat("127.0.0.1:", cluster_.Find("replay-offline")->ports.front());
    RETURN_IF_ERROR(StartLearners("learner-offline", "offline", replay, {}));
    RETURN_IF_ERROR(Monitor("learner-offline", [&](const Progress& p) {
      std::string line = absl::StrFormat("updates %d/%d (%.0f/s)", p.updates,
                                         config_.learner().offline_updates(), p.updates_per_second);
      // Value-based learners report a Q loss (OMIGA) or a TD loss (QMIX), CQL its term.
      for (const auto& [name, value] : {std::pair<const char*, double>{"q_loss", p.q_loss},
                                        {"td_loss", p.td_loss},
                                        {"cql_loss", p.cql_loss}}) {
        if (!std::isnan(value)) absl::StrAppend(&line, absl::StrFormat("  %s %.3f", name, value));
      }
      return line;
    }));
    cluster_.StopAll();
    offline_checkpoint_ = CheckpointDir() + "/offline.pt";
    ASSIGN_OR_RETURN(learner::CheckpointInfo info,
                     learner::ReadCheckpointInfo(offline_checkpoint_));
    report_.RecordLearnerResult(info.updates, 0);
    if (claimed) {
      RETURN_IF_ERROR(StorePretrained(cache, cache_key, offline_checkpoint_));
      out_ << "[pretrain] stored as " << PretrainCacheEntry(cache, cache_key)
           << ".pt for runs of the same offline phase" << std::endl;
    }
    EndPhase();
    return absl::OkStatus();
  }

  // OTC's deployment-driven online phase (learner.deployments): one replay server holds the merged
  // set and every deployment's table; each deployment starts actors that act with the latest
  // checkpoint until they have collected M transitions, then a learner that runs L updates on
  // the merged and the deployment's tables and writes the next checkpoint, which is evaluated.
  absl::Status Deploy() {
    const DeploymentConfig& deployments = config_.learner().deployments();
    const int count = deployments.count();
    if (offline_checkpoint_.empty() || config_.dataset().path().empty()) {
      return absl::FailedPreconditionError(
          "learner.deployments: deployments fine-tune an offline checkpoint trained on a dataset "
          "(dataset.path and the pretrain phase)");
    }
    if (config_.actors().num_actors() < 1 || deployments.updates() < 1) {
      return absl::InvalidArgumentError(
          "learner.deployments needs actors.num_actors >= 1 and deployments.updates >= 1");
    }
    ASSIGN_OR_RETURN(std::unique_ptr<OfflineDataSource> dataset,
                     replay::OpenOfflineDataset(config_.dataset()));
    const int64_t dataset_size = dataset->size();
    dataset.reset();
    const int64_t envs = config_.actors().num_actors() * config_.actors().envs_per_actor();
    int64_t m = deployments.transitions() > 0 ? deployments.transitions()
                                              : std::max<int64_t>(1, dataset_size / 100);
    const int64_t rounds = (m + envs - 1) / envs;  // every env steps alike
    m = rounds * envs;
    const int64_t per_actor = rounds * config_.actors().envs_per_actor();
    // The tables: the merged set (the dataset, then every deployment's transitions) and one per
    // deployment. Nothing is rate-limited: all of a deployment's data is in before its updates.
    ReplayConfig* replay_config = config_.mutable_replay();
    for (const TableConfig& table : replay_config->tables()) {
      if (table.name() == "merged" || absl::StartsWith(table.name(), "deployment-")) {
        return absl::InvalidArgumentError(absl::StrCat(
            "replay.tables ", table.name(), ": the name is reserved for learner.deployments"));
      }
    }
    TableConfig* merged = replay_config->add_tables();
    merged->set_name("merged");
    merged->set_capacity(dataset_size + count * m);
    merged->set_preload_dataset(true);
    for (int k = 1; k <= count; ++k) {
      TableConfig* table = replay_config->add_tables();
      table->set_name(absl::StrCat("deployment-", k));
      table->set_capacity(m);
    }
    replay_config->set_min_size_to_sample(1);
    replay_config->set_samples_per_insert(0);
    replay_config->set_wal_dir("");
    RETURN_IF_ERROR(WriteFileAtomically(ConfigPath(), ToTextProto(config_)));

    BeginPhase("online");
    RETURN_IF_ERROR(cluster_.Start({"replay", "replay",
                                    RoleArgs({"replay", "--port_file", PortFile("replay")}, {}),
                                    PortFile("replay")}));
    const std::string replay = absl::StrCat("127.0.0.1:", cluster_.Find("replay")->ports.front());
    ASSIGN_OR_RETURN(const std::string token, ResolveAuthToken(config_.security()));
    ASSIGN_OR_RETURN(auto client, replay::ReplayClient::Connect(replay, config_.security(), token));
    const envs::EnvOptions options(config_.env().options().begin(), config_.env().options().end());
    ASSIGN_OR_RETURN(auto probe, envs::CreateEnv(config_.env().name(), options));
    const std::string online = CheckpointDir() + "/online.pt";
    const std::string csv_path = dir_ + "/deployments.csv";
    {
      std::ofstream csv(csv_path);
      csv << "deployment,online_env_steps,updates,merged_size,deployment_size,mean_return,"
             "std_return,episodes\n";
    }
    out_ << "[online] " << count << " deployments of " << m << " transitions (" << per_actor
         << " per actor), " << deployments.updates() << " updates after each; merged set starts "
         << "with the dataset's " << dataset_size << std::endl;
    int64_t updates = 0;
    for (int k = 1; k <= count; ++k) {
      const std::string acting = k == 1 ? offline_checkpoint_ : online;
      // Collect: the actors act with the last checkpoint and no weights service (nothing learns).
      std::vector<std::string> actor_names;
      for (int i = 0; i < config_.actors().num_actors(); ++i) {
        const std::string name = absl::StrCat("actor-", k, "-", i);
        const int id = (k - 1) * config_.actors().num_actors() + i;  // fresh env seeds each time
        ChildSpec spec{name, "actor",
                       RoleArgs({"actor", "--id", std::to_string(id), "--replay", replay, "--steps",
                                 std::to_string(per_actor), "--port_file", PortFile(name)},
                                {absl::StrCat("learner.offline_checkpoint=", acting),
                                 absl::StrCat("actors.tables=merged,deployment-", k),
                                 "actors.random_warmup_steps=0"}),
                       PortFile(name)};
        spec.may_finish = true;
        RETURN_IF_ERROR(cluster_.Start(spec));
        actor_names.push_back(name);
      }
      for (const std::string& name : actor_names) {
        RETURN_IF_ERROR(Monitor(name, [&](const Progress&) {
          return absl::StrFormat("deployment %d/%d: collecting %d transitions", k, count, m);
        }));
      }
      // Train: L updates on the merged set and this deployment's data.
      const std::string learner_name = absl::StrCat("learner-", k);
      std::vector<std::string> role{"learner",         "--phase",     "online",
                                    "--replay",        replay,        "--deployment",
                                    std::to_string(k), "--port_file", PortFile(learner_name)};
      if (k > 1) role.push_back("--resume");
      ChildSpec learner{
          learner_name, "learner",
          RoleArgs(role, {absl::StrCat("learner.offline_checkpoint=", offline_checkpoint_)}),
          PortFile(learner_name)};
      learner.may_finish = true;
      RETURN_IF_ERROR(cluster_.Start(learner));
      RETURN_IF_ERROR(Monitor(learner_name, [&](const Progress& p) {
        // Each deployment's learner is a new process: its counter starts again, and a rate taken
        // across the switch is meaningless until the next sample.
        std::string line = absl::StrFormat("deployment %d/%d: updates %d/%d", k, count, p.updates,
                                           deployments.updates());
        if (p.updates_per_second > 0) {
          absl::StrAppend(&line, absl::StrFormat(" (%.0f/s)", p.updates_per_second));
        }
        return line;
      }));
      ASSIGN_OR_RETURN(learner::CheckpointInfo info, learner::ReadCheckpointInfo(online));
      updates = info.updates;
      // Score the new policies and record the deployment.
      int64_t merged_size = 0, deployment_size = 0;
      ASSIGN_OR_RETURN(ServerInfoResponse server, client->Info(absl::Seconds(10)));
      for (const TableInfo& table : server.tables()) {
        if (table.name() == "merged") merged_size = table.size();
        if (table.name() == absl::StrCat("deployment-", k)) deployment_size = table.size();
      }
      ASSIGN_OR_RETURN(std::unique_ptr<policies::ActingPolicy> policy,
                       policies::CreateActingPolicy(policies::PolicyContext{
                           probe->spec().ToTransitionSpec(), config_.algorithm(), online}));
      const int episodes = std::max(1, config_.evaluation().episodes());
      ASSIGN_OR_RETURN(
          actor::EvaluationResult result,
          actor::EvaluateNamedPolicy(config_.env().name(), options, *policy, "online",
                                     config_.selector().beam_width(), episodes, config_.seed()));
      std::ofstream csv(csv_path, std::ios::app);
      csv << k << "," << k * m << "," << updates << "," << merged_size << "," << deployment_size
          << "," << result.mean_return << "," << result.std_return << "," << episodes << "\n";
      out_ << absl::StrFormat(
                  "[online] deployment %d/%d: %d transitions collected (merged set %d), %d "
                  "updates in all, return %.1f +- %.1f",
                  k, count, deployment_size, merged_size, updates, result.mean_return,
                  result.std_return)
           << std::endl;
    }
    (void)report_.Sample(phase_, cluster_);
    cluster_.StopAll();
    ASSIGN_OR_RETURN(learner::CheckpointInfo start,
                     learner::ReadCheckpointInfo(offline_checkpoint_));
    report_.RecordLearnerResult(updates - start.updates, count * m);
    EndPhase();
    return absl::OkStatus();
  }

  absl::Status FineTune() {
    if (config_.learner().deployments().count() > 0) return Deploy();
    if (config_.learner().online_env_steps() == 0 || config_.actors().num_actors() == 0) {
      out_ << "[online] skipped (learner.online_env_steps or actors.num_actors is 0)" << std::endl;
      return absl::OkStatus();
    }
    BeginPhase("online");
    const std::string offline = absl::StrCat("learner.offline_checkpoint=", offline_checkpoint_);
    // Restartable servers: the replay server keeps its tables in a write-ahead log it recovers
    // from; data-parallel learner ranks fail the run together instead.
    const bool restart_servers = config_.run().restart_servers();
    std::vector<std::string> replay_overrides;
    if (restart_servers && config_.replay().wal_dir().empty()) {
      replay_overrides.push_back(absl::StrCat("replay.wal_dir=", fs::absolute(WalDir()).string()));
    }
    ChildSpec replay_spec{"replay", "replay",
                          RoleArgs({"replay", "--port_file", PortFile("replay")}, replay_overrides),
                          PortFile("replay")};
    replay_spec.restartable = restart_servers;
    RETURN_IF_ERROR(cluster_.Start(replay_spec));
    const std::vector<int> replay_ports = cluster_.Find("replay")->ports;
    if (restart_servers) {
      cluster_.AppendRestartArgs(
          "replay",
          {"--set", absl::StrCat("replay.address=127.0.0.1:", replay_ports.front()), "--set",
           absl::StrCat("metrics.replay_address=127.0.0.1:", replay_ports.back())});
    }
    const std::string replay = absl::StrCat("127.0.0.1:", replay_ports.front());
    RETURN_IF_ERROR(StartLearners("learner", "online", replay, {offline},
                                  restart_servers && config_.learner().num_learners() == 1));
    const std::string weights = absl::StrCat("127.0.0.1:", cluster_.Find("learner")->ports.front());
    const bool restart = config_.run().restart_actors();
    for (int i = 0; i < config_.actors().num_actors(); ++i) {
      const std::string name = absl::StrCat("actor-", i);
      RETURN_IF_ERROR(
          cluster_.Start({name, "actor",
                          RoleArgs({"actor", "--id", std::to_string(i), "--replay", replay,
                                    "--learner", weights, "--port_file", PortFile(name)},
                                   {offline}),
                          PortFile(name), restart, false}));
    }
    if (config_.evaluation().episodes() > 0) {
      RETURN_IF_ERROR(
          cluster_.Start({"evaluator", "evaluator",
                          RoleArgs({"actor", "--eval", "--learner", weights, "--eval_out",
                                    dir_ + "/eval.csv", "--port_file", PortFile("evaluator")},
                                   {offline}),
                          PortFile("evaluator"), restart, false}));
    }
    RETURN_IF_ERROR(Monitor("learner", [&](const Progress& p) {
      std::string line = absl::StrFormat("env steps %d/%d (%.0f/s)  updates %d (%.0f/s)",
                                         p.env_steps, config_.learner().online_env_steps(),
                                         p.env_steps_per_second, p.updates, p.updates_per_second);
      if (!std::isnan(p.eval_online)) {
        absl::StrAppend(&line, absl::StrFormat("  eval online %.1f", p.eval_online));
      }
      if (!std::isnan(p.eval_composed)) {
        absl::StrAppend(&line, absl::StrFormat(" composed %.1f", p.eval_composed));
      }
      if (!std::isnan(p.eval_win_rate)) {
        absl::StrAppend(&line, absl::StrFormat("  test win rate %.2f", p.eval_win_rate));
      }
      if (!std::isnan(p.train_win_rate)) {
        absl::StrAppend(&line, absl::StrFormat("  train win rate %.2f", p.train_win_rate));
      }
      if (!std::isnan(p.td_loss))
        absl::StrAppend(&line, absl::StrFormat("  td_loss %.3f", p.td_loss));
      if (!std::isnan(p.ovm_lambda)) {
        absl::StrAppend(&line, absl::StrFormat("  lambda_memory %.2f (memory wins %.2f)",
                                               p.ovm_lambda, p.ovm_memory_share));
      }
      if (!std::isnan(p.probe_q_tot)) {
        absl::StrAppend(&line, absl::StrFormat("  probe Q_tot %.2f (offline greedy kept %.2f)",
                                               p.probe_q_tot, p.probe_greedy_agreement));
      }
      return line;
    }));
    // The learner has written its final checkpoint; the replay server still counts env steps.
    (void)report_.Sample(phase_, cluster_);
    cluster_.StopAll();
    // The online learner's counter continues from the offline checkpoint's.
    int64_t start_updates = 0;
    if (!offline_checkpoint_.empty()) {
      ASSIGN_OR_RETURN(learner::CheckpointInfo start,
                       learner::ReadCheckpointInfo(offline_checkpoint_));
      start_updates = start.updates;
    }
    ASSIGN_OR_RETURN(learner::CheckpointInfo info,
                     learner::ReadCheckpointInfo(CheckpointDir() + "/online.pt"));
    report_.RecordLearnerResult(info.updates - start_updates, info.env_steps);
    EndPhase();
    return absl::OkStatus();
  }

  // Polls children, scrapes their /metrics, prints progress and appends metrics.csv until
  // `finisher` has finished.
  absl::Status Monitor(const std::string& finisher,
                       const std::function<std::string(const Progress&)>& describe) {
    const absl::Duration progress_every = absl::Seconds(config_.run().progress_interval_seconds());
    const absl::Duration csv_every = absl::Seconds(config_.metrics().csv_interval_seconds());
    absl::Time next_progress = absl::Now() + progress_every;
    absl::Time next_csv = absl::Now() + csv_every;
    while (true) {
      RETURN_IF_ERROR(cluster_.Poll());
      const ChildState* child = cluster_.Find(finisher);
      const bool done = child == nullptr || child->finished;
      if (ShutdownRequested()) {
        if (tty_) out_ << std::endl;
        return absl::CancelledError("interrupted");
      }
      const absl::Time now = absl::Now();
      if (done || now >= next_csv || now >= next_progress) {
        const Progress progress = report_.Sample(phase_, cluster_);
        if (done || now >= next_csv) {
          report_.AppendCsv(progress);
          next_csv = now + csv_every;
        }
        if (done || now >= next_progress) {
          PrintProgress(progress, describe(progress));
          next_progress = now + progress_every;
        }
      }
      if (done) break;
      absl::SleepFor(absl::Milliseconds(100));
    }
    if (tty_) out_ << std::endl;
    return absl::OkStatus();
  }

  void PrintProgress(const Progress& p, const std::string& details) {
    std::string eta = "";
    if (p.eta_seconds > 0 && std::isfinite(p.eta_seconds)) {
      eta = absl::StrFormat("  ETA %.0f s", p.eta_seconds);
    }
    const std::string line =
        absl::StrFormat("[%s %4.0f s] %s%s", phase_,
                        absl::ToDoubleSeconds(absl::Now() - phase_start_), details, eta);
    if (tty_) {
      out_ << "\r\033[K" << line << std::flush;
    } else {
      out_ << line << std::endl;
    }
  }

  void BeginPhase(const std::string& phase) {
    phase_ = phase;
    phase_start_ = absl::Now();
    report_.BeginPhase(phase);
  }
  void EndPhase() {
    const double seconds = absl::ToDoubleSeconds(absl::Now() - phase_start_);
    out_ << "[" << phase_ << "] done in " << absl::StrFormat("%.1f", seconds) << " s" << std::endl;
    report_.EndPhase(phase_, seconds);
  }

  absl::Status Finish() {
    // Before/after on the same episode seeds: the frozen offline policy, the fine-tuned online
    // policy alone, and the CBS-composed policy.
    const int episodes = config_.run().final_evaluation_episodes() > 0
                             ? config_.run().final_evaluation_episodes()
                             : config_.evaluation().episodes();
    const std::string online_checkpoint = CheckpointDir() + "/online.pt";
    if (episodes > 0) {
      BeginPhase("evaluate");
      const envs::EnvOptions options(config_.env().options().begin(),
                                     config_.env().options().end());
      ASSIGN_OR_RETURN(auto env, envs::CreateEnv(config_.env().name(), options));
      const envs::EnvSpec spec = env->spec();
      ASSIGN_OR_RETURN(std::unique_ptr<policies::ActingPolicy> policy,
                       policies::CreateActingPolicy(policies::PolicyContext{
                           spec.ToTransitionSpec(), config_.algorithm(), offline_checkpoint_}));
      auto evaluate = [&](const std::string& name, const std::string& which) -> absl::Status {
        ASSIGN_OR_RETURN(
            actor::EvaluationResult result,
            actor::EvaluateNamedPolicy(config_.env().name(), options, *policy, which,
                                       config_.selector().beam_width(), episodes, config_.seed()));
        report_.AddEvaluation(name, result);
        return absl::OkStatus();
      };
      const bool has_offline = !offline_checkpoint_.empty();
      if (has_offline) RETURN_IF_ERROR(evaluate("offline (before)", "offline"));
      if (fs::exists(online_checkpoint)) {
        RETURN_IF_ERROR(policy->LoadOnlineCheckpoint(online_checkpoint));
        RETURN_IF_ERROR(
            evaluate(has_offline ? "online (after)" : "online (trained from scratch)", "online"));
        if (has_offline && policy->capabilities().factorized_critic) {
          RETURN_IF_ERROR(evaluate("cbs-composed (after)", "composed"));
        }
      }
      EndPhase();
    }
    // The log existed for restarts within the run; the run's data is in its checkpoints.
    if (config_.replay().wal_dir().empty()) fs::remove_all(WalDir());
    report_.set_outcome("completed");
    report_.set_restarts(cluster_.total_restarts(), cluster_.restarts_by_role());
    RETURN_IF_ERROR(report_.WriteSummary(out_));
    report_.Plot(out_);
    return absl::OkStatus();
  }

  ExperimentConfig config_;
  const std::string dir_;
  std::ostream& out_;
  const std::string exe_;
  Cluster cluster_;
  RunReport report_;
  const bool tty_;
  std::string phase_ = "start";
  absl::Time phase_start_ = absl::Now();
  std::string offline_checkpoint_;
};

}  // namespace

std::string DefaultRunDir(const ExperimentConfig& config) {
  return absl::StrCat(config.run_root(), "/", config.name(), "-",
                      absl::FormatTime("%Y%m%d-%H%M%S", absl::Now(), absl::LocalTimeZone()));
}

absl::Status RunExperiment(ExperimentConfig config, const std::string& dir, std::ostream& out) {
  Run run(std::move(config), dir, out);
  absl::Status status = run.Execute();
  if (!status.ok()) run.Abort(status);
  return status;
}

}  // namespace tandem
