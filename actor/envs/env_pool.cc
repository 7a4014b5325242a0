#include "actor/envs/env_pool.h"

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
  const int workers = std::min(num_threads, num_envs);
  if (workers > 1) {
    absl::MutexLock lock(&pool->mu_);
    pool->worker_status_.assign(workers, absl::OkStatus());
    for (int w = 0; w < workers; ++w) {
      pool->workers_.emplace_back([p = pool.get(), w] { p->WorkerLoop(w); });
    }
  }
  return pool;
}

EnvPool::~EnvPool() {
  {
    absl::MutexLock lock(&mu_);
    stop_ = true;
  }
  for (std::thread& worker : workers_) worker.join();
}

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

void EnvPool::WorkerLoop(int worker) {
  int workers = 1;
  {
    absl::MutexLock lock(&mu_);
    workers = static_cast<int>(worker_status_.size());
  }
  int64_t seen = 0;
  while (true) {
    const std::function<absl::Status(int)>* job;
    {
      absl::MutexLock lock(&mu_);
      auto ready = [&]()
                       ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return stop_ || generation_ != seen; };
      mu_.Await(absl::Condition(&ready));
      if (stop_) return;
      seen = generation_;
      job = job_;
    }
    absl::Status status = absl::OkStatus();
    for (int i = worker; i < size(); i += workers) {
      status = (*job)(i);
      if (!status.ok()) break;
    }
    absl::MutexLock lock(&mu_);
    worker_status_[worker] = status;
    --pending_;
  }
}

absl::Status EnvPool::ForEachEnv(const std::function<absl::Status(int)>& work) {
  if (workers_.empty()) {
    for (int i = 0; i < size(); ++i) RETURN_IF_ERROR(work(i));
    return absl::OkStatus();
  }
  absl::MutexLock lock(&mu_);
  job_ = &work;
  pending_ = static_cast<int>(workers_.size());
  ++generation_;
  auto done = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return pending_ == 0; };
  mu_.Await(absl::Condition(&done));
  job_ = nullptr;
  for (const absl::Status& status : worker_status_) RETURN_IF_ERROR(status);
  return absl::OkStatus();
}

absl::Status EnvPool::ResetAll() {
  return ForEachEnv([this](int i) {
    terminated_[i] = truncated_[i] = won_[i] = 0;
    reward_[i] = 0;
    return envs_[i]->Reset(DeriveSeed(seed_, {SeedStream::kEnv, static_cast<uint64_t>(i),
                                              static_cast<uint64_t>(episodes_[i]++)}),
                           View(i));
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
  return ForEachEnv([this](int i) {
    if (!terminated_[i] && !truncated_[i]) return absl::OkStatus();
    terminated_[i] = truncated_[i] = won_[i] = 0;
    return envs_[i]->Reset(DeriveSeed(seed_, {SeedStream::kEnv, static_cast<uint64_t>(i),
                                              static_cast<uint64_t>(episodes_[i]++)}),
                           View(i));
  });
}

}  // namespace tandem::envs
