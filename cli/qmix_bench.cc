#include "cli/qmix_bench.h"

#include <ATen/ATen.h>
#include <ATen/Parallel.h>

#include <filesystem>
#include <iomanip>
#include <limits>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "actor/actor.h"
#include "common/config.h"
#include "common/status_macros.h"
#include "envs/registry.h"
#include "learner/learner_bench.h"
#include "learner/qmix.h"
#include "replay_server/replay_server.h"

namespace tandem {
namespace {

// pymarl2's nq_learner with its QMIX config (Debian's python3-torch, 2 threads) on synthetic
// batches, measured on a machine whose 768x256 @ 256x256 matmul ran at 78 GFLOP/s (the issue's
// reference figures; README, "QMIX on the SMAC-like maps").
constexpr double kReferenceGflops = 78;
struct Reference {
  const char* map;
  int min_length, max_length;  // synthetic episode lengths, uniform
  double updates_32_low, updates_32_high, updates_128;
};
constexpr Reference kReferences[] = {
    {"3s5z", 55, 85, 3.0, 4.6, 1.1},
    {"3m", 20, 40, 14.0, 15.0, 6.1},
};

// A synthetic batch of `batch` episodes of `spec` (episode layout), lengths uniform in
// [min_length, max_length], every action available, terminated at the end.
learner::TrainingBatch SyntheticEpisodes(const TransitionSpec& spec, int batch, int min_length,
                                         int max_length, at::Generator& generator) {
  const int64_t l = spec.episode_steps(), n = spec.num_agents();
  learner::TrainingBatch b;
  b.obs = at::randn({batch, l, n, spec.obs_size()}, generator);
  b.state = at::randn({batch, l, spec.state_size()}, generator);
  b.actions = at::randint(spec.action_size(), {batch, l, n}, generator, at::kLong);
  b.avail_actions = at::ones({batch, l, n, spec.action_size()}, at::kBool);
  b.reward = at::randn({batch, l}, generator);
  b.terminated = at::zeros({batch, l});
  b.filled = at::zeros({batch, l});
  const at::Tensor lengths = at::randint(min_length, max_length + 1, {batch}, generator, at::kLong);
  for (int e = 0; e < batch; ++e) {
    const int64_t len = std::min<int64_t>(lengths[e].item<int64_t>(), l - 1);
    b.filled[e].narrow(0, 0, len + 1).fill_(1);
    b.terminated[e][len - 1] = 1;
  }
  return b;
}

absl::StatusOr<TransitionSpec> EpisodeSpecOf(const std::string& env) {
  ASSIGN_OR_RETURN(auto probe, envs::CreateEnv(env));
  return probe->spec().ToEpisodeSpec();
}

// Updates/s of the QMIX learner on synthetic batches; `cql` names the conservative term ("none",
// "macql", "cfcql": the offline phase of OVMSE and its baselines, CFCQL at temperature 0).
absl::StatusOr<double> MeasureLearner(const TransitionSpec& spec, const Reference& reference,
                                      int batch, absl::Duration duration,
                                      const std::string& cql = "none") {
  learner::AlgorithmContext context;
  context.spec = spec;
  FillDefaults(&context.config);
  context.config.set_name("qmix");
  context.config.set_learning_rate(1e-3);
  context.config.set_max_grad_norm(10);
  context.config.mutable_qmix()->mutable_cql()->set_variant(cql);
  ASSIGN_OR_RETURN(auto qmix, learner::Qmix::Create(context));
  at::Generator generator = at::detail::createCPUGenerator(1);
  // A pool of batches drawn up front: the benchmark times updates, not data generation.
  std::vector<learner::TrainingBatch> batches;
  for (int i = 0; i < 8; ++i) {
    batches.push_back(
        SyntheticEpisodes(spec, batch, reference.min_length, reference.max_length, generator));
  }
  for (int i = 0; i < 3; ++i) RETURN_IF_ERROR(qmix->Update(batches[i]).status());
  int64_t updates = 0;
  const absl::Time start = absl::Now();
  while (absl::Now() - start < duration || updates < 3) {
    RETURN_IF_ERROR(qmix->Update(batches[updates % batches.size()]).status());
    ++updates;
  }
  return updates / absl::ToDoubleSeconds(absl::Now() - start);
}

// The raw env: `envs` envs of a pool stepped on one thread with uniformly random available actions
// (the cheapest policy there is), env steps/s.
absl::StatusOr<double> RawEnvStepsPerSecond(const std::string& env, int envs,
                                            absl::Duration duration) {
  ASSIGN_OR_RETURN(auto pool, envs::EnvPool::Create(env, envs, 1, 1));
  RETURN_IF_ERROR(pool->ResetAll());
  const envs::EnvSpec& spec = pool->spec();
  const int64_t n = spec.num_agents, k = spec.action_size;
  std::vector<int32_t> actions(envs * n);
  std::mt19937 rng(1);
  std::vector<int32_t> available;
  int64_t steps = 0;
  const absl::Time start = absl::Now();
  while (absl::Now() - start < duration) {
    for (int64_t row = 0; row < envs * n; ++row) {
      available.clear();
      for (int64_t a = 0; a < k; ++a) {
        if (pool->avail_actions()[row * k + a]) available.push_back(static_cast<int32_t>(a));
      }
      actions[row] = available[rng() % available.size()];
    }
    RETURN_IF_ERROR(pool->Step({}, actions));
    RETURN_IF_ERROR(pool->ResetFinished());
    steps += envs;
  }
  return steps / absl::ToDoubleSeconds(absl::Now() - start);
}

// One actor (QMIX's GRU agent, epsilon-greedy at a fixed `epsilon`, one actor thread) acting and
// stepping `envs` envs, assembling episodes and streaming them (every 256 env steps, the default)
// to a replay server in this process, as `tandem bench actor` does.
struct ActorRate {
  double steps_per_second = 0;
  // The same env steps over the time spent inside the envs alone (stepping and resetting).
  double env_steps_per_second = 0;
  double select_ms = 0;  // one action selection for every env
  int64_t stored_steps = 0;
};
absl::StatusOr<ActorRate> MeasureActor(const std::string& env, int envs, double epsilon,
                                       absl::Duration duration) {
  ExperimentConfig config;
  config.mutable_env()->set_name(env);
  config.mutable_algorithm()->set_name("qmix");
  config.mutable_selector()->set_name("epsilon");
  config.mutable_selector()->set_epsilon_start(epsilon);
  config.mutable_selector()->set_epsilon_end(epsilon);
  config.mutable_selector()->set_epsilon_anneal_env_steps(1);
  config.mutable_actors()->set_envs_per_actor(envs);
  config.mutable_actors()->set_threads(1);
  config.mutable_replay()->set_offline_ratio(0);
  config.mutable_replay()->set_address("127.0.0.1:0");
  TableConfig* table = config.mutable_replay()->add_tables();
  table->set_name("online");
  table->set_item_kind(TableConfig::ITEM_KIND_EPISODE);
  table->set_capacity(256);
  FillDefaults(&config);
  ASSIGN_OR_RETURN(auto metrics, MetricsRegistry::Create(""));
  ASSIGN_OR_RETURN(auto replay, replay::ReplayServer::Start(config, metrics.get()));
  actor::ActorOptions options;
  options.config = config;
  ASSIGN_OR_RETURN(auto client,
                   replay::ReplayClient::Connect(replay->address(), SecurityConfig(), ""));
  options.replay = std::move(client);
  ASSIGN_OR_RETURN(auto actor, actor::Actor::Create(options));
  ActorRate rate;
  ASSIGN_OR_RETURN(const double seconds, actor->TimeSelection(200));
  rate.select_ms = seconds * 1e3;
  const absl::Time warm = absl::Now();
  RETURN_IF_ERROR(actor->Run([&] { return absl::Now() - warm >= absl::Seconds(1); },
                             std::numeric_limits<int64_t>::max()));
  const int64_t before = actor->stats().env_steps;
  const double env_before = actor->stats().env_seconds;
  const absl::Time start = absl::Now();
  RETURN_IF_ERROR(actor->Run([&] { return absl::Now() - start >= duration; },
                             std::numeric_limits<int64_t>::max()));
  const double steps = actor->stats().env_steps - before;
  rate.steps_per_second = steps / absl::ToDoubleSeconds(absl::Now() - start);
  rate.env_steps_per_second = steps / (actor->stats().env_seconds - env_before);
  actor->sender().Close(absl::Seconds(30));
  rate.stored_steps = actor->sender().acknowledged_transitions();
  replay->Shutdown();
  return rate;
}

// Runs python/bench_qmix_reference.py (the same QMIX learner in PyTorch, Debian's python3-torch)
// on `shapes` and returns its updates/s keyed "<map> <batch>"; empty with `why_not` set when it
// cannot run here (no script, no python3-torch).
std::map<std::string, double> MeasurePytorchReference(const std::string& script,
                                                      const std::vector<std::string>& shapes,
                                                      int threads, absl::Duration duration,
                                                      std::string* why_not) {
  std::map<std::string, double> rates;
  if (!std::filesystem::exists(script)) {
    *why_not = absl::StrCat("no script at ", script, "; pass --reference_script");
    return rates;
  }
  std::string command = absl::StrCat("/usr/bin/python3 '", script, "' --threads ", threads,
                                     " --seconds ", absl::ToDoubleSeconds(duration));
  for (const std::string& shape : shapes) absl::StrAppend(&command, " --shape ", shape);
  absl::StrAppend(&command, " 2>&1");
  FILE* pipe = popen(command.c_str(), "r");
  if (pipe == nullptr) {
    *why_not = "cannot start /usr/bin/python3";
    return rates;
  }
  std::string output;
  char buffer[512];
  while (fgets(buffer, sizeof(buffer), pipe) != nullptr) output += buffer;
  const int status = pclose(pipe);
  for (absl::string_view line : absl::StrSplit(output, '\n', absl::SkipEmpty())) {
    std::vector<std::string> fields = absl::StrSplit(line, ' ', absl::SkipEmpty());
    double rate = 0;
    if (fields.size() == 4 && fields[0] == "reference" && absl::SimpleAtod(fields[3], &rate)) {
      rates[absl::StrCat(fields[1], " ", fields[2])] = rate;
    }
  }
  if (rates.empty()) {
    *why_not = absl::StrCat("the script exited with status ", status, ": ",
                            output.substr(0, std::min<size_t>(output.size(), 300)));
  }
  return rates;
}

// Floating-point operations of one QMIX update on `batch` synthetic episodes cut to the expected
// longest episode, every episode padded to it (as the reference computes; ours skips the padding):
// the agents' products (fc 64, GRU 64, fc K) forward for the learning and target agents and twice
// again for the learning agents' backward pass, and the mixer's the same way.
double UpdateFlops(const TransitionSpec& spec, const Reference& reference, int batch) {
  const double n = spec.num_agents(), k = spec.action_size(), s = spec.state_size();
  const double in = spec.obs_size() + k + n;
  // Expected maximum of `batch` uniform lengths, plus the bootstrap entry.
  const double span = reference.max_length - reference.min_length + 1;
  const double entries = reference.min_length + span * batch / (batch + 1.0) - 0.5 + 1;
  const double agent_row = 2 * (in * 64 + 2 * 64 * 192 + 64 * k);
  const double mixer_row =
      2 * (s * 64 + 64 * 32 * n + s * 32 + s * 64 + 64 * 32 + s * 32 + 32 + n * 32 + 32);
  return 4 * batch * entries * (n * agent_row + mixer_row);
}

absl::Status RunQmixBench(const cli::Args& args, std::ostream& out) {
  const absl::Duration duration = absl::Seconds(args.GetDouble("seconds"));
  const int threads = static_cast<int>(args.GetInt("threads"));
  const std::string part = args.GetString("part");
  if (part != "all" && part != "learner" && part != "cql" && part != "actor") {
    return absl::InvalidArgumentError(
        absl::StrCat("--part must be all, learner, cql or actor, got '", part, "'"));
  }
  const auto runs = [&part](const char* name) { return part == "all" || part == name; };
  out << "tandem bench qmix: " << absl::FormatDuration(duration) << " per measurement\n";
  at::set_num_threads(threads);
  const double gflops = learner::MatmulGflops(absl::Seconds(1));
  const double scale = gflops / kReferenceGflops;
  out << "  machine: " << std::fixed << std::setprecision(0) << gflops
      << " GFLOP/s in 768x256 @ 256x256 products on " << threads
      << " threads (the pymarl2 reference machine: " << kReferenceGflops << ")\n";
  if (part != "actor") {
    out << "  learner, " << threads << " threads, synthetic episodes (uniform lengths, padded to "
        << "the episode limit + 1):\n";
  }
  // The same learner in PyTorch, measured here first (nothing else running).
  std::vector<std::string> shapes;
  for (const Reference& reference : kReferences) {
    ASSIGN_OR_RETURN(const TransitionSpec spec,
                     EpisodeSpecOf(absl::StrCat("smac/", reference.map)));
    for (int batch : {32, 128}) {
      shapes.push_back(absl::StrCat(reference.map, ",", batch, ",", spec.episode_steps() - 1, ",",
                                    spec.num_agents(), ",", spec.obs_size(), ",", spec.state_size(),
                                    ",", spec.action_size(), ",", reference.min_length, ",",
                                    reference.max_length));
    }
  }
  std::string why_not;
  const std::map<std::string, double> pytorch =
      runs("learner") ? MeasurePytorchReference(args.GetString("reference_script"), shapes, threads,
                                                duration, &why_not)
                      : std::map<std::string, double>();
  if (runs("learner") && pytorch.empty())
    out << "    (PyTorch reference on this machine not measured: " << why_not << ")\n";
  for (const Reference& reference : kReferences) {
    if (!runs("learner")) break;
    ASSIGN_OR_RETURN(const TransitionSpec spec,
                     EpisodeSpecOf(absl::StrCat("smac/", reference.map)));
    for (int batch : {32, 128}) {
      ASSIGN_OR_RETURN(const double rate, MeasureLearner(spec, reference, batch, duration));
      const double low = batch == 32 ? reference.updates_32_low : reference.updates_128;
      const double high = batch == 32 ? reference.updates_32_high : reference.updates_128;
      const double expected = 0.5 * (low + high) * scale;
      out << "    " << std::left << std::setw(5) << reference.map << std::right << " lengths "
          << reference.min_length << "-" << reference.max_length << ", batch " << std::setw(3)
          << batch << ": " << std::setprecision(2) << std::setw(6) << rate << " updates/s; pymarl2 "
          << std::setprecision(1) << low << (low != high ? "-" : "")
          << (low != high ? absl::StrCat(high) : "") << " at 78 GFLOP/s = " << std::setprecision(2)
          << expected << " here; ratio " << rate / expected << "\n";
      const auto same_machine = pytorch.find(absl::StrCat(reference.map, " ", batch));
      if (same_machine != pytorch.end()) {
        out << "          the same learner in PyTorch, here: " << same_machine->second
            << " updates/s; ratio " << rate / same_machine->second << "\n";
      }
      const double ceiling = gflops * 1e9 / UpdateFlops(spec, reference, batch);
      out << "          matmul floor: at most " << std::setprecision(1) << ceiling
          << " updates/s if every product of the padded update ran at this machine's rate (we "
             "reach "
          << std::setprecision(0) << 100 * rate / ceiling << " %)\n";
    }
  }
  // The conservative terms of the offline phase, next to plain QMIX on the same shapes.
  if (runs("cql")) {
    const Reference& reference = kReferences[0];
    ASSIGN_OR_RETURN(const TransitionSpec spec,
                     EpisodeSpecOf(absl::StrCat("smac/", reference.map)));
    for (int batch : {32, 128}) {
      ASSIGN_OR_RETURN(const double plain, MeasureLearner(spec, reference, batch, duration));
      out << "    " << reference.map << " batch " << std::setw(3) << batch << " with CQL: plain "
          << std::setprecision(2) << plain << " updates/s";
      for (const char* variant : {"macql", "cfcql"}) {
        ASSIGN_OR_RETURN(const double rate,
                         MeasureLearner(spec, reference, batch, duration, variant));
        out << ", " << variant << " " << rate << " (" << rate / plain << "x)";
      }
      out << "\n";
    }
  }
  at::set_num_threads(1);
  if (!runs("actor")) return absl::OkStatus();
  const std::string env = "smac/3s5z";
  ASSIGN_OR_RETURN(const double raw, RawEnvStepsPerSecond(env, 16, duration));
  // At epsilon 1 every action is drawn as the raw env's are (uniform over the available ones)
  // after the GRU's forward pass and greedy choice, so both step the same kind of episodes. A
  // greedy untrained agent plays other episodes (longer, more units alive: a dearer env), so at
  // epsilon 0.05 the actor is compared with the time its own envs took.
  ASSIGN_OR_RETURN(const ActorRate random, MeasureActor(env, 16, 1.0, duration));
  ASSIGN_OR_RETURN(const ActorRate greedy, MeasureActor(env, 16, 0.05, duration));
  ASSIGN_OR_RETURN(const ActorRate greedy_8, MeasureActor(env, 8, 0.05, absl::Seconds(0)));
  out << "  actor on " << env << ", 1 thread, 16 envs, GRU agent + epsilon-greedy + episodes "
      << "streamed to a replay server in this process:\n"
      << "    raw env, random available actions: " << std::setprecision(0) << raw
      << " env steps/s\n"
      << "    actor at epsilon 1 (the raw env's actions, after the GRU): "
      << random.steps_per_second << " env steps/s; ratio to the raw env " << std::setprecision(2)
      << random.steps_per_second / raw << " (" << random.stored_steps << " env steps stored)\n"
      << "    actor at epsilon 0.05: " << std::setprecision(0) << greedy.steps_per_second
      << " env steps/s; its envs alone " << greedy.env_steps_per_second << "; ratio "
      << std::setprecision(2) << greedy.steps_per_second / greedy.env_steps_per_second << "\n"
      << "    action selection per decision step: " << std::setprecision(3) << greedy.select_ms
      << " ms for 16 envs, " << greedy_8.select_ms
      << " ms for 8 envs (pymarl2's select_actions, 8 envs: 0.87-0.95 ms at 78 GFLOP/s)\n";
  return absl::OkStatus();
}

}  // namespace

cli::Command QmixBenchCommand() {
  cli::Command command(
      "qmix",
      "QMIX learner updates/s on 3s5z- and 3m-shaped episode batches (32 and 128 "
      "episodes) against pymarl2's reference, with MACQL's and CFCQL's conservative "
      "terms next to plain QMIX on 3s5z, and actor env steps/s with GRU inference "
      "on 3s5z against the raw env.");
  command.flags = {
      {"seconds", cli::FlagKind::kDouble, "Duration of each measurement.", "5", "S"},
      {"threads", cli::FlagKind::kInt,
       "LibTorch intra-op threads of the learner (as the reference).", "2", "N"},
      {"reference_script", cli::FlagKind::kString,
       "The same QMIX learner in PyTorch, run with /usr/bin/python3 (Debian's python3-torch) for "
       "a same-machine ratio.",
       TANDEM_SOURCE_DIR "/python/bench_qmix_reference.py", "FILE"},
      {"part", cli::FlagKind::kString,
       "What to measure: all, learner (with the PyTorch reference), cql or actor.", "all", "PART"},
  };
  command.run = cli::StatusHandler("tandem bench qmix", RunQmixBench);
  return command;
}

}  // namespace tandem
