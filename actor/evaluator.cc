#include "actor/evaluator.h"

#include <ATen/ATen.h>

#include <cmath>
#include <vector>

#include "common/rng.h"
#include "common/status_macros.h"

namespace tandem::actor {

absl::StatusOr<EvaluationResult> EvaluateDeterministicPolicy(const std::string& env_name,
                                                             const envs::EnvOptions& options,
                                                             networks::TanhGaussianPolicy& policy,
                                                             int episodes, uint64_t seed) {
  ASSIGN_OR_RETURN(std::unique_ptr<envs::MultiAgentEnv> env, envs::CreateEnv(env_name, options));
  const envs::EnvSpec& spec = env->spec();
  const int n = spec.num_agents, o = spec.obs_size, a = spec.action_size;
  if (policy->options().input_size != o + n || policy->options().action_size != a) {
    return absl::FailedPreconditionError(
        "the policy's input/action sizes do not match the evaluation env");
  }
  const c10::Device device = policy->parameters().front().device();
  std::vector<float> obs(n * o), state(spec.state_size);
  std::vector<uint8_t> avail;
  envs::TimeStepView view{absl::MakeSpan(obs), absl::MakeSpan(state), absl::MakeSpan(avail)};
  const at::Tensor ids = at::eye(n, at::TensorOptions().device(device));
  std::vector<double> returns;
  double total_length = 0;
  at::InferenceMode inference;
  policy->eval();
  for (int e = 0; e < episodes; ++e) {
    RETURN_IF_ERROR(
        env->Reset(DeriveSeed(seed, {SeedStream::kEvaluation, static_cast<uint64_t>(e)}), view));
    double episode_return = 0;
    envs::StepOutcome outcome;
    while (!outcome.terminated && !outcome.truncated) {
      at::Tensor input = at::cat({at::from_blob(obs.data(), {n, o}).to(device), ids}, -1);
      at::Tensor action = policy->Deterministic(input).to(at::kCPU).contiguous();
      envs::JointAction joint;
      joint.continuous = absl::MakeConstSpan(action.data_ptr<float>(), n * a);
      RETURN_IF_ERROR(env->Step(joint, view, &outcome));
      episode_return += outcome.reward;
    }
    total_length += env->episode_step();
    returns.push_back(episode_return);
  }
  policy->train();
  EvaluationResult result;
  result.episodes = episodes;
  if (episodes == 0) return result;
  double sum = 0, sum_sq = 0;
  result.min_return = returns.front();
  result.max_return = returns.front();
  for (double r : returns) {
    sum += r;
    sum_sq += r * r;
    result.min_return = std::min(result.min_return, r);
    result.max_return = std::max(result.max_return, r);
  }
  result.mean_return = sum / episodes;
  result.std_return =
      std::sqrt(std::max(0.0, sum_sq / episodes - result.mean_return * result.mean_return));
  result.mean_length = total_length / episodes;
  return result;
}

double NormalizedScore(double value, double random_return, double expert_return) {
  return 100.0 * (value - random_return) / (expert_return - random_return);
}

}  // namespace tandem::actor
