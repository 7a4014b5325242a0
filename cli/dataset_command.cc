#include "cli/dataset_command.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <iomanip>
#include <optional>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "actor/evaluator.h"
#include "actor/rollout.h"
#include "cli/collect_command.h"
#include "common/cfcql_dataset.h"
#include "common/dataset.h"
#include "common/omiga_dataset.h"
#include "common/status_macros.h"
#include "common/transition_schema.h"
#include "envs/env_pool.h"
#include "envs/registry.h"

namespace tandem {

absl::Status PrintDatasetInfo(const std::string& path, std::ostream& out) {
  ASSIGN_OR_RETURN(std::unique_ptr<OfflineDataSource> source, OpenTandemDataset(path));
  ASSIGN_OR_RETURN(DatasetMetadata metadata, ReadDatasetMetadata(path));
  ASSIGN_OR_RETURN(DatasetStats stats, ReadDatasetStats(path));
  out << path << "\n"
      << "  env            " << metadata.env_name << "\n"
      << "  env options    " << metadata.env_options << "\n"
      << "  quality        " << metadata.quality << "\n"
      << "  behaviour      " << metadata.behaviour_policy << "\n"
      << "  source         " << metadata.source << "\n"
      << "  shapes         " << DescribeSpec(source->spec()) << "\n"
      << "  transitions    " << stats.num_transitions << "\n"
      << "  episodes       " << stats.num_episodes << " (complete)\n"
      << std::fixed << std::setprecision(1) << "  return         mean " << stats.return_mean
      << " +- " << stats.return_std << ", min " << stats.return_min << ", max " << stats.return_max
      << "\n";
  if (metadata.random_return && metadata.expert_return) {
    out << "  references     random " << *metadata.random_return << ", expert "
        << *metadata.expert_return << " (mean evaluation returns)\n"
        << "  score          "
        << actor::NormalizedScore(stats.return_mean, *metadata.random_return,
                                  *metadata.expert_return)
        << " (normalized mean return: 100 (R - random) / (expert - random))\n";
  }
  if (stats.win_rate.has_value()) {
    out << std::setprecision(3) << "  win rate       " << *stats.win_rate << "\n";
  } else if (source->spec().episode_steps() > 0) {
    out << "  win rate       not recorded\n";
  }
  return absl::OkStatus();
}

namespace {

// The card of one of OMIGA's files, read directly: shapes, transitions and the returns of its
// episodes (an episode ends at a transition whose next row has d = 1).
void PrintReturns(const std::vector<double>& returns, std::ostream& out) {
  if (returns.empty()) return;
  double sum = 0, squares = 0;
  for (double r : returns) sum += r, squares += r * r;
  const double mean = sum / returns.size();
  const double std = std::sqrt(std::max(0.0, squares / returns.size() - mean * mean));
  out << std::fixed << std::setprecision(1) << "  return         mean " << mean << " +- " << std
      << ", min " << *std::min_element(returns.begin(), returns.end()) << ", max "
      << *std::max_element(returns.begin(), returns.end()) << "\n";
}

absl::Status PrintOmigaInfo(const std::string& path, std::ostream& out) {
  ASSIGN_OR_RETURN(std::unique_ptr<OfflineDataSource> source, OpenOmigaDataset(path));
  const int64_t n = source->size();
  std::vector<float> reward(n);
  std::vector<uint8_t> terminated(n);
  RETURN_IF_ERROR(source->ReadColumn(Field::kReward, 0, n, reward.data()));
  RETURN_IF_ERROR(source->ReadColumn(Field::kTerminated, 0, n, terminated.data()));
  std::vector<double> returns;
  double running = 0;
  for (int64_t t = 0; t < n; ++t) {
    running += reward[t];
    if (terminated[t]) returns.push_back(std::exchange(running, 0.0));
  }
  const std::optional<OmigaFileName> name = ParseOmigaFileName(path);
  out << path << "\n"
      << "  layout         OMIGA's MA-MuJoCo file (keys s, o, a, r, d), not Tandem's format\n"
      << "  env            "
      << (name ? name->env_name + " with obs_mode=omiga (from the file name)"
               : std::string("unknown: the file name is not <Scenario>-v2-<conf>-<quality>.hdf5"))
      << "\n"
      << "  quality        " << (name ? name->quality : "unknown") << "\n"
      << "  shapes         " << DescribeSpec(source->spec()) << "\n"
      << "  transitions    " << n << "\n"
      << "  episodes       " << returns.size() << " (complete)\n";
  PrintReturns(returns, out);
  out << "  use            as dataset.path directly (env option obs_mode=omiga), or convert it:\n"
      << "                 tandem dataset import-omiga " << path << " --out <file>.h5"
      << (name ? "" : " --env mamujoco/<Task>") << "\n";
  return absl::OkStatus();
}

// The card of one of CFCQL's SMAC files: shapes, episodes and their returns.
absl::Status PrintCfcqlInfo(const std::string& path, std::ostream& out) {
  const std::optional<CfcqlFileName> name = ParseCfcqlFileName(path);
  ASSIGN_OR_RETURN(std::unique_ptr<OfflineDataSource> source,
                   OpenCfcqlDataset(path, name ? name->env_name : "smac/unknown"));
  const int64_t episodes = source->size(), steps = source->spec().episode_steps();
  std::vector<float> reward(episodes * steps);
  RETURN_IF_ERROR(source->ReadColumn(Field::kReward, 0, episodes, reward.data()));
  std::vector<double> returns(episodes, 0.0);
  for (int64_t e = 0; e < episodes; ++e) {
    for (int64_t t = 0; t < steps; ++t) returns[e] += reward[e * steps + t];
  }
  out << path << "\n"
      << "  layout         CFCQL's SMAC episode file (keys state, obs, actions, avail_actions, "
         "reward, terminated, filled), not Tandem's format\n"
      << "  env            "
      << (name ? name->env_name + " (from the file name)"
               : std::string("unknown: the file name is not <map>_<quality>.h5"))
      << "\n"
      << "  quality        " << (name ? name->quality : "unknown") << "\n"
      << "  shapes         " << DescribeSpec(source->spec()) << "\n"
      << "  episodes       " << episodes << "\n";
  PrintReturns(returns, out);
  out << "  use            convert it: tandem dataset import-cfcql " << path << " --out <file>.h5"
      << (name ? "" : " --env smac/<map>") << "\n";
  return absl::OkStatus();
}

absl::Status PrintInfo(const std::string& path, std::ostream& out) {
  // Files of other projects have no `format` attribute: recognise them and say how to use them.
  if (LooksLikeOmigaDataset(path)) return PrintOmigaInfo(path, out);
  if (LooksLikeCfcqlDataset(path)) return PrintCfcqlInfo(path, out);
  return PrintDatasetInfo(path, out);
}

absl::Status RecordRandom(const cli::Args& args, std::ostream& out) {
  const std::string env_name = args.GetString("env");
  const std::string path = args.GetString("out");
  const int64_t steps = args.GetInt("steps");
  if (steps < 1) return absl::InvalidArgumentError("--steps must be >= 1");
  ASSIGN_OR_RETURN(auto pool, envs::EnvPool::Create(env_name, static_cast<int>(args.GetInt("envs")),
                                                    static_cast<uint64_t>(args.GetInt("seed"))));
  const envs::EnvSpec spec = pool->spec();
  DatasetMetadata metadata;
  metadata.env_name = spec.name;
  metadata.quality = "random";
  metadata.behaviour_policy = "uniform random actions in each agent's box";
  metadata.source = "tandem dataset random";
  const auto open = spec.name.find('(');
  if (open != std::string::npos) {
    metadata.env_options = spec.name.substr(open + 1, spec.name.size() - open - 2);
    const auto mode = metadata.env_options.find("obs_mode=");
    if (mode != std::string::npos) {
      metadata.obs_mode =
          metadata.env_options.substr(mode + 9, metadata.env_options.find(',', mode) - mode - 9);
    }
  }
  if (const auto dir = std::filesystem::path(path).parent_path(); !dir.empty()) {
    std::filesystem::create_directories(dir);
  }
  ASSIGN_OR_RETURN(auto writer, DatasetWriter::Create(path, spec.ToTransitionSpec(), metadata));
  const absl::Time start = absl::Now();
  SelectorConfig random;
  random.set_name("random");
  ASSIGN_OR_RETURN(
      std::unique_ptr<actor::ActionSelector> selector,
      actor::CreateSelector(random, spec.action_type, spec.name, policies::PolicyCapabilities()));
  actor::StepLoopOptions loop_options;
  loop_options.seed = static_cast<uint64_t>(args.GetInt("seed"));
  ASSIGN_OR_RETURN(
      std::unique_ptr<actor::StepLoop> loop,
      actor::StepLoop::Create(std::move(pool), nullptr, std::move(selector), loop_options));
  RETURN_IF_ERROR(loop->Begin());
  ASSIGN_OR_RETURN(int64_t written, actor::RecordRollouts(*loop, steps, *writer));
  RETURN_IF_ERROR(writer->Finish());
  out << "wrote " << written << " transitions to " << path << " in " << std::fixed
      << std::setprecision(1) << absl::ToDoubleSeconds(absl::Now() - start) << " s\n";
  return PrintInfo(path, out);
}

// Converts an OMIGA file into Tandem's format, in chunks (the file may not fit in memory twice).
absl::Status ImportOmiga(const cli::Args& args, std::ostream& out) {
  const std::string in = args.positional()[0];
  const std::string path = args.GetString("out");
  ASSIGN_OR_RETURN(std::unique_ptr<OfflineDataSource> source, OpenOmigaDataset(in));
  const TransitionSpec& spec = source->spec();
  DatasetMetadata metadata;
  const auto parsed = ParseOmigaFileName(in);
  metadata.env_name = !args.GetString("env").empty() ? args.GetString("env")
                      : parsed                       ? parsed->env_name
                                                     : "";
  if (metadata.env_name.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(
        in,
        ": the file name is not OMIGA's <Scenario>-v2-<conf>-<quality>.hdf5, so pass --env "
        "(e.g. mamujoco/HalfCheetah-6x1)"));
  }
  // The shapes must be what the env produces in OMIGA's observation mode.
  ASSIGN_OR_RETURN(auto env, envs::CreateEnv(metadata.env_name, {{"obs_mode", "omiga"}}));
  if (!TransitionSchema::Compatible(env->spec().ToTransitionSpec(), spec)) {
    return absl::FailedPreconditionError(
        absl::StrCat(in, " holds ", DescribeSpec(spec), " but ", metadata.env_name,
                     " (obs_mode=omiga) produces ", DescribeSpec(env->spec().ToTransitionSpec())));
  }
  metadata.env_options = "obs_mode=omiga";
  metadata.obs_mode = "omiga";
  metadata.quality = parsed ? parsed->quality : "unknown";
  metadata.behaviour_policy = "OMIGA release (behaviour policy not stated by its authors)";
  metadata.source =
      absl::StrCat("tandem dataset import-omiga ", std::filesystem::path(in).filename().string());
  if (const auto dir = std::filesystem::path(path).parent_path(); !dir.empty()) {
    std::filesystem::create_directories(dir);
  }
  TransitionSpec named = env->spec().ToTransitionSpec();
  ASSIGN_OR_RETURN(auto writer, DatasetWriter::Create(path, named, metadata));
  const absl::Time start = absl::Now();
  RETURN_IF_ERROR(AppendAll(*source, named, *writer, /*chunk_rows=*/20000));
  RETURN_IF_ERROR(writer->Finish());
  out << "imported " << source->size() << " transitions from " << in << " into " << path << " in "
      << std::fixed << std::setprecision(1) << absl::ToDoubleSeconds(absl::Now() - start) << " s\n";
  return PrintInfo(path, out);
}

absl::Status ImportCfcql(const cli::Args& args, std::ostream& out) {
  const std::string in = args.positional()[0];
  const std::string path = args.GetString("out");
  const auto parsed = ParseCfcqlFileName(in);
  const std::string env_name = !args.GetString("env").empty() ? args.GetString("env")
                               : parsed                       ? parsed->env_name
                                                              : "";
  if (env_name.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(
        in, ": the file name is not CFCQL's <map>_<quality>.h5, so pass --env (e.g. smac/2s3z)"));
  }
  ASSIGN_OR_RETURN(std::unique_ptr<OfflineDataSource> source, OpenCfcqlDataset(in, env_name));
  // The shapes must be the env's, episodes padded to its limit + 1 as pymarl pads them.
  ASSIGN_OR_RETURN(auto env, envs::CreateEnv(env_name, {}));
  const TransitionSpec named = env->spec().ToEpisodeSpec();
  if (named.action_type() != ACTION_TYPE_DISCRETE) {
    return absl::InvalidArgumentError(
        absl::StrCat(env_name, " has continuous actions; CFCQL's files are SMAC episodes"));
  }
  if (!TransitionSchema::Compatible(named, source->spec())) {
    return absl::FailedPreconditionError(absl::StrCat(in, " holds ", DescribeSpec(source->spec()),
                                                      " but ", env_name, " produces ",
                                                      DescribeSpec(named)));
  }
  DatasetMetadata metadata;
  metadata.env_name = env_name;
  metadata.quality = parsed ? parsed->quality : "unknown";
  metadata.behaviour_policy =
      "CFCQL release: QMIX checkpoints run greedily (medium, expert), the training replay "
      "(medium_replay) or half medium, half expert (mixed)";
  metadata.source =
      absl::StrCat("tandem dataset import-cfcql ", std::filesystem::path(in).filename().string());
  if (const auto dir = std::filesystem::path(path).parent_path(); !dir.empty()) {
    std::filesystem::create_directories(dir);
  }
  ASSIGN_OR_RETURN(auto writer, DatasetWriter::Create(path, named, metadata));
  const absl::Time start = absl::Now();
  // Episode rows are large (3s5z: about 0.6 MB each): convert a few hundred at a time.
  RETURN_IF_ERROR(AppendAll(*source, named, *writer, /*chunk_rows=*/128));
  RETURN_IF_ERROR(writer->Finish());
  out << "imported " << source->size() << " episodes from " << in << " into " << path << " in "
      << std::fixed << std::setprecision(1) << absl::ToDoubleSeconds(absl::Now() - start) << " s\n";
  return PrintInfo(path, out);
}

}  // namespace

cli::Command DatasetCommand() {
  cli::Command info("info", "Print a dataset's env, shapes, size and return statistics.", "FILE");
  info.min_positional = info.max_positional = 1;
  info.run =
      cli::StatusHandler("tandem dataset info", [](const cli::Args& args, std::ostream& out) {
        return PrintInfo(args.positional()[0], out);
      });

  cli::Command random("random",
                      "Record a uniform-random-policy dataset (the D4RL 'random' tier) in "
                      "Tandem's HDF5 format.");
  random.flags = {
      {"env", cli::FlagKind::kString, "Environment, e.g. 'mamujoco/HalfCheetah-6x1'.", "", "ENV",
       true},
      {"out", cli::FlagKind::kString, "Output HDF5 file.", "", "FILE", true},
      {"steps", cli::FlagKind::kInt, "Transitions to record.", "100000", "N"},
      {"envs", cli::FlagKind::kInt, "Environments stepped together.", "8", "N"},
      {"seed", cli::FlagKind::kInt, "Seed of envs and actions.", "1", "N"},
  };
  random.run = cli::StatusHandler("tandem dataset random", RecordRandom);

  cli::Command import_omiga("import-omiga",
                            "Convert one of OMIGA's MA-MuJoCo files (keys s, o, a, r, d) into "
                            "Tandem's format (env in obs_mode=omiga). The replay server also reads "
                            "OMIGA files directly.",
                            "FILE");
  import_omiga.min_positional = import_omiga.max_positional = 1;
  import_omiga.flags = {
      {"out", cli::FlagKind::kString, "Output HDF5 file (Tandem format).", "", "FILE", true},
      {"env", cli::FlagKind::kString,
       "Environment, when the file name is not OMIGA's <Scenario>-v2-<conf>-<quality>.hdf5.", "",
       "ENV"},
  };
  import_omiga.run = cli::StatusHandler("tandem dataset import-omiga", ImportOmiga);

  cli::Command import_cfcql(
      "import-cfcql",
      "Convert one of CFCQL's SMAC episode files (<map>_<quality>.h5: state, obs, actions, "
      "avail_actions, reward, terminated, filled) into Tandem's episode format.",
      "FILE");
  import_cfcql.min_positional = import_cfcql.max_positional = 1;
  import_cfcql.flags = {
      {"out", cli::FlagKind::kString, "Output HDF5 file (Tandem format).", "", "FILE", true},
      {"env", cli::FlagKind::kString,
       "Environment, when the file name is not CFCQL's <map>_<quality>.h5.", "", "ENV"},
  };
  import_cfcql.run = cli::StatusHandler("tandem dataset import-cfcql", ImportCfcql);

  cli::Command command("dataset", "Inspect and produce offline datasets.");
  command.subcommands = {info, random, import_omiga, import_cfcql, DatasetCollectCommand()};
  return command;
}

}  // namespace tandem
