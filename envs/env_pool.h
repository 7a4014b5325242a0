// A batch of B environments stepped together into pre-allocated, contiguous buffers (EnvPool
// style), optionally split across worker threads.
//
//   ASSIGN_OR_RETURN(auto pool, EnvPool::Create("mamujoco/HalfCheetah-6x1", 16, seed, 2));
//   RETURN_IF_ERROR(pool->ResetAll());
//   while (...) {
//     FillActions(pool->obs(), actions);             // [B, N, A]
//     RETURN_IF_ERROR(pool->Step(actions));          // obs/state/reward/terminated/truncated
//     RecordTransitions(...);
//     RETURN_IF_ERROR(pool->ResetFinished());        // restart envs whose episode ended
//   }
// Env i's episode e is seeded DeriveSeed(seed, {kEnv, i, e}): distinct per env, reproducible.
#ifndef TANDEM_ENVS_ENV_POOL_H_
#define TANDEM_ENVS_ENV_POOL_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "common/worker_pool.h"
#include "envs/multi_agent_env.h"
#include "envs/registry.h"

namespace tandem::envs {

class EnvPool {
 public:
  // Envs are stepped across `num_threads` threads, the caller's included (1 = on the caller's).
  static absl::StatusOr<std::unique_ptr<EnvPool>> Create(const std::string& name, int num_envs,
                                                         uint64_t seed, int num_threads = 1,
                                                         const EnvOptions& options = {});
  ~EnvPool();

  const EnvSpec& spec() const { return envs_.front()->spec(); }
  int size() const { return static_cast<int>(envs_.size()); }

  // How episode `episode` (0, 1, ...) of env `env` is seeded; replaces the default
  // DeriveSeed(seed, {kEnv, env, episode}) (evaluation uses its own per-episode seeds).
  void set_episode_seeds(std::function<uint64_t(int env, int64_t episode)> seeds) {
    episode_seeds_ = std::move(seeds);
  }

  // Resets every env.
  absl::Status ResetAll();
  // Steps every env with its slice of `actions` ([B, N, A] floats, or [B, N] indices).
  absl::Status Step(absl::Span<const float> continuous, absl::Span<const int32_t> discrete = {});
  // Resets the envs whose last step ended the episode (their buffers get the new first step).
  absl::Status ResetFinished();

  // Buffers, row-major with B rows.
  absl::Span<const float> obs() const { return obs_; }                // [B, N, O]
  absl::Span<const float> state() const { return state_; }            // [B, S]
  absl::Span<const uint8_t> avail_actions() const { return avail_; }  // [B, N, K]
  absl::Span<const float> reward() const { return reward_; }          // [B]
  absl::Span<const uint8_t> terminated() const { return terminated_; }
  absl::Span<const uint8_t> truncated() const { return truncated_; }
  absl::Span<const uint8_t> won() const { return won_; }
  // Env steps taken in total.
  int64_t total_steps() const { return total_steps_; }
  MultiAgentEnv& env(int i) { return *envs_[i]; }
  // The threads that step the envs; idle between steps, so their owner may run other parallel
  // work on them (the actor runs its two inference branches there).
  WorkerPool& workers() { return *workers_; }

 private:
  EnvPool() = default;
  TimeStepView View(int i);
  // The seed of env i's next episode (counts it as started).
  uint64_t NextEpisodeSeed(int i);
  // Runs `work(i)` for every env, across the workers; returns the first error.
  absl::Status ForEachEnv(const std::function<absl::Status(int)>& work);

  std::vector<std::unique_ptr<MultiAgentEnv>> envs_;
  uint64_t seed_ = 0;
  std::function<uint64_t(int, int64_t)> episode_seeds_;
  std::vector<int64_t> episodes_;
  std::vector<float> obs_, state_, reward_;
  std::vector<uint8_t> avail_, terminated_, truncated_, won_;
  int64_t total_steps_ = 0;
  std::vector<float> zero_actions_;

  std::unique_ptr<WorkerPool> workers_;
};

}  // namespace tandem::envs

#endif  // TANDEM_ENVS_ENV_POOL_H_
