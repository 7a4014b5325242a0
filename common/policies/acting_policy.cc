#include "common/policies/acting_policy.h"

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"

namespace tandem::policies {
namespace {

const char* ActionTypeName(ActionType type) {
  switch (type) {
    case ACTION_TYPE_CONTINUOUS:
      return "continuous";
    case ACTION_TYPE_DISCRETE:
      return "discrete";
    default:
      return "unspecified";
  }
}

}  // namespace

ProposalRequest ProposalRequest::Deterministic() const {
  ProposalRequest out = *this;
  if (out.online == ProposalMode::kSample) out.online = ProposalMode::kDeterministic;
  if (out.offline == ProposalMode::kSample) out.offline = ProposalMode::kDeterministic;
  return out;
}

absl::Status CheckActionOnlyRequest(const ProposalRequest& request,
                                    const PolicyCapabilities& capabilities) {
  if (request.agent_q || request.critic) {
    return absl::InvalidArgumentError(
        absl::StrCat(capabilities.algorithm,
                     "'s policy has neither a factorized joint critic nor discrete Q values"));
  }
  if (request.offline != ProposalMode::kNone && !capabilities.offline) {
    return absl::FailedPreconditionError(
        "the offline proposal needs the frozen offline policy: set learner.offline_checkpoint");
  }
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<ActingPolicy>> CreateActingPolicy(const PolicyContext& context) {
  ASSIGN_OR_RETURN(ActingPolicyEntry entry,
                   ActingPolicyRegistry::Global().Find(context.algorithm.name()));
  if (entry.action_type != context.spec.action_type()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "algorithm.name: ", context.algorithm.name(), " acts in ",
        ActionTypeName(entry.action_type), " actions, but env ", context.spec.env_name(), " has ",
        ActionTypeName(context.spec.action_type()), " actions"));
  }
  return entry.create(context);
}

}  // namespace tandem::policies
