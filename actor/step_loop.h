// The one "act, step, reset finished" loop every acting component shares (the actor, the
// evaluator, rollouts): a pool of B envs, an acting policy and a selector.
//
//   ASSIGN_OR_RETURN(auto loop, StepLoop::Create(std::move(pool), policy, std::move(selector),
//                                                StepLoopOptions{...}));
//   RETURN_IF_ERROR(loop->Begin());                 // reset every env and the policy's state
//   while (...) {
//     RETURN_IF_ERROR(loop->Act(env_steps));       // proposals -> selector -> joint actions
//     RETURN_IF_ERROR(loop->Step());               // the pool steps; prev_* keep the old step
//     Record(loop->prev_obs(), loop->actions(), loop->pool().reward(), loop->pool().obs(), ...);
//     RETURN_IF_ERROR(loop->ResetFinished());      // restart finished envs, clear their state
//   }
// Continuous and discrete actions both flow through it; the policy sees availability masks.
// `RunEpisodes` (evaluator.h) runs whole seeded episodes through it.
#ifndef TANDEM_ACTOR_STEP_LOOP_H_
#define TANDEM_ACTOR_STEP_LOOP_H_

#include <ATen/core/Generator.h>

#include <memory>
#include <vector>

#include "absl/status/statusor.h"
#include "actor/selection/selector.h"
#include "common/policies/acting_policy.h"
#include "common/rng.h"
#include "envs/env_pool.h"

namespace tandem::actor {

struct StepLoopOptions {
  // Seeds the selector's random choices and the policy's samples.
  uint64_t seed = 1;
  // false: every sampled proposal becomes the deterministic one (evaluation).
  bool explore = true;
  // Uniform random actions (in the box, or over available actions) for the first env steps.
  int64_t random_warmup_steps = 0;
  // Run the policy's independent branches on the pool's worker threads.
  bool parallel_inference = true;
};

class StepLoop {
 public:
  // `policy` is not owned and must outlive the loop (the owner swaps weights into it). It may be
  // null when the selector asks the policy for nothing (`random`).
  static absl::StatusOr<std::unique_ptr<StepLoop>> Create(std::unique_ptr<envs::EnvPool> pool,
                                                          policies::ActingPolicy* policy,
                                                          std::unique_ptr<ActionSelector> selector,
                                                          const StepLoopOptions& options);

  // Resets every env and starts the policy's per-env state.
  absl::Status Begin();
  // Chooses the joint actions of every env for the current observations; `env_steps` drives the
  // warm-up and the selector's schedules.
  absl::Status Act(int64_t env_steps);
  // Steps every env with the chosen actions, keeping the previous observations in prev_*.
  absl::Status Step();
  // Restarts the envs whose episode just ended and clears their policy state.
  absl::Status ResetFinished();

  envs::EnvPool& pool() { return *pool_; }
  const envs::EnvSpec& spec() const { return pool_->spec(); }
  ActionSelector& selector() { return *selector_; }
  bool discrete() const { return discrete_; }
  // The chosen actions: [B, N, A] floats (continuous) or [B, N] indices (discrete).
  absl::Span<const float> continuous_actions() const { return continuous_; }
  absl::Span<const int32_t> discrete_actions() const { return discrete_actions_; }
  // Per env: bit i set when agent i took its offline proposal.
  absl::Span<const Hybrid> hybrids() const { return hybrids_; }
  // Whether the last Act used the selector (false during the random warm-up).
  bool selected() const { return selected_; }
  // Observations, state and masks of the step before the last Step().
  absl::Span<const float> prev_obs() const { return prev_obs_; }
  absl::Span<const float> prev_state() const { return prev_state_; }
  absl::Span<const uint8_t> prev_avail() const { return prev_avail_; }

 private:
  StepLoop() = default;

  std::unique_ptr<envs::EnvPool> pool_;
  policies::ActingPolicy* policy_ = nullptr;
  std::unique_ptr<ActionSelector> selector_;
  // The `random` selector, acting during the warm-up.
  std::unique_ptr<ActionSelector> warmup_;
  policies::ProposalRequest request_;
  StepLoopOptions options_;
  bool discrete_ = false;
  Rng rng_;
  at::Generator generator_;
  std::vector<float> continuous_, prev_obs_, prev_state_;
  std::vector<int32_t> discrete_actions_;
  std::vector<uint8_t> prev_avail_, finished_;
  std::vector<Hybrid> hybrids_;
  bool selected_ = false;
};

}  // namespace tandem::actor

#endif  // TANDEM_ACTOR_STEP_LOOP_H_
