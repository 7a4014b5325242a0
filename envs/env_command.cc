#include "envs/env_command.h"

#include <iomanip>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "common/rng.h"
#include "common/status_macros.h"
#include "envs/env_pool.h"
#include "envs/mamujoco/mamujoco_env.h"
#include "envs/registry.h"
#include "envs/smac/scripted_policy.h"
#include "envs/smac/smac_env.h"

namespace tandem::envs {
namespace {

// Uniform random joint actions inside the box, prepared up front so the timed loops measure the
// env, not the random number generator (empty for discrete envs, whose masks change every step).
std::vector<float> RandomActions(const EnvSpec& spec, int count, Rng& rng) {
  if (spec.action_type == ACTION_TYPE_DISCRETE) return {};
  std::vector<float> actions(static_cast<size_t>(count) * spec.num_agents * spec.action_size);
  const size_t per = static_cast<size_t>(spec.num_agents) * spec.action_size;
  for (int c = 0; c < count; ++c) {
    for (size_t j = 0; j < per; ++j) {
      actions[c * per + j] = static_cast<float>(
          spec.action_low[j] + (spec.action_high[j] - spec.action_low[j]) * UniformUnit(rng));
    }
  }
  return actions;
}

// Env steps per second of one env (stepping, rewards and observations), resetting when done.
absl::StatusOr<double> MeasureEnv(MultiAgentEnv& env, absl::Duration duration,
                                  const std::vector<float>& actions) {
  const EnvSpec& spec = env.spec();
  std::vector<float> obs(spec.num_agents * spec.obs_size), state(spec.state_size);
  std::vector<uint8_t> avail(spec.has_avail_actions ? spec.num_agents * spec.action_size : 0);
  TimeStepView view{absl::MakeSpan(obs), absl::MakeSpan(state), absl::MakeSpan(avail)};
  const size_t per = static_cast<size_t>(spec.num_agents) * spec.action_size;
  const size_t count = actions.size() / per;
  const bool discrete = spec.action_type == ACTION_TYPE_DISCRETE;
  std::vector<int32_t> indices(spec.num_agents);
  Rng rng(11);
  RETURN_IF_ERROR(env.Reset(1, view));
  int64_t steps = 0, episodes = 1;
  const absl::Time start = absl::Now();
  absl::Time now = start;
  while (now - start < duration) {
    for (int i = 0; i < 256; ++i, ++steps) {
      JointAction action;
      if (discrete) {
        // Discrete envs: a uniformly random available action per agent (cheap next to a step).
        smac::RandomAvailableActions(avail, spec.num_agents, spec.action_size, rng,
                                     absl::MakeSpan(indices));
        action.discrete = indices;
      } else {
        action.continuous = absl::MakeConstSpan(actions.data() + (steps % count) * per, per);
      }
      StepOutcome outcome;
      RETURN_IF_ERROR(env.Step(action, view, &outcome));
      if (outcome.terminated || outcome.truncated) RETURN_IF_ERROR(env.Reset(++episodes, view));
    }
    now = absl::Now();
  }
  return steps / absl::ToDoubleSeconds(now - start);
}

// The same model's raw physics: mj_step x frame_skip per env step, no observation or reward work;
// episodes restart on the same schedule (unhealthy state or the time limit).
double MeasurePhysics(const MaMujocoEnv& env, absl::Duration duration,
                      const std::vector<float>& actions) {
  const mjModel* m = env.model();
  MjDataPtr data = MakeData(m);
  mjData* d = data.get();
  const int nu = m->nu;
  const size_t count = actions.size() / nu;
  const int frame_skip = env.frame_skip();
  const int limit = env.spec().episode_limit;
  mj_resetData(m, d);
  mj_forward(m, d);
  int64_t steps = 0;
  int episode_step = 0;
  const absl::Time start = absl::Now();
  absl::Time now = start;
  while (now - start < duration) {
    for (int i = 0; i < 256; ++i, ++steps) {
      const float* a = actions.data() + (steps % count) * nu;
      for (int u = 0; u < nu; ++u) d->ctrl[u] = a[u];
      for (int s = 0; s < frame_skip; ++s) mj_step(m, d);
      if (++episode_step >= limit || !env.robot().Healthy(m, d)) {
        mj_resetData(m, d);
        mj_forward(m, d);
        episode_step = 0;
      }
    }
    now = absl::Now();
  }
  return steps / absl::ToDoubleSeconds(now - start);
}

absl::Status RunBench(const std::string& name, const cli::Args& args, std::ostream& out) {
  ASSIGN_OR_RETURN(std::unique_ptr<MultiAgentEnv> env, CreateEnv(name));
  const absl::Duration duration = absl::Seconds(args.GetDouble("seconds"));
  Rng rng(7);
  const EnvSpec& spec = env->spec();
  std::vector<float> actions = RandomActions(spec, 4096, rng);
  out << "tandem env bench " << spec.name << " (" << absl::FormatDuration(duration)
      << " per measurement, one core, uniform random actions)\n";
  ASSIGN_OR_RETURN(double env_rate, MeasureEnv(*env, duration, actions));
  const bool mujoco_env = dynamic_cast<MaMujocoEnv*>(env.get()) != nullptr;
  out << (mujoco_env ? "  env steps/s (physics + reward + observations)  "
                     : "  env steps/s (simulation + reward + observations, masks)  ")
      << std::fixed << std::setprecision(0) << env_rate << "\n";
  if (auto* mujoco = dynamic_cast<MaMujocoEnv*>(env.get())) {
    // Raw physics consumes single-agent action vectors of nu entries.
    std::vector<float> flat = RandomActions(spec, 4096, rng);
    flat.resize(flat.size() / (spec.num_agents * spec.action_size) * mujoco->model()->nu);
    const double physics_rate = MeasurePhysics(*mujoco, duration, flat);
    out << "  raw physics steps/s (mj_step x " << mujoco->frame_skip() << ", no obs)      "
        << physics_rate << " (" << physics_rate * mujoco->frame_skip() << " mj_step/s)\n"
        << "  ratio env / raw physics                         " << std::setprecision(3)
        << env_rate / physics_rate << "\n";
  }
  return absl::OkStatus();
}

absl::Status RunPlay(const cli::Args& args, std::ostream& out) {
  // "smac/*" stands for every map.
  std::vector<std::string> names;
  for (const std::string& name : args.positional()) {
    if (name == "smac/*") {
      for (const std::string& registered : RegisteredEnvs()) {
        if (registered.rfind("smac/", 0) == 0) names.push_back(registered);
      }
    } else {
      names.push_back(name);
    }
  }
  std::vector<std::pair<std::string, smac::ReferencePolicy>> policies;
  for (absl::string_view policy : absl::StrSplit(args.GetString("policy"), ',')) {
    if (policy == "random") {
      policies.emplace_back("random", smac::ReferencePolicy::kRandom);
    } else if (policy == "scripted") {
      policies.emplace_back("scripted", smac::ReferencePolicy::kScripted);
    } else {
      return absl::InvalidArgumentError(absl::StrCat(
          "--policy must be random or scripted (or both, comma-separated), got '", policy, "'"));
    }
  }
  const int64_t episodes = args.GetInt("episodes");
  if (episodes < 1) return absl::InvalidArgumentError("--episodes must be >= 1");
  const uint64_t seed = static_cast<uint64_t>(args.GetInt("seed"));
  std::vector<std::unique_ptr<MultiAgentEnv>> envs;
  for (const std::string& name : names) {
    ASSIGN_OR_RETURN(std::unique_ptr<MultiAgentEnv> env, CreateEnv(name));
    if (dynamic_cast<SmacEnv*>(env.get()) == nullptr) {
      return absl::InvalidArgumentError(
          absl::StrCat(name, " is not a smac/ env; env play supports the SMAC-like maps"));
    }
    envs.push_back(std::move(env));
  }
  out << "tandem env play: " << episodes << " episodes per row, seed " << seed
      << ", one core (steps/s include the policy)\n"
      << std::left << std::setw(22) << "env" << std::setw(10) << "policy" << std::right
      << std::setw(9) << "win rate" << std::setw(17) << "return" << std::setw(9) << "length"
      << std::setw(10) << "steps/s"
      << "\n";
  for (auto& env : envs) {
    for (const auto& [policy_name, policy] : policies) {
      ASSIGN_OR_RETURN(smac::PlayStats stats,
                       smac::PlayEpisodes(*static_cast<SmacEnv*>(env.get()), policy,
                                          static_cast<int>(episodes), seed));
      out << std::left << std::setw(22) << env->spec().name << std::setw(10) << policy_name
          << std::right << std::fixed << std::setprecision(3) << std::setw(9)
          << static_cast<double>(stats.wins) / stats.episodes << std::setw(9)
          << std::setprecision(2) << stats.mean_return << " +- " << std::setw(4) << stats.std_return
          << std::setw(9) << std::setprecision(1) << stats.mean_length << std::setw(10)
          << std::setprecision(0) << stats.steps / stats.seconds << "\n";
    }
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<double> RawPhysicsStepsPerSecond(const std::string& name, absl::Duration duration) {
  ASSIGN_OR_RETURN(std::unique_ptr<MultiAgentEnv> env, CreateEnv(name));
  auto* mujoco = dynamic_cast<MaMujocoEnv*>(env.get());
  if (mujoco == nullptr) {
    return absl::InvalidArgumentError(absl::StrCat(name, " is not a MuJoCo env"));
  }
  Rng rng(7);
  std::vector<float> flat = RandomActions(env->spec(), 4096, rng);
  flat.resize(flat.size() / (env->spec().num_agents * env->spec().action_size) *
              mujoco->model()->nu);
  return MeasurePhysics(*mujoco, duration, flat);
}

cli::Command EnvCommand() {
  cli::Command list("list", "List the registered environments.");
  list.run = [](const cli::Args&, std::ostream& out, std::ostream&) {
    for (const std::string& name : RegisteredEnvs()) out << name << "\n";
    return cli::kExitOk;
  };

  cli::Command info("info", "Print an environment's spec (agents, observation, state, actions).",
                    "ENV");
  info.description =
      "ENV may carry options, e.g. 'mamujoco/HalfCheetah-6x1(obs_mode=khop,agent_obsk=1)'.";
  info.min_positional = info.max_positional = 1;
  info.run = [](const cli::Args& args, std::ostream& out, std::ostream& err) {
    auto env = CreateEnv(args.positional()[0]);
    if (!env.ok()) return cli::ReportFailure("tandem env info", env.status(), err);
    out << (*env)->spec().Describe();
    return cli::kExitOk;
  };

  cli::Command bench("bench",
                     "Measure env steps/s and, for MuJoCo envs, the raw physics steps/s of the "
                     "same model and their ratio, in one run.",
                     "ENV");
  bench.flags = {{"seconds", cli::FlagKind::kDouble, "Duration of each measurement.", "3", "S"}};
  bench.min_positional = bench.max_positional = 1;
  bench.run = cli::StatusHandler("tandem env bench", [](const cli::Args& args, std::ostream& out) {
    return RunBench(args.positional()[0], args, out);
  });

  cli::Command play("play",
                    "Play episodes of SMAC-like maps with reference policies and print win rate, "
                    "return and episode length per map and policy.",
                    "ENV...");
  play.description =
      "ENV is a smac/ env, e.g. smac/3s5z; 'smac/*' plays every map. Policies: random (uniform "
      "over available actions) and scripted (focus fire on the weakest enemy in reach, otherwise "
      "advance).";
  play.flags = {
      {"policy", cli::FlagKind::kString, "random | scripted | random,scripted.", "scripted",
       "NAMES"},
      {"episodes", cli::FlagKind::kInt, "Episodes to play.", "1000", "N"},
      {"seed", cli::FlagKind::kInt, "Seed of the episode seeds and the random policy.", "1", "S"}};
  play.min_positional = 1;
  play.max_positional = 64;
  play.run = cli::StatusHandler("tandem env play", [](const cli::Args& args, std::ostream& out) {
    return RunPlay(args, out);
  });

  cli::Command command("env", "List, describe, benchmark and play environments.");
  command.subcommands = {list, info, bench, play};
  return command;
}

}  // namespace tandem::envs
