// Acting with OMIGA's (and MASAC's) networks: a shared tanh-Gaussian policy over (observation,
// agent id), a local critic Q_i(o_i, a_i, id) and the state-conditioned mixer, so that
// Q_tot = sum_i w_i(s) Q_i + b(s) factorizes and CBS scores every hybrid from 2N local values.
// The frozen offline policy comes from the offline checkpoint; the online policy and the critic
// start as copies of the checkpoint's and follow published weights.
#include <ATen/ATen.h>
#include <ATen/Parallel.h>

#include <tuple>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/networks/architectures.h"
#include "common/networks/weights.h"
#include "common/policies/acting_policy.h"
#include "common/status_macros.h"

namespace tandem::policies {
namespace {

class OmigaActingPolicy : public ActingPolicy {
 public:
  static absl::StatusOr<std::unique_ptr<ActingPolicy>> Create(const PolicyContext& context) {
    std::unique_ptr<OmigaActingPolicy> policy(new OmigaActingPolicy());
    const TransitionSpec& spec = context.spec;
    const AlgorithmConfig& algorithm = context.algorithm;
    policy->num_agents_ = spec.num_agents();
    policy->offline_ = networks::TanhGaussianPolicy(networks::OmigaPolicyOptions(spec, algorithm));
    policy->online_ = networks::TanhGaussianPolicy(networks::OmigaPolicyOptions(spec, algorithm));
    policy->q_ = networks::Mlp(networks::OmigaCriticOptions(spec, algorithm));
    policy->mixer_ = networks::OmigaMixer(networks::OmigaMixerOptionsFor(spec, algorithm));
    policy->capabilities_.algorithm = algorithm.name();
    policy->capabilities_.action_type = ACTION_TYPE_CONTINUOUS;
    policy->capabilities_.stochastic = true;
    policy->capabilities_.factorized_critic = true;
    if (!context.offline_checkpoint.empty()) {
      RETURN_IF_ERROR(networks::LoadModuleFromCheckpoint(context.offline_checkpoint, "policy",
                                                         *policy->offline_));
      RETURN_IF_ERROR(policy->LoadOnlineCheckpoint(context.offline_checkpoint));
      policy->capabilities_.offline = true;
    }
    policy->offline_->eval();
    policy->online_->eval();
    policy->q_->eval();
    policy->mixer_->eval();
    return std::unique_ptr<ActingPolicy>(std::move(policy));
  }

  const PolicyCapabilities& capabilities() const override { return capabilities_; }

  void Begin(int num_envs) override {
    ids_ = at::eye(num_agents_).unsqueeze(0).expand({num_envs, num_agents_, num_agents_});
    ids_ = ids_.contiguous();
  }
  void Reset(absl::Span<const uint8_t>) override {}
  void Executed(const at::Tensor&) override {}

  absl::StatusOr<Proposals> Propose(const ActingInput& in, const ProposalRequest& request,
                                    at::Generator& generator, WorkerPool* workers) override {
    if (request.agent_q) {
      return absl::InvalidArgumentError("omiga's policy has no per-agent discrete Q values");
    }
    if (request.offline != ProposalMode::kNone && !capabilities_.offline) {
      return absl::FailedPreconditionError(
          "the offline proposal needs the frozen offline policy: set learner.offline_checkpoint");
    }
    at::InferenceMode inference;
    if (!ids_.defined() || ids_.size(0) != in.obs.size(0)) Begin(static_cast<int>(in.obs.size(0)));
    const at::Tensor input = at::cat({in.obs, ids_}, -1);
    Proposals out;
    // The online branch (with the mixer) and the offline branch are independent: with workers
    // they run in parallel, branch 0 on this thread, which alone owns the sampling generator.
    auto branch = [&](int which) -> absl::Status {
      at::InferenceMode branch_inference;  // thread-local: a helper thread needs its own
      at::init_num_threads();              // and the process's intra-op thread count
      try {
        if (which == 0) {
          if (request.online != ProposalMode::kNone) {
            out.online =
                (request.online == ProposalMode::kSample ? online_->Sample(input, generator)
                                                         : online_->Deterministic(input))
                    .contiguous();
            if (request.critic) out.q_online = LocalValues(in.obs, out.online);
          }
          if (request.critic) {
            std::tie(out.mixer_weights, out.mixer_bias) = mixer_->forward(in.state);
            out.mixer_weights = out.mixer_weights.contiguous();
            out.mixer_bias = out.mixer_bias.contiguous();
          }
        } else if (request.offline != ProposalMode::kNone) {
          out.offline = offline_->Deterministic(input).contiguous();
          if (request.critic) out.q_offline = LocalValues(in.obs, out.offline);
        }
      } catch (const std::exception& e) {
        return absl::InternalError(
            absl::StrCat("acting policy omiga: inference failed: ", e.what()));
      }
      return absl::OkStatus();
    };
    if (workers != nullptr && request.offline != ProposalMode::kNone) {
      RETURN_IF_ERROR(workers->ForEach(2, branch));
    } else {
      RETURN_IF_ERROR(branch(0));
      RETURN_IF_ERROR(branch(1));
    }
    return out;
  }

  absl::Status LoadWeights(const Weights& weights) override {
    return networks::UnpackWeights(
        weights, {{"policy", online_.get()}, {"q", q_.get()}, {"mixer", mixer_.get()}});
  }

  absl::Status LoadOnlineCheckpoint(const std::string& path) override {
    // Load into fresh copies first so that a failure halfway leaves the current networks intact.
    networks::TanhGaussianPolicy online(online_->options());
    networks::Mlp q(q_->options());
    networks::OmigaMixer mixer(mixer_->options());
    for (auto [name, module] :
         networks::NamedModules{{"policy", online.get()}, {"q", q.get()}, {"mixer", mixer.get()}}) {
      RETURN_IF_ERROR(networks::LoadModuleFromCheckpoint(path, name, *module));
    }
    online->eval();
    q->eval();
    mixer->eval();
    online_ = std::move(online);
    q_ = std::move(q);
    mixer_ = std::move(mixer);
    return absl::OkStatus();
  }

 private:
  OmigaActingPolicy() = default;

  // Q_i(o_i, a_i, id) for every env and agent: float [B, N].
  at::Tensor LocalValues(const at::Tensor& obs, const at::Tensor& actions) {
    return q_->forward(at::cat({obs, actions, ids_}, -1)).squeeze(-1).contiguous();
  }

  int64_t num_agents_ = 0;
  PolicyCapabilities capabilities_;
  networks::TanhGaussianPolicy offline_{nullptr}, online_{nullptr};
  networks::Mlp q_{nullptr};
  networks::OmigaMixer mixer_{nullptr};
  // One-hot agent ids, [B, N, N].
  at::Tensor ids_;
};

ActingPolicyEntry OmigaEntry() {
  return ActingPolicyEntry{ACTION_TYPE_CONTINUOUS, &OmigaActingPolicy::Create};
}

}  // namespace

// MASAC publishes the same three modules (its first critic and mixer), so both act alike.
TANDEM_REGISTER(ActingPolicyRegistry, "omiga", OmigaEntry());
TANDEM_REGISTER(ActingPolicyRegistry, "masac", OmigaEntry());

}  // namespace tandem::policies
