// Acting with recurrent per-agent Q networks (the QMIX family on SMAC-like maps): pymarl2's GRU
// agent shared by all agents, its hidden state carried per env across steps and cleared when that
// env's episode restarts, batched over all envs x agents in one forward per step. Unavailable
// actions are masked to -inf before any argmax, so a greedy action is always available.
// Module name (checkpoints and published weights): "agent".
#include <ATen/ATen.h>

#include <limits>
#include <tuple>
#include <utility>

#include "absl/strings/str_cat.h"
#include "common/networks/architectures.h"
#include "common/networks/weights.h"
#include "common/policies/acting_policy.h"
#include "common/status_macros.h"

namespace tandem::policies {
namespace {

class RnnQActingPolicy : public ActingPolicy {
 public:
  static absl::StatusOr<std::unique_ptr<ActingPolicy>> Create(const PolicyContext& context) {
    std::unique_ptr<RnnQActingPolicy> policy(new RnnQActingPolicy());
    policy->options_ = networks::GruAgentOptionsFor(context.spec, context.algorithm);
    if (policy->options_.num_actions < 2) {
      return absl::InvalidArgumentError("a recurrent Q agent needs at least 2 discrete actions");
    }
    policy->online_ = networks::GruAgent(policy->options_);
    policy->capabilities_.algorithm = context.algorithm.name();
    policy->capabilities_.action_type = ACTION_TYPE_DISCRETE;
    policy->capabilities_.agent_q = true;
    policy->capabilities_.recurrent = true;
    if (!context.offline_checkpoint.empty()) {
      policy->offline_ = networks::GruAgent(policy->options_);
      RETURN_IF_ERROR(networks::LoadModuleFromCheckpoint(context.offline_checkpoint, "agent",
                                                         *policy->offline_));
      policy->offline_->eval();
      RETURN_IF_ERROR(policy->LoadOnlineCheckpoint(context.offline_checkpoint));
      policy->capabilities_.offline = true;
    }
    policy->online_->eval();
    return std::unique_ptr<ActingPolicy>(std::move(policy));
  }

  const PolicyCapabilities& capabilities() const override { return capabilities_; }

  void Begin(int num_envs) override {
    at::InferenceMode inference;
    const int64_t n = options_.num_agents;
    ids_ = at::eye(n).unsqueeze(0).expand({num_envs, n, n}).contiguous();
    online_hidden_ = at::zeros({num_envs, n, options_.hidden_size});
    offline_hidden_ = at::zeros_like(online_hidden_);
    last_actions_ = at::zeros({num_envs, n, options_.num_actions});
  }

  void Reset(absl::Span<const uint8_t> finished) override {
    at::InferenceMode inference;
    for (size_t e = 0; e < finished.size(); ++e) {
      if (!finished[e]) continue;
      const int64_t env = static_cast<int64_t>(e);
      online_hidden_[env].zero_();
      offline_hidden_[env].zero_();
      last_actions_[env].zero_();
    }
  }

  absl::StatusOr<Proposals> Propose(const ActingInput& in, const ProposalRequest& request,
                                    at::Generator&, WorkerPool*) override {
    if (request.critic) {
      return absl::InvalidArgumentError(
          "a recurrent Q agent has no factorized critic (CBS and PEX need omiga's)");
    }
    if (request.offline != ProposalMode::kNone && !capabilities_.offline) {
      return absl::FailedPreconditionError(
          "the offline proposal needs the frozen offline agent: set learner.offline_checkpoint");
    }
    at::InferenceMode inference;
    if (!ids_.defined() || ids_.size(0) != in.obs.size(0)) Begin(static_cast<int>(in.obs.size(0)));
    const at::Tensor input = at::cat({in.obs, last_actions_, ids_}, -1);
    Proposals out;
    try {
      if (request.online != ProposalMode::kNone || request.agent_q) {
        at::Tensor q;
        std::tie(q, online_hidden_) = online_->forward(input, online_hidden_);
        q = Masked(q, in.avail);
        if (request.agent_q) out.agent_q = q.contiguous();
        if (request.online != ProposalMode::kNone) out.online = q.argmax(-1).contiguous();
      }
      if (request.offline != ProposalMode::kNone) {
        at::Tensor q;
        std::tie(q, offline_hidden_) = offline_->forward(input, offline_hidden_);
        out.offline = Masked(q, in.avail).argmax(-1).contiguous();
      }
    } catch (const std::exception& e) {
      return absl::InternalError(absl::StrCat("recurrent Q agent: inference failed: ", e.what()));
    }
    return out;
  }

  void Executed(const at::Tensor& actions) override {
    at::InferenceMode inference;
    last_actions_ = at::one_hot(actions.to(at::kLong), options_.num_actions).to(at::kFloat);
  }

  absl::Status LoadWeights(const Weights& weights) override {
    return networks::UnpackWeights(weights, {{"agent", online_.get()}});
  }

  absl::Status LoadOnlineCheckpoint(const std::string& path) override {
    networks::GruAgent loaded(options_);
    RETURN_IF_ERROR(networks::LoadModuleFromCheckpoint(path, "agent", *loaded));
    loaded->eval();
    online_ = std::move(loaded);
    return absl::OkStatus();
  }

 private:
  RnnQActingPolicy() = default;

  static at::Tensor Masked(const at::Tensor& q, const at::Tensor& avail) {
    if (!avail.defined()) return q;
    return q.masked_fill(avail.eq(0), -std::numeric_limits<float>::infinity());
  }

  networks::GruAgentOptions options_;
  PolicyCapabilities capabilities_;
  networks::GruAgent online_{nullptr}, offline_{nullptr};
  // Per env: GRU states [B, N, H] and the last actions taken, one-hot [B, N, K].
  at::Tensor online_hidden_, offline_hidden_, last_actions_;
  // One-hot agent ids, [B, N, N].
  at::Tensor ids_;
};

}  // namespace

TANDEM_REGISTER(ActingPolicyRegistry, "qmix",
                (ActingPolicyEntry{ACTION_TYPE_DISCRETE, &RnnQActingPolicy::Create}));

}  // namespace tandem::policies
