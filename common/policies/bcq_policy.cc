// Acting with decentralized BCQ's networks (OTC's agents, learner/otc/bcq.h): per agent the
// generative model, the perturbation and the first critic; each agent picks, among
// `algorithm.otc.bcq_sampled_actions` decoded and perturbed candidates, the one its critic values
// most. Each agent reads only its own input (the state or its observation). BCQ acts the same way
// in training and evaluation, so sampled and deterministic proposals coincide (the candidates
// still come from the step's generator). The frozen offline copy comes from the offline
// checkpoint.
#include <ATen/ATen.h>

#include <utility>

#include "absl/strings/str_cat.h"
#include "common/networks/decentralized_networks.h"
#include "common/networks/weights.h"
#include "common/policies/acting_policy.h"
#include "common/status_macros.h"

namespace tandem::policies {
namespace {

// One agent team's three networks.
struct BcqNetworks {
  explicit BcqNetworks(const networks::BcqShapes& shapes)
      : vae(networks::BcqVaeOptions(shapes)),
        actor(networks::BcqActorOptions(shapes)),
        q1(networks::BcqCriticOptions(shapes)) {}
  networks::NamedModules Named() {
    return {{"vae", vae.get()}, {"actor", actor.get()}, {"q1", q1.get()}};
  }
  absl::Status Load(const std::string& path) {
    for (auto [name, module] : Named()) {
      RETURN_IF_ERROR(networks::LoadModuleFromCheckpoint(path, name, *module));
    }
    vae->eval();
    actor->eval();
    q1->eval();
    return absl::OkStatus();
  }
  networks::ConditionalVae vae;
  networks::AgentMlp actor, q1;
};

class BcqActingPolicy : public ActingPolicy {
 public:
  static absl::StatusOr<std::unique_ptr<ActingPolicy>> Create(const PolicyContext& context) {
    ASSIGN_OR_RETURN(const networks::BcqShapes shapes,
                     networks::BcqShapesFor(context.spec, context.algorithm));
    std::unique_ptr<BcqActingPolicy> policy(new BcqActingPolicy(shapes, context.algorithm));
    policy->capabilities_.algorithm = context.algorithm.name();
    policy->capabilities_.action_type = ACTION_TYPE_CONTINUOUS;
    if (!context.offline_checkpoint.empty()) {
      policy->offline_ = std::make_unique<BcqNetworks>(shapes);
      RETURN_IF_ERROR(policy->offline_->Load(context.offline_checkpoint));
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
                                    at::Generator& generator, WorkerPool*) override {
    RETURN_IF_ERROR(CheckActionOnlyRequest(request, capabilities_));
    at::InferenceMode inference;
    Proposals out;
    try {
      const at::Tensor x = networks::DecentralizedInputs(in.obs, in.state, shapes_.state_input);
      auto act = [&](BcqNetworks& nets) {
        return networks::BcqSelect(*nets.vae, *nets.actor, *nets.q1, x, candidates_, phi_,
                                   generator)
            .transpose(0, 1)
            .contiguous();  // [B, N, A]
      };
      if (request.online != ProposalMode::kNone) out.online = act(*online_);
      if (request.offline != ProposalMode::kNone) out.offline = act(*offline_);
    } catch (const std::exception& e) {
      return absl::InternalError(
          absl::StrCat("acting policy dec_bcq: inference failed: ", e.what()));
    }
    return out;
  }

  absl::Status LoadWeights(const Weights& weights) override {
    return networks::UnpackWeights(weights, online_->Named());
  }

  absl::Status LoadOnlineCheckpoint(const std::string& path) override {
    // Fresh copies first, so a failure halfway leaves the current networks intact.
    auto online = std::make_unique<BcqNetworks>(shapes_);
    RETURN_IF_ERROR(online->Load(path));
    online_ = std::move(online);
    return absl::OkStatus();
  }

 private:
  BcqActingPolicy(const networks::BcqShapes& shapes, const AlgorithmConfig& algorithm)
      : shapes_(shapes),
        candidates_(std::max(1, algorithm.otc().bcq_sampled_actions())),
        phi_(algorithm.otc().bcq_perturbation()),
        online_(std::make_unique<BcqNetworks>(shapes)) {
    online_->vae->eval();
    online_->actor->eval();
    online_->q1->eval();
  }

  networks::BcqShapes shapes_;
  int64_t candidates_;
  double phi_;
  PolicyCapabilities capabilities_;
  std::unique_ptr<BcqNetworks> online_, offline_;
};

}  // namespace

TANDEM_REGISTER(ActingPolicyRegistry, "dec_bcq",
                (ActingPolicyEntry{ACTION_TYPE_CONTINUOUS, &BcqActingPolicy::Create}));

}  // namespace tandem::policies
