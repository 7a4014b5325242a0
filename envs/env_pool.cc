#include "envs/env_pool.h"

#include "absl/strings/str_cat.h"
#include "common/rng.h"
#include "common/status_macros.h"

namespace tandem::envs {

absl::StatusOr<std::unique_ptr<EnvPool>> EnvPool::Create(const std::string& name, int num_envs,
                                                         uint64_t seed, int num_threads,
                                                         const EnvOptions& options) {
  if (num_envs < 1) return absl::InvalidArgumentError("env pool: num_envs must be >= 1");
  if (num_threads < 1) return absl::InvalidArgumentError("env pool: num_threads must be >= 1");
  std::unique_ptr<EnvPool> pool(new EnvPool());
  for (int i = 0; i < num_envs; ++i) {
    ASSIGN_OR_RETURN(std::unique_ptr<MultiAgentEnv> env, CreateEnv(name, options));
    pool->envs_.push_back(std::move(env));
  }
  const EnvSpec& spec = pool->spec();
  const int b = num_envs;
  pool->seed_ = seed;
  pool->episodes_.assign(b, 0);
  pool->obs_.assign(static_cast<size_t>(b) * spec.num_agents * spec.obs_size, 0.f);
  pool->state_.assign(static_cast<size_t>(b) * spec.state_size, 0.f);
  if (spec.has_avail_actions) {
    pool->avail_.assign(static_cast<size_t>(b) * spec.num_agents * spec.action_size, 0);
  }
  pool->reward_.assign(b, 0.f);
  pool->terminated_.assign(b, 0);
  pool->truncated_.assign(b, 0);
  pool->won_.assign(b, 0);
  pool->workers_ = std::make_unique<WorkerPool>(std::min(num_threads, num_envs));
  return pool;
}

EnvPool::~EnvPool() = default;

TimeStepView EnvPool::View(int i) {
  const EnvSpec& s = spec();
  const size_t obs = static_cast<size_t>(s.num_agents) * s.obs_size;
  TimeStepView view;
  view.obs = absl::MakeSpan(obs_.data() + i * obs, obs);
  view.state = absl::MakeSpan(state_.data() + static_cast<size_t>(i) * s.state_size, s.state_size);
  if (!avail_.empty()) {
    const size_t avail = static_cast<size_t>(s.num_agents) * s.action_size;
    view.avail_actions = absl::MakeSpan(avail_.data() + i * avail, avail);
  }
  return view;
}

absl::Status EnvPool::ForEachEnv(const std::function<absl::Status(int)>& work) {
  return workers_->ForEach(size(), work);
}

uint64_t EnvPool::NextEpisodeSeed(int i) {
  const int64_t episode = episodes_[i]++;
  if (episode_seeds_) return episode_seeds_(i, episode);
  return DeriveSeed(seed_,
                    {SeedStream::kEnv, static_cast<uint64_t>(i), static_cast<uint64_t>(episode)});
}

absl::Status EnvPool::ResetAll() {
  return ForEachEnv([this](int i) {
    terminated_[i] = truncated_[i] = won_[i] = 0;
    reward_[i] = 0;
    return envs_[i]->Reset(NextEpisodeSeed(i), View(i));
  });
}

absl::Status EnvPool::Step(absl::Span<const float> continuous, absl::Span<const int32_t> discrete) {
  const EnvSpec& s = spec();
  const size_t per_env_continuous = static_cast<size_t>(s.num_agents) * s.action_size;
  const size_t per_env_discrete = s.num_agents;
  const bool is_discrete = s.action_type == ACTION_TYPE_DISCRETE;
  const size_t expected = size() * (is_discrete ? per_env_discrete : per_env_continuous);
  const size_t given = is_discrete ? discrete.size() : continuous.size();
  if (given != expected) {
    return absl::InvalidArgumentError(absl::StrCat(
        "env pool: expected ", expected, " action values for ", size(), " envs, got ", given));
  }
  RETURN_IF_ERROR(ForEachEnv([&](int i) {
    JointAction action;
    if (is_discrete) {
      action.discrete = discrete.subspan(i * per_env_discrete, per_env_discrete);
    } else {
      action.continuous = continuous.subspan(i * per_env_continuous, per_env_continuous);
    }
    StepOutcome outcome;
    RETURN_IF_ERROR(envs_[i]->Step(action, View(i), &outcome));
    reward_[i] = outcome.reward;
    terminated_[i] = outcome.terminated;
    truncated_[i] = outcome.truncated;
    won_[i] = outcome.won;
    return absl::OkStatus();
  }));
  total_steps_ += size();
  return absl::OkStatus();
}

absl::Status EnvPool::ResetFinished() {
  // Most steps finish no episode: skip waking the workers then.
  bool any = false;
  for (int i = 0; i < size(); ++i) any = any || terminated_[i] || truncated_[i];
  if (!any) return absl::OkStatus();
  return ForEachEnv([this](int i) {
    if (!terminated_[i] && !truncated_[i]) return absl::OkStatus();
    terminated_[i] = truncated_[i] = won_[i] = 0;
    return envs_[i]->Reset(NextEpisodeSeed(i), View(i));
  });
}

}  // namespace tandem::envs
