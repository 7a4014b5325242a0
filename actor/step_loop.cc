#include "actor/step_loop.h"

#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>

#include "common/status_macros.h"

namespace tandem::actor {

absl::StatusOr<std::unique_ptr<StepLoop>> StepLoop::Create(std::unique_ptr<envs::EnvPool> pool,
                                                           policies::ActingPolicy* policy,
                                                           std::unique_ptr<ActionSelector> selector,
                                                           const StepLoopOptions& options) {
  const policies::ProposalRequest& needs = selector->needs().request;
  if (policy == nullptr &&
      (needs.online != policies::ProposalMode::kNone ||
       needs.offline != policies::ProposalMode::kNone || needs.critic || needs.agent_q)) {
    return absl::InvalidArgumentError("this selector acts on a policy's proposals; none was given");
  }
  std::unique_ptr<StepLoop> loop(new StepLoop());
  const envs::EnvSpec& spec = pool->spec();
  const int64_t b = pool->size(), n = spec.num_agents;
  loop->discrete_ = spec.action_type == ACTION_TYPE_DISCRETE;
  loop->request_ =
      options.explore ? selector->needs().request : selector->needs().request.Deterministic();
  loop->options_ = options;
  loop->rng_.seed(options.seed);
  loop->generator_ = at::detail::createCPUGenerator(options.seed);
  if (loop->discrete_) {
    loop->discrete_actions_.assign(b * n, 0);
  } else {
    loop->continuous_.assign(b * n * spec.action_size, 0.f);
  }
  loop->hybrids_.assign(b, 0);
  loop->finished_.assign(b, 0);
  loop->pool_ = std::move(pool);
  loop->policy_ = policy;
  loop->selector_ = std::move(selector);
  SelectorConfig random;
  random.set_name("random");
  ASSIGN_OR_RETURN(SelectorEntry warmup, SelectorRegistry::Global().Find("random"));
  loop->warmup_ = warmup.create(random);
  return loop;
}

absl::Status StepLoop::Begin() {
  RETURN_IF_ERROR(pool_->ResetAll());
  if (policy_ != nullptr) policy_->Begin(pool_->size());
  return absl::OkStatus();
}

absl::Status StepLoop::Act(int64_t env_steps) {
  const envs::EnvSpec& spec = pool_->spec();
  const int64_t b = pool_->size(), n = spec.num_agents, o = spec.obs_size, a = spec.action_size;
  SelectionInput input;
  input.num_envs = static_cast<int>(b);
  input.num_agents = static_cast<int>(n);
  input.action_size = static_cast<int>(a);
  input.action_low = spec.action_low;
  input.action_high = spec.action_high;
  input.avail = pool_->avail_actions();
  input.env_steps = env_steps;
  SelectionOutput out{absl::MakeSpan(continuous_), absl::MakeSpan(discrete_actions_),
                      absl::MakeSpan(hybrids_)};
  at::InferenceMode inference;
  policies::ActingInput acting{
      at::from_blob(const_cast<float*>(pool_->obs().data()), {b, n, o}),
      at::from_blob(const_cast<float*>(pool_->state().data()), {b, spec.state_size}),
      {}};
  if (!input.avail.empty()) {
    acting.avail = at::from_blob(const_cast<uint8_t*>(input.avail.data()), {b, n, a}, at::kByte);
  }
  // Warm-up (training from scratch): uniform random actions for every agent. A recurrent policy
  // still advances its state over the step, so it is current when the warm-up ends.
  selected_ = env_steps >= options_.random_warmup_steps;
  ActionSelector& selector = selected_ ? *selector_ : *warmup_;
  policies::Proposals proposals;
  if (policy_ != nullptr) {
    policies::ProposalRequest request = request_;
    if (!selected_) {
      request = policies::ProposalRequest();
      if (policy_->capabilities().recurrent) {
        request.online = policies::ProposalMode::kDeterministic;
      }
    }
    ASSIGN_OR_RETURN(proposals,
                     policy_->Propose(acting, request, generator_,
                                      options_.parallel_inference ? &pool_->workers() : nullptr));
  }
  RETURN_IF_ERROR(selector.Select(proposals, input, rng_, out));
  if (policy_ != nullptr) {
    policy_->Executed(discrete_ ? at::from_blob(discrete_actions_.data(), {b, n}, at::kInt)
                                : at::from_blob(continuous_.data(), {b, n, a}));
  }
  return absl::OkStatus();
}

absl::Status StepLoop::Step() {
  prev_obs_.assign(pool_->obs().begin(), pool_->obs().end());
  prev_state_.assign(pool_->state().begin(), pool_->state().end());
  prev_avail_.assign(pool_->avail_actions().begin(), pool_->avail_actions().end());
  return pool_->Step(continuous_, discrete_actions_);
}

absl::Status StepLoop::ResetFinished() {
  bool any = false;
  for (int e = 0; e < pool_->size(); ++e) {
    finished_[e] = pool_->terminated()[e] || pool_->truncated()[e];
    any = any || finished_[e];
  }
  if (!any) return absl::OkStatus();
  RETURN_IF_ERROR(pool_->ResetFinished());
  if (policy_ != nullptr) policy_->Reset(finished_);
  return absl::OkStatus();
}

}  // namespace tandem::actor
