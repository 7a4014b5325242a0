#include "actor/evaluator.h"

#include <ATen/ATen.h>

#include <cmath>
#include <cstring>
#include <vector>

#include "absl/strings/str_cat.h"
#include "actor/step_loop.h"
#include "common/rng.h"
#include "common/status_macros.h"
#include "envs/env_pool.h"

namespace tandem::actor {

EvaluationResult SummarizeReturns(const std::vector<double>& returns, double total_length) {
  EvaluationResult result;
  result.episodes = static_cast<int>(returns.size());
  if (returns.empty()) return result;
  double sum = 0, sum_sq = 0;
  result.min_return = returns.front();
  result.max_return = returns.front();
  for (double r : returns) {
    sum += r;
    sum_sq += r * r;
    result.min_return = std::min(result.min_return, r);
    result.max_return = std::max(result.max_return, r);
  }
  const double n = static_cast<double>(returns.size());
  result.mean_return = sum / n;
  result.std_return =
      std::sqrt(std::max(0.0, sum_sq / n - result.mean_return * result.mean_return));
  result.mean_length = total_length / n;
  return result;
}

absl::StatusOr<SelectorConfig> EvaluationSelector(const std::string& policy, int beam_width) {
  SelectorConfig selector;
  if (policy == "online") {
    selector.set_name("greedy");
  } else if (policy == "offline") {
    selector.set_name("offline");
  } else if (policy == "random") {
    selector.set_name("random");
  } else if (policy == "composed") {
    selector.set_name("cbs-greedy");
    selector.set_beam_width(beam_width);
    selector.set_agent_order(SelectorConfig::AGENT_ORDER_FORWARD);
  } else {
    return absl::InvalidArgumentError(absl::StrCat(
        "evaluated policy '", policy, "' is not one of online, offline, composed, random"));
  }
  return selector;
}

absl::StatusOr<EvaluationResult> RunEpisodes(const std::string& env_name,
                                             const envs::EnvOptions& options,
                                             policies::ActingPolicy* policy,
                                             const SelectorConfig& selector_config, int episodes,
                                             uint64_t seed, const StepObserver& observe,
                                             const EpisodeObserver& episode_done) {
  ASSIGN_OR_RETURN(std::unique_ptr<envs::EnvPool> pool,
                   envs::EnvPool::Create(env_name, 1, seed, 1, options));
  const envs::EnvSpec spec = pool->spec();
  // Episode e starts from the evaluation's seed for e, whichever policy is evaluated.
  pool->set_episode_seeds([seed](int, int64_t episode) {
    return DeriveSeed(seed, {SeedStream::kEvaluation, static_cast<uint64_t>(episode)});
  });
  policies::PolicyCapabilities none;
  none.algorithm = "no";
  none.action_type = spec.action_type;
  ASSIGN_OR_RETURN(std::unique_ptr<ActionSelector> selector,
                   CreateSelector(selector_config, spec.action_type, spec.name,
                                  policy != nullptr ? policy->capabilities() : none));
  StepLoopOptions loop_options;
  loop_options.seed = seed;
  loop_options.explore = false;
  loop_options.parallel_inference = false;
  ASSIGN_OR_RETURN(std::unique_ptr<StepLoop> loop,
                   StepLoop::Create(std::move(pool), policy, std::move(selector), loop_options));
  std::vector<double> returns;
  double total_length = 0, episode_return = 0;
  int wins = 0;
  if (episodes > 0) RETURN_IF_ERROR(loop->Begin());
  while (static_cast<int>(returns.size()) < episodes) {
    RETURN_IF_ERROR(loop->Act(0));
    RETURN_IF_ERROR(loop->Step());
    if (observe) RETURN_IF_ERROR(observe(*loop));
    const envs::EnvPool& stepped = loop->pool();
    episode_return += stepped.reward()[0];
    if (stepped.terminated()[0] || stepped.truncated()[0]) {
      total_length += loop->pool().env(0).episode_step();
      wins += stepped.won()[0] ? 1 : 0;
      returns.push_back(episode_return);
      if (episode_done)
        RETURN_IF_ERROR(episode_done(static_cast<int>(returns.size()), episode_return));
      episode_return = 0;
      if (static_cast<int>(returns.size()) < episodes) RETURN_IF_ERROR(loop->ResetFinished());
    }
  }
  EvaluationResult result = SummarizeReturns(returns, total_length);
  if (episodes > 0) result.win_rate = static_cast<double>(wins) / episodes;
  result.reports_wins = spec.action_type == ACTION_TYPE_DISCRETE;
  return result;
}

absl::StatusOr<EvaluationResult> EvaluatePolicy(const std::string& env_name,
                                                const envs::EnvOptions& options,
                                                policies::ActingPolicy& policy,
                                                const SelectorConfig& selector_config, int episodes,
                                                uint64_t seed) {
  return RunEpisodes(env_name, options, &policy, selector_config, episodes, seed, {}, {});
}

absl::StatusOr<EvaluationResult> EvaluateNamedPolicy(const std::string& env_name,
                                                     const envs::EnvOptions& options,
                                                     policies::ActingPolicy& policy,
                                                     const std::string& which, int beam_width,
                                                     int episodes, uint64_t seed) {
  ASSIGN_OR_RETURN(SelectorConfig selector, EvaluationSelector(which, beam_width));
  return EvaluatePolicy(env_name, options, policy, selector, episodes, seed);
}

double NormalizedScore(double value, double random_return, double expert_return) {
  return 100.0 * (value - random_return) / (expert_return - random_return);
}

}  // namespace tandem::actor
