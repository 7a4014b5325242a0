#include "learner/cql.h"

#include <ATen/ATen.h>

#include <vector>

namespace tandem::learner {
namespace {

// Below any Q_tot, far from float's limit so a log-sum-exp over only such entries stays finite.
constexpr double kUnavailable = -1e10;

}  // namespace

at::Tensor CounterfactualQtot(const at::Tensor& agent_q, const at::Tensor& actions,
                              const DeviationMixer& mix) {
  return mix(agent_q, agent_q.gather(-1, actions.unsqueeze(-1)).squeeze(-1));
}

at::Tensor CfcqlPushUp(const at::Tensor& counterfactual, const at::Tensor& avail,
                       const at::Tensor& lambda, const at::Tensor& floor) {
  at::Tensor values = counterfactual;
  if (floor.defined()) values = at::maximum(values, floor.view({-1, 1, 1}));
  const at::Tensor lse = values.masked_fill(avail.logical_not(), kUnavailable).logsumexp(-1);
  return (lambda * lse).sum(-1);
}

at::Tensor CfcqlAgentWeights(const at::Tensor& counterfactual, const at::Tensor& avail,
                             const at::Tensor& behaviour_probs, double tau) {
  const int64_t n = counterfactual.size(1);
  if (tau == 0) {
    return at::full({counterfactual.size(0), n}, 1.0 / static_cast<double>(n),
                    counterfactual.options().requires_grad(false));
  }
  at::NoGradGuard no_grad;
  const at::Tensor available = avail.to(counterfactual.scalar_type());
  const at::Tensor mu =
      at::softmax(counterfactual.detach().masked_fill(avail.logical_not(), kUnavailable), -1);
  // KL(mu || beta) over the available actions, with CFCQL's 1e-5 smoothing.
  const at::Tensor kl =
      (available * mu * ((mu + 1e-5).log() - (behaviour_probs + 1e-5).log())).sum(-1);
  return at::softmax(tau * kl, -1);
}

at::Tensor SampleJointActions(const at::Tensor& avail, int samples, bool available_only) {
  const int64_t r = avail.size(0), n = avail.size(1), k = avail.size(2);
  if (!available_only) return at::randint(k, {r, samples, n}, avail.options().dtype(at::kLong));
  at::NoGradGuard no_grad;
  // Each agent's available actions first (in action order), then a uniform index below their
  // count: one sort of [R, N, K] and one gather, not a draw per action.
  const at::Tensor order = std::get<1>(avail.to(at::kByte).sort(/*stable=*/true, -1,
                                                                /*descending=*/true));
  const at::Tensor count = avail.sum(-1, /*keepdim=*/true).clamp_min(1).to(at::kFloat);  // [R,N,1]
  const at::Tensor pick = (at::rand({r, n, samples}, avail.options().dtype(at::kFloat)) * count)
                              .to(at::kLong)
                              .clamp_max(k - 1);     // [R, N, M]
  return order.gather(-1, pick).permute({0, 2, 1});  // [R, M, N]
}

at::Tensor MacqlPushUp(const at::Tensor& agent_q, const at::Tensor& avail,
                       const JointActionMixer& mix, int samples, const at::Tensor& floor,
                       bool available_only) {
  const int64_t r = agent_q.size(0), n = agent_q.size(1), k = agent_q.size(2);
  const at::Tensor sampled = SampleJointActions(avail, samples, available_only);  // [R, M, N]
  // Agent i's sampled action j is entry i K + j of the row's [N K] values: one gather per row,
  // whose backward adds into [R, N K] (gathering from an expanded [R, M, N, K] would allocate that
  // size).
  const at::Tensor flat = (sampled + at::arange(n, sampled.options()).mul_(k).view({1, 1, n}))
                              .reshape({r, samples * n});
  const at::Tensor q = agent_q.reshape({r, n * k}).gather(1, flat).view({r, samples, n});
  const at::Tensor available =
      avail.reshape({r, n * k}).gather(1, flat).view({r, samples, n}).all(-1);  // [R, M]
  at::Tensor greedy;
  {
    at::NoGradGuard no_grad;
    greedy = agent_q.masked_fill(avail.logical_not(), kUnavailable).argmax(-1, true);  // [R, N, 1]
  }
  const at::Tensor greedy_q = agent_q.gather(-1, greedy).view({r, 1, n});
  const at::Tensor greedy_available = avail.gather(-1, greedy).view({r, 1, n}).all(-1);  // [R, 1]
  // The samples and the greedy joint action through the mixer in one pass: [R, M + 1].
  at::Tensor values = mix(at::cat({q, greedy_q}, 1));
  const at::Tensor counted = at::cat({available, greedy_available}, 1).to(values.scalar_type());
  if (floor.defined()) values = at::maximum(values, floor.view({-1, 1}));
  return (values * counted).logsumexp(-1);
}

at::Tensor MonteCarloReturns(const at::Tensor& reward, const at::Tensor& step_mask, double gamma) {
  const int64_t steps = reward.size(1);
  std::vector<at::Tensor> returns(steps);
  at::Tensor following = at::zeros_like(reward.select(1, 0));
  for (int64_t t = steps - 1; t >= 0; --t) {
    following = step_mask.select(1, t) * (reward.select(1, t) + gamma * following);
    returns[t] = following;
  }
  return at::stack(returns, 1);
}

at::Tensor ConservativeTerm(const at::Tensor& push_up, const at::Tensor& q_tot,
                            const at::Tensor& mask) {
  return ((push_up - q_tot) * mask).sum() / mask.sum().clamp_min(1);
}

}  // namespace tandem::learner
