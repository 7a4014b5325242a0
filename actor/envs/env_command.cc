#include "actor/envs/env_command.h"

#include <iomanip>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "actor/envs/env_pool.h"
#include "actor/envs/mamujoco/mamujoco_env.h"
#include "actor/envs/registry.h"
#include "common/rng.h"
#include "common/status_macros.h"

namespace tandem::envs {
namespace {

// Uniform random joint actions inside the box (or over all actions for discrete envs), prepared
// up front so the timed loops measure the env, not the random number generator.
std::vector<float> RandomActions(const EnvSpec& spec, int count, Rng& rng) {
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
  RETURN_IF_ERROR(env.Reset(1, view));
  int64_t steps = 0, episodes = 1;
  const absl::Time start = absl::Now();
  absl::Time now = start;
  while (now - start < duration) {
    for (int i = 0; i < 256; ++i, ++steps) {
      JointAction action;
      action.continuous = absl::MakeConstSpan(actions.data() + (steps % count) * per, per);
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
  out << "  env steps/s (physics + reward + observations)  " << std::fixed << std::setprecision(0)
      << env_rate << "\n";
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

  cli::Command command("env", "List, describe and benchmark environments.");
  command.subcommands = {list, info, bench};
  return command;
}

}  // namespace tandem::envs
