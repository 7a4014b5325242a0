#include "actor/selection/selector.h"

#include <ATen/ATen.h>

#include <cstring>

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"

namespace tandem::actor {
namespace {

const char* TypeName(ActionType type) {
  return type == ACTION_TYPE_DISCRETE ? "discrete" : "continuous";
}

// Whether `needs` can run on `action_type` with `policy`; the error names what is missing.
absl::Status CheckSelectorFits(const std::string& selector, const SelectorNeeds& needs,
                               ActionType action_type, const std::string& env_name,
                               const policies::PolicyCapabilities& policy) {
  const std::string& algorithm = policy.algorithm;
  const bool type_ok = action_type == ACTION_TYPE_DISCRETE ? needs.discrete : needs.continuous;
  auto refuse = [&](absl::string_view why) {
    return absl::InvalidArgumentError(
        absl::StrCat("selector.name: selector '", selector, "' ", why));
  };
  if (!type_ok) {
    return refuse(absl::StrCat("handles only ", needs.discrete ? "discrete" : "continuous",
                               " actions, but env ", env_name, " has ", TypeName(action_type),
                               " actions"));
  }
  const policies::ProposalRequest& request = needs.request;
  if (request.offline != policies::ProposalMode::kNone && !policy.offline) {
    return refuse(absl::StrCat("needs the frozen offline policy: set learner.offline_checkpoint (",
                               algorithm, "'s offline checkpoint)"));
  }
  if (request.critic && !policy.factorized_critic) {
    return refuse(absl::StrCat("needs a factorized critic (Q_tot = sum_i w_i Q_i + b), which ",
                               algorithm, "'s policy does not have"));
  }
  if (request.agent_q && !policy.agent_q) {
    return refuse(absl::StrCat("needs per-agent discrete Q values, which ", algorithm,
                               "'s policy does not have"));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::unique_ptr<ActionSelector>> CreateSelector(
    const SelectorConfig& config, ActionType action_type, const std::string& env_name,
    const policies::PolicyCapabilities& policy) {
  ASSIGN_OR_RETURN(SelectorEntry entry, SelectorRegistry::Global().Find(config.name()));
  std::unique_ptr<ActionSelector> selector = entry.create(config);
  RETURN_IF_ERROR(
      CheckSelectorFits(config.name(), selector->needs(), action_type, env_name, policy));
  return selector;
}

void CopyProposal(const at::Tensor& actions, SelectionOutput out) {
  if (!out.continuous.empty()) {
    std::memcpy(out.continuous.data(), actions.data_ptr<float>(),
                out.continuous.size() * sizeof(float));
    return;
  }
  const int64_t* from = actions.data_ptr<int64_t>();
  for (size_t j = 0; j < out.discrete.size(); ++j) out.discrete[j] = static_cast<int32_t>(from[j]);
}

void ComposeHybrids(const policies::Proposals& proposals, absl::Span<const Hybrid> hybrids,
                    const SelectionInput& input, SelectionOutput out) {
  const int64_t n = input.num_agents, a = input.action_size;
  const float* off = proposals.offline.data_ptr<float>();
  const float* on = proposals.online.data_ptr<float>();
  for (int64_t e = 0; e < input.num_envs; ++e) {
    for (int64_t i = 0; i < n; ++i) {
      const float* from = ((hybrids[e] >> i) & 1) ? off : on;
      std::memcpy(out.continuous.data() + (e * n + i) * a, from + (e * n + i) * a,
                  a * sizeof(float));
    }
  }
}

}  // namespace tandem::actor
