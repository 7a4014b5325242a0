// Acting with decentralized TD3+BC's actors (OTC's agents on MPE, learner/otc/td3_bc.h): each agent
// acts with tanh(pi_i(x_i)) from its own input (the state or its observation). The policy is
// deterministic; exploration, if any, is the selector's (e.g. `gaussian`). The frozen offline copy
// comes from the offline checkpoint.
#include <ATen/ATen.h>

#include <utility>

#include "absl/strings/str_cat.h"
#include "common/networks/decentralized_networks.h"
#include "common/networks/weights.h"
#include "common/policies/acting_policy.h"
#include "common/status_macros.h"

namespace tandem::policies {
namespace {

class Td3BcActingPolicy : public ActingPolicy {
 public:
  static absl::StatusOr<std::unique_ptr<ActingPolicy>> Create(const PolicyContext& context) {
    ASSIGN_OR_RETURN(const networks::BcqShapes shapes,
                     networks::Td3BcShapesFor(context.spec, context.algorithm));
    std::unique_ptr<Td3BcActingPolicy> policy(new Td3BcActingPolicy(shapes));
    policy->capabilities_.algorithm = context.algorithm.name();
    policy->capabilities_.action_type = ACTION_TYPE_CONTINUOUS;
    if (!context.offline_checkpoint.empty()) {
      networks::AgentMlp offline(networks::Td3BcActorOptions(shapes));
      RETURN_IF_ERROR(
          networks::LoadModuleFromCheckpoint(context.offline_checkpoint, "actor", *offline));
      offline->eval();
      policy->offline_ = offline;
      RETURN_IF_ERROR(policy->LoadOnlineCheckpoint(context.offline_checkpoint));
      policy->capabilities_.offline = true;
    }
    return std::unique_ptr<ActingPolicy>(std::move(policy));
  }

  const PolicyCapabilities& capabilities() const override { return capabilities_; }
  void Begin(int) override {}
  void Reset(absl::Span<const uint8_t>) override {}
  void Executed(const at::Tensor&) override {}

  absl::StatusOr<Proposals> Propose(const ActingInput& in, const ProposalRequest& request,
                                    at::Generator&, WorkerPool*) override {
    RETURN_IF_ERROR(CheckActionOnlyRequest(request, capabilities_));
    at::InferenceMode inference;
    Proposals out;
    try {
      const at::Tensor x = networks::DecentralizedInputs(in.obs, in.state, shapes_.state_input);
      auto act = [&](networks::AgentMlp& actor) {
        return at::tanh(actor->forward(x)).transpose(0, 1).contiguous();  // [B, N, A]
      };
      if (request.online != ProposalMode::kNone) out.online = act(online_);
      if (request.offline != ProposalMode::kNone) out.offline = act(offline_);
    } catch (const std::exception& e) {
      return absl::InternalError(
          absl::StrCat("acting policy dec_td3_bc: inference failed: ", e.what()));
    }
    return out;
  }

  absl::Status LoadWeights(const Weights& weights) override {
    return networks::UnpackWeights(weights, {{"actor", online_.get()}});
  }

  absl::Status LoadOnlineCheckpoint(const std::string& path) override {
    networks::AgentMlp online(networks::Td3BcActorOptions(shapes_));
    RETURN_IF_ERROR(networks::LoadModuleFromCheckpoint(path, "actor", *online));
    online->eval();
    online_ = online;
    return absl::OkStatus();
  }

 private:
  explicit Td3BcActingPolicy(const networks::BcqShapes& shapes)
      : shapes_(shapes), online_(networks::Td3BcActorOptions(shapes)) {
    online_->eval();
  }

  networks::BcqShapes shapes_;
  PolicyCapabilities capabilities_;
  networks::AgentMlp online_, offline_{nullptr};
};

}  // namespace

TANDEM_REGISTER(ActingPolicyRegistry, "dec_td3_bc",
                (ActingPolicyEntry{ACTION_TYPE_CONTINUOUS, &Td3BcActingPolicy::Create}));

}  // namespace tandem::policies
