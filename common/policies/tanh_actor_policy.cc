// Acting with the deterministic actions of OTC's decentralized actor-critic agents: TD3+BC's
// tanh(pi_i(x_i)) (learner/otc/td3_bc.h), and the tanh of the Gaussian actor's mean for AWAC and
// CQL (learner/otc/awac.h, cql.h; OTC's deployments exploit without exploring). Each agent acts
// from its own input (the state or its observation). Exploration, if any, is the selector's (e.g.
// `gaussian`). The frozen offline copy comes from the offline checkpoint.
#include <ATen/ATen.h>

#include <utility>

#include "absl/strings/str_cat.h"
#include "common/networks/decentralized_networks.h"
#include "common/networks/weights.h"
#include "common/policies/acting_policy.h"
#include "common/status_macros.h"

namespace tandem::policies {
namespace {

// What differs between the agents: the hidden sizes (Table 3), the actor's outputs and its action.
struct TanhActor {
  absl::StatusOr<networks::BcqShapes> (*shapes)(const TransitionSpec&, const AlgorithmConfig&);
  networks::AgentMlpOptions (*options)(const networks::BcqShapes&);
  at::Tensor (*act)(networks::AgentMlpImpl&, const at::Tensor&);
};

at::Tensor DeterministicTanh(networks::AgentMlpImpl& actor, const at::Tensor& x) {
  return at::tanh(actor.forward(x));
}

template <const TanhActor& kActor>
class TanhActingPolicy : public ActingPolicy {
 public:
  static absl::StatusOr<std::unique_ptr<ActingPolicy>> Create(const PolicyContext& context) {
    ASSIGN_OR_RETURN(const networks::BcqShapes shapes,
                     kActor.shapes(context.spec, context.algorithm));
    std::unique_ptr<TanhActingPolicy> policy(new TanhActingPolicy(shapes));
    policy->capabilities_.algorithm = context.algorithm.name();
    policy->capabilities_.action_type = ACTION_TYPE_CONTINUOUS;
    if (!context.offline_checkpoint.empty()) {
      networks::AgentMlp offline(kActor.options(shapes));
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
        return kActor.act(*actor, x).transpose(0, 1).contiguous();  // [B, N, A]
      };
      if (request.online != ProposalMode::kNone) out.online = act(online_);
      if (request.offline != ProposalMode::kNone) out.offline = act(offline_);
    } catch (const std::exception& e) {
      return absl::InternalError(absl::StrCat("acting policy ", capabilities_.algorithm,
                                              ": inference failed: ", e.what()));
    }
    return out;
  }

  absl::Status LoadWeights(const Weights& weights) override {
    return networks::UnpackWeights(weights, {{"actor", online_.get()}});
  }

  absl::Status LoadOnlineCheckpoint(const std::string& path) override {
    networks::AgentMlp online(kActor.options(shapes_));
    RETURN_IF_ERROR(networks::LoadModuleFromCheckpoint(path, "actor", *online));
    online->eval();
    online_ = online;
    return absl::OkStatus();
  }

 private:
  explicit TanhActingPolicy(const networks::BcqShapes& shapes)
      : shapes_(shapes), online_(kActor.options(shapes)) {
    online_->eval();
  }

  networks::BcqShapes shapes_;
  PolicyCapabilities capabilities_;
  networks::AgentMlp online_, offline_{nullptr};
};

constexpr TanhActor kTd3Bc{&networks::Td3BcShapesFor, &networks::Td3BcActorOptions,
                           &DeterministicTanh};
// AWAC: Table 3's 64, 64 (BCQ's); CQL: 256, 256 (TD3+BC's).
constexpr TanhActor kAwac{&networks::BcqShapesFor, &networks::GaussianActorOptions,
                          &networks::GaussianActorMode};
constexpr TanhActor kCql{&networks::Td3BcShapesFor, &networks::GaussianActorOptions,
                         &networks::GaussianActorMode};

}  // namespace

TANDEM_REGISTER(ActingPolicyRegistry, "dec_td3_bc",
                (ActingPolicyEntry{ACTION_TYPE_CONTINUOUS, &TanhActingPolicy<kTd3Bc>::Create}));
TANDEM_REGISTER(ActingPolicyRegistry, "dec_awac",
                (ActingPolicyEntry{ACTION_TYPE_CONTINUOUS, &TanhActingPolicy<kAwac>::Create}));
TANDEM_REGISTER(ActingPolicyRegistry, "dec_cql",
                (ActingPolicyEntry{ACTION_TYPE_CONTINUOUS, &TanhActingPolicy<kCql>::Create}));

}  // namespace tandem::policies
