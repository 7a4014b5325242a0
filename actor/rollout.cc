#include "actor/rollout.h"

#include <algorithm>
#include <cmath>
#include <memory>
#include <vector>

#include "actor/episode_buffer.h"
#include "common/rng.h"
#include "common/status_macros.h"

namespace tandem::actor {

absl::StatusOr<int64_t> RecordRollouts(envs::EnvPool& pool, const ActionFn& act, int64_t env_steps,
                                       DatasetWriter& writer) {
  const envs::EnvSpec& spec = pool.spec();
  const int64_t b = pool.size(), n = spec.num_agents, o = spec.obs_size, s = spec.state_size;
  const int64_t a = spec.action_size;
  std::vector<float> actions(b * n * a), obs(b * n * o), state(b * s);
  std::vector<EpisodeBuffer> episodes(b, EpisodeBuffer(spec));
  int64_t recorded = 0;
  while (recorded < env_steps) {
    std::copy(pool.obs().begin(), pool.obs().end(), obs.begin());
    std::copy(pool.state().begin(), pool.state().end(), state.begin());
    RETURN_IF_ERROR(act(pool, absl::MakeSpan(actions)));
    RETURN_IF_ERROR(pool.Step(actions));
    for (int64_t i = 0; i < b && recorded < env_steps; ++i, ++recorded) {
      EpisodeBuffer& e = episodes[i];
      e.Add(obs.data() + i * n * o, state.data() + i * s, actions.data() + i * n * a,
            pool.reward()[i], pool.terminated()[i], pool.truncated()[i],
            pool.obs().data() + i * n * o, pool.state().data() + i * s);
      if (pool.terminated()[i] || pool.truncated()[i]) RETURN_IF_ERROR(e.FlushTo(writer));
    }
    RETURN_IF_ERROR(pool.ResetFinished());
  }
  // Episodes cut by the end of collection are marked truncated: not terminal, just stopped.
  for (EpisodeBuffer& e : episodes) {
    e.MarkTruncated();
    RETURN_IF_ERROR(e.FlushTo(writer));
  }
  return recorded;
}

absl::StatusOr<EvaluationResult> RecordEpisodes(const std::string& env_name,
                                                const envs::EnvOptions& options,
                                                const JointPolicy& policy, int episodes,
                                                uint64_t seed, double action_noise,
                                                DatasetWriter& writer,
                                                const std::function<void(int, double)>& progress) {
  ASSIGN_OR_RETURN(std::unique_ptr<envs::MultiAgentEnv> env, envs::CreateEnv(env_name, options));
  const envs::EnvSpec& spec = env->spec();
  const int64_t n = spec.num_agents, o = spec.obs_size, a = spec.action_size;
  std::vector<float> obs(n * o), state(spec.state_size), next_obs(n * o),
      next_state(spec.state_size), actions(n * a);
  std::vector<uint8_t> avail;
  envs::TimeStepView view{absl::MakeSpan(next_obs), absl::MakeSpan(next_state),
                          absl::MakeSpan(avail)};
  EpisodeBuffer episode(spec);
  std::vector<double> returns;
  double length = 0;
  for (int e = 0; e < episodes; ++e) {
    // The evaluation's episode seeds: without noise, episode e replays evaluation episode e.
    RETURN_IF_ERROR(
        env->Reset(DeriveSeed(seed, {SeedStream::kEvaluation, static_cast<uint64_t>(e)}), view));
    Rng noise_rng(DeriveSeed(seed, {SeedStream::kDataset, static_cast<uint64_t>(e)}));
    std::normal_distribution<double> normal(0.0, 1.0);
    envs::StepOutcome outcome;
    while (!outcome.terminated && !outcome.truncated) {
      obs = next_obs;
      state = next_state;
      RETURN_IF_ERROR(policy(obs.data(), state.data(), actions.data()));
      if (action_noise > 0) {
        for (size_t j = 0; j < actions.size(); ++j) {
          const double noisy = actions[j] + action_noise * normal(noise_rng);
          actions[j] = static_cast<float>(std::clamp(noisy, static_cast<double>(spec.action_low[j]),
                                                     static_cast<double>(spec.action_high[j])));
        }
      }
      envs::JointAction joint;
      joint.continuous = actions;
      RETURN_IF_ERROR(env->Step(joint, view, &outcome));
      episode.Add(obs.data(), state.data(), actions.data(), outcome.reward, outcome.terminated,
                  outcome.truncated, next_obs.data(), next_state.data());
    }
    returns.push_back(episode.episode_return());
    length += episode.rows();
    RETURN_IF_ERROR(episode.FlushTo(writer));
    if (progress) progress(e + 1, returns.back());
  }
  return SummarizeReturns(returns, length);
}

ActionFn UniformRandomActions(uint64_t seed) {
  auto rng = std::make_shared<Rng>(seed);
  return [rng](const envs::EnvPool& pool, absl::Span<float> actions) {
    const envs::EnvSpec& spec = pool.spec();
    const size_t per_env = spec.action_low.size();
    for (size_t j = 0; j < actions.size(); ++j) {
      const size_t k = j % per_env;
      actions[j] = static_cast<float>(
          spec.action_low[k] + (spec.action_high[k] - spec.action_low[k]) * UniformUnit(*rng));
    }
    return absl::OkStatus();
  };
}

}  // namespace tandem::actor
