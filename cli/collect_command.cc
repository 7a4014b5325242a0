#include "cli/collect_command.h"

#include <signal.h>
#include <sys/wait.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <iomanip>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "actor/episode_recorder.h"
#include "actor/evaluator.h"
#include "actor/rollout.h"
#include "cli/dataset_command.h"
#include "cli/subprocess.h"
#include "common/config.h"
#include "common/config_command.h"
#include "common/dataset.h"
#include "common/files.h"
#include "common/policies/acting_policy.h"
#include "common/shutdown.h"
#include "common/status_macros.h"
#include "common/transition_schema.h"
#include "learner/checkpoint.h"

namespace tandem {
namespace {

namespace fs = std::filesystem;

struct Candidate {
  std::string path;
  int64_t updates = 0;
  double mean_return = 0;
  double win_rate = 0;  // combat maps
};

// The task part of the env name ("mamujoco/HalfCheetah-6x1" -> "HalfCheetah-6x1").
std::string TaskName(const std::string& env_name) {
  const size_t slash = env_name.find('/');
  return slash == std::string::npos ? env_name : env_name.substr(slash + 1);
}

std::string FormatOptions(const EnvConfig& env) {
  std::vector<std::string> parts;
  for (const auto& [key, value] : env.options()) parts.push_back(absl::StrCat(key, "=", value));
  std::sort(parts.begin(), parts.end());
  std::string text;
  for (const std::string& part : parts) absl::StrAppend(&text, text.empty() ? "" : ",", part);
  return text;
}

absl::Status RunCollect(const cli::Args& args, std::ostream& out) {
  ASSIGN_OR_RETURN(ExperimentConfig config, LoadConfigFromArgs(args));
  if (!config.dataset().path().empty() || config.replay().offline_ratio() != 0 ||
      !config.learner().offline_checkpoint().empty()) {
    return absl::InvalidArgumentError(
        "dataset collect trains its behaviour policy from scratch: leave dataset.path and "
        "learner.offline_checkpoint empty and set replay.offline_ratio: 0");
  }
  const std::string dir =
      args.GetString("run_dir").empty()
          ? absl::StrCat(config.run_root(), "/collect-", config.name(), "-",
                         absl::FormatTime("%Y%m%d-%H%M%S", absl::Now(), absl::LocalTimeZone()))
          : args.GetString("run_dir");
  const CollectionConfig& collection = config.collection();
  const std::string out_dir =
      collection.out_dir().empty() ? dir + "/datasets" : collection.out_dir();
  for (const std::string& d : {dir, out_dir}) {
    std::error_code error;
    fs::create_directories(d, error);
    if (error) {
      return absl::PermissionDeniedError(absl::StrCat("cannot create ", d, ": ", error.message()));
    }
  }
  const std::string task = TaskName(config.env().name());
  std::vector<std::string> outputs;
  for (const char* tier : {"expert", "medium", "medium-replay", "medium-expert"}) {
    outputs.push_back(absl::StrCat(out_dir, "/", task, "-", tier, ".h5"));
    if (fs::exists(outputs.back())) {
      return absl::AlreadyExistsError(
          absl::StrCat(outputs.back(), " exists; choose another collection.out_dir"));
    }
  }

  // Combat maps train recurrent agents on episode tables; their actors record whole episodes.
  ASSIGN_OR_RETURN(auto probe, envs::CreateEnv(config.env().name(),
                                               envs::EnvOptions(config.env().options().begin(),
                                                                config.env().options().end())));
  if (probe->spec().action_type == ACTION_TYPE_DISCRETE && !EpisodeItems(config.replay())) {
    return absl::InvalidArgumentError(
        "dataset collect on a combat map trains on whole episodes: declare replay.tables { name: "
        "\"online\" item_kind: ITEM_KIND_EPISODE } (as configs/collect_smac_3m.textproto does)");
  }

  // 1. Train from scratch, keeping every checkpoint and recording every actor transition.
  const std::string train_dir = dir + "/train";
  const std::string record_dir = fs::absolute(dir + "/recorded").string();
  ExperimentConfig train = config;
  train.mutable_learner()->set_keep_checkpoint_history(true);
  train.mutable_actors()->set_record_dir(record_dir);
  const std::string train_config = dir + "/train.textproto";
  RETURN_IF_ERROR(WriteFileAtomically(train_config, ToTextProto(train)));
  out << "[collect] training the behaviour policy (" << config.algorithm().name() << ", "
      << config.learner().online_env_steps() << " env steps); run directory " << train_dir
      << std::endl;
  {
    ASSIGN_OR_RETURN(auto child, Subprocess::Spawn({CurrentExecutable(), "run", "--config",
                                                    train_config, "--run_dir", train_dir}));
    while (true) {
      absl::StatusOr<int> waited = child->Wait(absl::Milliseconds(200));
      if (!waited.ok() && !absl::IsDeadlineExceeded(waited.status())) return waited.status();
      if (waited.ok()) {
        const int status = *waited;
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
          return absl::InternalError(
              absl::StrCat("training failed (", Subprocess::DescribeStatus(status), "); see ",
                           train_dir, "/summary.txt and ", train_dir, "/logs"));
        }
        break;
      }
      if (ShutdownRequested()) {
        child->Signal(SIGINT);
        (void)child->Wait(absl::Seconds(60));
        return absl::CancelledError("interrupted");
      }
    }
  }

  // 2. Evaluate every kept checkpoint and a uniform random policy on the same episode seeds.
  const envs::EnvOptions options(config.env().options().begin(), config.env().options().end());
  ASSIGN_OR_RETURN(auto env, envs::CreateEnv(config.env().name(), options));
  const envs::EnvSpec spec = env->spec();
  // Combat maps: episodes are recorded whole (the episode layout) and policies ranked by win rate.
  const bool discrete = spec.action_type == ACTION_TYPE_DISCRETE;
  const int eval_episodes = collection.evaluation_episodes();
  const uint64_t seed = config.seed();
  std::vector<Candidate> candidates;
  for (const auto& entry : fs::directory_iterator(train_dir + "/checkpoints")) {
    const std::string name = entry.path().filename().string();
    int64_t updates = 0;
    if (!absl::StartsWith(name, "online-") || !absl::EndsWith(name, ".pt") ||
        !absl::SimpleAtoi(name.substr(7, name.size() - 10), &updates)) {
      continue;
    }
    candidates.push_back({entry.path().string(), updates, 0});
  }
  if (const std::string last = train_dir + "/checkpoints/online.pt"; fs::exists(last)) {
    ASSIGN_OR_RETURN(learner::CheckpointInfo info, learner::ReadCheckpointInfo(last));
    if (std::none_of(candidates.begin(), candidates.end(),
                     [&](const Candidate& c) { return c.updates == info.updates; })) {
      candidates.push_back({last, info.updates, 0});
    }
  }
  if (candidates.size() < 2) {
    return absl::FailedPreconditionError(absl::StrCat(
        "only ", candidates.size(), " checkpoint(s) in ", train_dir,
        "/checkpoints: lower learner.checkpoint_every_updates or train longer so expert and "
        "medium can differ"));
  }
  std::sort(candidates.begin(), candidates.end(),
            [](const Candidate& a, const Candidate& b) { return a.updates < b.updates; });
  ASSIGN_OR_RETURN(std::unique_ptr<policies::ActingPolicy> policy,
                   policies::CreateActingPolicy(
                       policies::PolicyContext{spec.ToTransitionSpec(), config.algorithm(), ""}));
  const int beam_width = config.selector().beam_width();
  ASSIGN_OR_RETURN(actor::EvaluationResult random,
                   actor::EvaluateNamedPolicy(config.env().name(), options, *policy, "random",
                                              beam_width, eval_episodes, seed));
  out << std::fixed << std::setprecision(1) << "[collect] random policy: return "
      << random.mean_return << " +- " << random.std_return << std::endl;
  const absl::Time eval_start = absl::Now();
  for (size_t i = 0; i < candidates.size(); ++i) {
    Candidate& c = candidates[i];
    RETURN_IF_ERROR(policy->LoadOnlineCheckpoint(c.path));
    ASSIGN_OR_RETURN(actor::EvaluationResult result,
                     actor::EvaluateNamedPolicy(config.env().name(), options, *policy, "online",
                                                beam_width, eval_episodes, seed));
    c.mean_return = result.mean_return;
    c.win_rate = result.win_rate;
    const double elapsed = absl::ToDoubleSeconds(absl::Now() - eval_start);
    out << "[collect] checkpoint " << fs::path(c.path).filename().string() << " (updates "
        << c.updates << "): return " << result.mean_return << " +- " << result.std_return
        << (discrete ? absl::StrFormat(", win rate %.2f", result.win_rate) : "") << "  [" << i + 1
        << "/" << candidates.size() << ", ETA " << elapsed / (i + 1) * (candidates.size() - i - 1)
        << " s]" << std::endl;
  }

  // 3. Choose the expert and the medium policy.
  // The best evaluation; on ties (a short evaluation often scores several checkpoints at a win
  // rate of 1), the latest, most trained one. `candidates` is sorted by updates.
  const Candidate expert = *std::max_element(candidates.rbegin(), candidates.rend(),
                                             [discrete](const Candidate& a, const Candidate& b) {
                                               if (discrete && a.win_rate != b.win_rate)
                                                 return a.win_rate < b.win_rate;
                                               return a.mean_return < b.mean_return;
                                             });
  const double span = expert.mean_return - random.mean_return;
  auto normalized = [&](const Candidate& c) {
    return span > 0 ? (c.mean_return - random.mean_return) / span : 0.0;
  };
  // The medium policy comes from earlier in training; when training only got worse after its
  // first checkpoint (the expert), from after it instead, with a warning.
  const Candidate* medium = nullptr;
  bool in_band = false;
  auto pick_medium = [&](bool earlier_only) {
    for (const Candidate& c : candidates) {
      if (c.updates == expert.updates || (earlier_only && c.updates > expert.updates)) continue;
      if (discrete) {
        // Nearest win rate to the target; the later checkpoint on ties.
        if (medium == nullptr || std::fabs(c.win_rate - collection.medium_win_rate()) <=
                                     std::fabs(medium->win_rate - collection.medium_win_rate())) {
          medium = &c;
          in_band = true;
        }
        continue;
      }
      const double score = normalized(c);
      const bool band = score >= collection.medium_min() && score <= collection.medium_max();
      const double distance = std::fabs(score - collection.medium_target());
      if (medium == nullptr || (band && !in_band) ||
          (band == in_band &&
           distance < std::fabs(normalized(*medium) - collection.medium_target()))) {
        medium = &c;
        in_band = band;
      }
    }
  };
  pick_medium(/*earlier_only=*/true);
  if (medium == nullptr) {
    pick_medium(/*earlier_only=*/false);
    if (medium == nullptr) {
      return absl::FailedPreconditionError(
          "only one checkpoint was kept, so there is no medium policy: lower "
          "learner.checkpoint_every_updates");
    }
    out << "[collect] warning: the best checkpoint is the first one (training got worse after "
           "it); the medium policy comes from after it"
        << std::endl;
  }
  out << "[collect] expert: " << fs::path(expert.path).filename().string() << " (return "
      << expert.mean_return << "); medium: " << fs::path(medium->path).filename().string()
      << " (return " << medium->mean_return << ", normalized " << std::setprecision(3)
      << normalized(*medium) << std::setprecision(1) << ")";
  if (discrete) {
    out << std::setprecision(2) << "; win rates: expert " << expert.win_rate << ", medium "
        << medium->win_rate << " (target " << collection.medium_win_rate() << ")"
        << std::setprecision(1);
  }
  out << std::endl;
  if (!in_band) {
    out << "[collect] warning: no checkpoint's normalized return lies in ["
        << collection.medium_min() << ", " << collection.medium_max()
        << "]; the nearest to the target was taken (keep checkpoints more often)" << std::endl;
  }

  // 4. Record the tiers.
  DatasetMetadata metadata;
  metadata.env_name = config.env().name();
  metadata.env_options = FormatOptions(config.env());
  if (auto it = config.env().options().find("obs_mode"); it != config.env().options().end()) {
    metadata.obs_mode = it->second;
  }
  metadata.source = "tandem dataset collect";
  // The references of normalized scores: the random policy and the expert, same episode seeds.
  metadata.random_return = random.mean_return;
  metadata.expert_return = expert.mean_return;
  const TransitionSpec transition_spec = discrete ? spec.ToEpisodeSpec() : spec.ToTransitionSpec();
  auto record = [&](const Candidate& c, const std::string& tier,
                    const std::string& path) -> absl::Status {
    RETURN_IF_ERROR(policy->LoadOnlineCheckpoint(c.path));
    DatasetMetadata m = metadata;
    m.quality = tier;
    m.behaviour_policy =
        discrete
            ? absl::StrFormat(
                  "%s trained from scratch, checkpoint at %d updates (evaluation return %.1f, "
                  "win rate %.2f), greedy with epsilon %.3f",
                  config.algorithm().name(), c.updates, c.mean_return, c.win_rate,
                  collection.action_noise())
            : absl::StrFormat(
                  "%s trained from scratch, checkpoint at %d updates (evaluation return "
                  "%.1f), deterministic action + N(0, %.3f) noise",
                  config.algorithm().name(), c.updates, c.mean_return, collection.action_noise());
    ASSIGN_OR_RETURN(auto writer, DatasetWriter::Create(path, transition_spec, m));
    const absl::Time start = absl::Now();
    const int episodes = collection.episodes();
    ASSIGN_OR_RETURN(
        actor::EvaluationResult result,
        actor::RecordEpisodes(config.env().name(), options, *policy, episodes, seed,
                              collection.action_noise(), *writer, [&](int done, double ret) {
                                if (done % std::max(1, episodes / 10) != 0 && done != episodes)
                                  return;
                                const double elapsed = absl::ToDoubleSeconds(absl::Now() - start);
                                out << "[collect] " << tier << ": " << done << "/" << episodes
                                    << " episodes, last return " << ret << ", ETA "
                                    << elapsed / done * (episodes - done) << " s" << std::endl;
                              }));
    (void)result;
    return writer->Finish();
  };
  RETURN_IF_ERROR(record(expert, "expert", outputs[0]));
  RETURN_IF_ERROR(record(*medium, "medium", outputs[1]));

  std::vector<std::string> replay_segments;
  int64_t replay_rows = 0;
  if (fs::exists(record_dir)) {
    for (const auto& entry : fs::directory_iterator(record_dir)) {
      if (!absl::EndsWith(entry.path().string(), "-segments.csv")) continue;
      ASSIGN_OR_RETURN(std::vector<actor::RecordedSegment> segments,
                       actor::ReadSegmentIndex(entry.path().string()));
      for (const actor::RecordedSegment& segment : segments) {
        if (segment.max_learner_step > medium->updates) continue;
        replay_segments.push_back(segment.file);
        replay_rows += segment.transitions;
      }
    }
  }
  std::sort(replay_segments.begin(), replay_segments.end());
  if (replay_segments.empty()) {
    return absl::FailedPreconditionError(
        absl::StrCat("no recorded actor segment predates the medium checkpoint (", medium->updates,
                     " updates); lower actors.record_segment_transitions"));
  }
  DatasetMetadata replay = metadata;
  replay.quality = "medium-replay";
  replay.behaviour_policy = absl::StrCat(
      "every whole episode the training actors generated with weights up to the medium "
      "checkpoint (",
      medium->updates, " updates), random warm-up included");
  RETURN_IF_ERROR(MergeDatasets(replay_segments, outputs[2], transition_spec, replay));
  DatasetMetadata mixed = metadata;
  mixed.quality = "medium-expert";
  mixed.behaviour_policy = "the medium and expert tiers concatenated (equal episode counts)";
  RETURN_IF_ERROR(MergeDatasets({outputs[1], outputs[0]}, outputs[3], transition_spec, mixed));

  out << "[collect] done: " << replay_segments.size() << " recorded segments (" << replay_rows
      << " transitions) make medium-replay\n";
  for (const std::string& path : outputs) RETURN_IF_ERROR(PrintDatasetInfo(path, out));
  return absl::OkStatus();
}

}  // namespace

cli::Command DatasetCollectCommand() {
  cli::Command command(
      "collect",
      "Train a behaviour policy from scratch and write the expert, medium, medium-replay and "
      "medium-expert tiers (collection.* in the config).");
  command.flags = ConfigFlags();
  command.flags.push_back({"run_dir", cli::FlagKind::kString,
                           "Run directory (default <run_root>/collect-<name>-<date>-<time>).", "",
                           "DIR"});
  command.run =
      cli::StatusHandler("tandem dataset collect", [](const cli::Args& args, std::ostream& out) {
        InstallShutdownHandlers();
        return RunCollect(args, out);
      });
  return command;
}

}  // namespace tandem
