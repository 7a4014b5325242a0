#include "actor/evaluator.h"

#include <ATen/ATen.h>

#include <cmath>
#include <cstring>
#include <vector>

#include "actor/selection/beam_search.h"
#include "actor/selection/hybrid_scorer.h"
#include "common/rng.h"
#include "common/status_macros.h"

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

absl::StatusOr<EvaluationResult> EvaluateJointPolicy(const std::string& env_name,
                                                     const envs::EnvOptions& options,
                                                     const JointPolicy& policy, int episodes,
                                                     uint64_t seed) {
  ASSIGN_OR_RETURN(std::unique_ptr<envs::MultiAgentEnv> env, envs::CreateEnv(env_name, options));
  const envs::EnvSpec& spec = env->spec();
  std::vector<float> obs(spec.num_agents * spec.obs_size), state(spec.state_size);
  std::vector<float> actions(spec.num_agents * spec.action_size);
  std::vector<uint8_t> avail;
  envs::TimeStepView view{absl::MakeSpan(obs), absl::MakeSpan(state), absl::MakeSpan(avail)};
  std::vector<double> returns;
  double total_length = 0;
  for (int e = 0; e < episodes; ++e) {
    RETURN_IF_ERROR(
        env->Reset(DeriveSeed(seed, {SeedStream::kEvaluation, static_cast<uint64_t>(e)}), view));
    double episode_return = 0;
    envs::StepOutcome outcome;
    while (!outcome.terminated && !outcome.truncated) {
      RETURN_IF_ERROR(policy(obs.data(), state.data(), actions.data()));
      envs::JointAction joint;
      joint.continuous = actions;
      RETURN_IF_ERROR(env->Step(joint, view, &outcome));
      episode_return += outcome.reward;
    }
    total_length += env->episode_step();
    returns.push_back(episode_return);
  }
  return SummarizeReturns(returns, total_length);
}

JointPolicy DeterministicJointPolicy(networks::TanhGaussianPolicy policy,
                                     const envs::EnvSpec& spec) {
  const int64_t n = spec.num_agents, o = spec.obs_size;
  return [policy, n, o, ids = at::eye(n)](const float* obs, const float*,
                                          float* actions) mutable -> absl::Status {
    at::InferenceMode inference;
    const c10::Device device = policy->parameters().front().device();
    at::Tensor input =
        at::cat({at::from_blob(const_cast<float*>(obs), {n, o}), ids}, -1).to(device);
    at::Tensor action = policy->Deterministic(input).to(at::kCPU).contiguous();
    std::memcpy(actions, action.data_ptr<float>(), action.numel() * sizeof(float));
    return absl::OkStatus();
  };
}

absl::StatusOr<EvaluationResult> EvaluateDeterministicPolicy(const std::string& env_name,
                                                             const envs::EnvOptions& options,
                                                             networks::TanhGaussianPolicy& policy,
                                                             int episodes, uint64_t seed) {
  ASSIGN_OR_RETURN(std::unique_ptr<envs::MultiAgentEnv> env, envs::CreateEnv(env_name, options));
  const envs::EnvSpec& spec = env->spec();
  if (policy->options().input_size != spec.obs_size + spec.num_agents ||
      policy->options().action_size != spec.action_size) {
    return absl::FailedPreconditionError(
        "the policy's input/action sizes do not match the evaluation env");
  }
  policy->eval();
  auto result = EvaluateJointPolicy(env_name, options, DeterministicJointPolicy(policy, spec),
                                    episodes, seed);
  policy->train();
  return result;
}

JointPolicy ComposedJointPolicy(PolicySet& nets, const envs::EnvSpec& spec, int beam_width) {
  const int64_t n = spec.num_agents, o = spec.obs_size, a = spec.action_size;
  const int64_t s = spec.state_size;
  return
      [&nets, n, o, a, s, beam_width, ids = at::eye(n), rng = Rng(0)](
          const float* obs_data, const float* state_data, float* actions) mutable -> absl::Status {
        at::InferenceMode inference;
        const at::Tensor obs = at::from_blob(const_cast<float*>(obs_data), {n, o});
        const at::Tensor input = at::cat({obs, ids}, -1);
        const at::Tensor offline = nets.offline_policy->Deterministic(input).contiguous();
        const at::Tensor online = nets.online_policy->Deterministic(input).contiguous();
        const at::Tensor q = nets.q
                                 ->forward(at::stack({at::cat({obs, offline, ids}, -1),
                                                      at::cat({obs, online, ids}, -1)}))
                                 .squeeze(-1)
                                 .to(at::kDouble)
                                 .contiguous();  // [2, N]
        auto [w, bias] = nets.mixer->forward(at::from_blob(const_cast<float*>(state_data), {s}));
        w = w.to(at::kDouble).contiguous();
        const double* q_data = q.data_ptr<double>();
        const double* w_data = w.data_ptr<double>();
        FactorizedScorer scorer(
            std::vector<double>(w_data, w_data + n), std::vector<double>(q_data, q_data + n),
            std::vector<double>(q_data + n, q_data + 2 * n), bias.item<double>());
        const BeamSearchOptions options{beam_width, 1.0, AgentOrder::kForward, BeamRule::kGreedy};
        const Hybrid hybrid = CoordinatedBeamSearch(scorer, options, rng).executed;
        const float* off = offline.data_ptr<float>();
        const float* on = online.data_ptr<float>();
        for (int64_t i = 0; i < n; ++i) {
          std::memcpy(actions + i * a, (((hybrid >> i) & 1) ? off : on) + i * a, a * sizeof(float));
        }
        return absl::OkStatus();
      };
}

double NormalizedScore(double value, double random_return, double expert_return) {
  return 100.0 * (value - random_return) / (expert_return - random_return);
}

}  // namespace tandem::actor
