// The networks an actor, an evaluator or a rollout acts with, owned by the algorithm family that
// trains them. One interface for every family: continuous policies with a factorized critic
// (OMIGA, MASAC) and recurrent discrete Q-agents (QMIX family) alike.
//
// A policy acts for B envs at once (one batched forward per network per step) and keeps whatever
// per-env state it needs (the GRU hidden state and last actions of a recurrent agent; nothing for
// MLPs). Each step:
//   Propose(input, request)  -> the online / offline proposals and critic values a selector asked
//                               for (advancing recurrent state by one step)
//   Executed(actions)        <- the joint actions the selector chose (a recurrent agent feeds them
//                               back as its next "last action")
//   Reset(finished)          <- envs whose episode ended and restarted (their state is cleared)
//
// The offline policy is the frozen copy loaded once from the offline checkpoint; the online one
// starts as a copy of it and is replaced by published weights (`LoadWeights`) or a checkpoint.
// Weights and checkpoints use the module names of `common/networks/weights.h`, the learner's.
//
// Policies register by algorithm name (`algorithm.name`) in their own .cc:
//   TANDEM_REGISTER(ActingPolicyRegistry, "omiga", ActingPolicyEntry{...});
//
// Thread-safety: one policy is used by one thread at a time (it may run its own branches on the
// workers it is handed).
#ifndef TANDEM_COMMON_POLICIES_ACTING_POLICY_H_
#define TANDEM_COMMON_POLICIES_ACTING_POLICY_H_

#include <ATen/core/Generator.h>
#include <ATen/core/Tensor.h>

#include <functional>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "common/registry.h"
#include "common/worker_pool.h"
#include "proto/config.pb.h"
#include "proto/parameter_service.pb.h"
#include "proto/transition.pb.h"

namespace tandem::policies {

// How one policy's proposal is produced.
enum class ProposalMode {
  // Not needed this step.
  kNone,
  // Exploratory: a sample from the policy's distribution (continuous stochastic policies).
  kSample,
  // Evaluation action: tanh(mean) (continuous) or the greedy available action (discrete).
  kDeterministic,
};

// What a selector needs from the policy in one step.
struct ProposalRequest {
  ProposalMode online = ProposalMode::kNone;
  ProposalMode offline = ProposalMode::kNone;
  // Local critic values of both proposals plus the mixer's per-env weights and bias (a critic that
  // factorizes as Q_tot = sum_i w_i(s) Q_i + b(s)).
  bool critic = false;
  // Per-agent Q values of the online network over every discrete action.
  bool agent_q = false;

  // The same request without exploration: every kSample becomes kDeterministic.
  ProposalRequest Deterministic() const;
};

// What the policy can provide; checked against a selector's needs at startup.
struct PolicyCapabilities {
  // The algorithm (`algorithm.name`) whose networks these are, for messages.
  std::string algorithm;
  ActionType action_type = ACTION_TYPE_UNSPECIFIED;
  // kSample proposals differ from kDeterministic ones.
  bool stochastic = false;
  // An offline proposal exists (a frozen offline policy was loaded).
  bool offline = false;
  // `critic` requests are answered.
  bool factorized_critic = false;
  // `agent_q` requests are answered.
  bool agent_q = false;
  // The policy keeps per-env state across steps.
  bool recurrent = false;
};

// One step's inputs for B envs. CPU tensors, contiguous.
struct ActingInput {
  // float [B, N, O]
  at::Tensor obs;
  // float [B, S]
  at::Tensor state;
  // uint8 [B, N, K], 1 = available (discrete envs with masks; undefined otherwise)
  at::Tensor avail;
};

// One step's outputs; only what the request asked for is defined. CPU tensors, contiguous.
struct Proposals {
  // float [B, N, A] (continuous) or int64 [B, N] (discrete, always an available action).
  at::Tensor online, offline;
  // float [B, N]: the local critic's value of each agent's online / offline proposal.
  at::Tensor q_online, q_offline;
  // float [B, N] and [B]: the mixer's weights w_i(s) and bias b(s).
  at::Tensor mixer_weights, mixer_bias;
  // float [B, N, K]: online per-agent Q values, -inf where the action is unavailable.
  at::Tensor agent_q;
};

class ActingPolicy {
 public:
  virtual ~ActingPolicy() = default;

  virtual const PolicyCapabilities& capabilities() const = 0;

  // Starts acting for `num_envs` envs, every env at the start of an episode.
  virtual void Begin(int num_envs) = 0;
  // Envs with finished[e] != 0 start a new episode at the next step (B entries).
  virtual void Reset(absl::Span<const uint8_t> finished) = 0;
  // Computes what `request` asks for. With `workers`, independent branches may run in parallel on
  // them; `generator` draws every sample (a helper thread never touches it).
  virtual absl::StatusOr<Proposals> Propose(const ActingInput& input,
                                            const ProposalRequest& request,
                                            at::Generator& generator, WorkerPool* workers) = 0;
  // The joint actions taken this step: float [B, N, A] or int64 [B, N].
  virtual void Executed(const at::Tensor& actions) = 0;

  // Replaces the online networks with a published version (all or nothing).
  virtual absl::Status LoadWeights(const Weights& weights) = 0;
  // Replaces the online networks with those of a learner checkpoint (all or nothing).
  virtual absl::Status LoadOnlineCheckpoint(const std::string& path) = 0;
};

// What a policy is built from.
struct PolicyContext {
  // Shapes of the env's transitions (the learner trains on the same spec).
  TransitionSpec spec;
  AlgorithmConfig algorithm;
  // The frozen offline policy's checkpoint; "" = none (online networks start untrained).
  std::string offline_checkpoint;
};

struct ActingPolicyEntry {
  // Action type the family acts in.
  ActionType action_type = ACTION_TYPE_UNSPECIFIED;
  std::function<absl::StatusOr<std::unique_ptr<ActingPolicy>>(const PolicyContext&)> create;
};

struct ActingPolicyKind {
  using Entry = ActingPolicyEntry;
  static constexpr const char* kKind = "algorithm";
  static constexpr const char* kConfigField = "algorithm.name";
};
using ActingPolicyRegistry = Registry<ActingPolicyKind>;

// For policies that propose actions only (no critic values, no discrete Q values): INVALID_ARGUMENT
// for a request of either, FAILED_PRECONDITION for an offline proposal without a frozen offline
// policy; OK otherwise.
absl::Status CheckActionOnlyRequest(const ProposalRequest& request,
                                    const PolicyCapabilities& capabilities);

// Builds the acting policy of `context.algorithm.name()`; refuses a family whose action type is
// not the spec's, naming both.
absl::StatusOr<std::unique_ptr<ActingPolicy>> CreateActingPolicy(const PolicyContext& context);

}  // namespace tandem::policies

#endif  // TANDEM_COMMON_POLICIES_ACTING_POLICY_H_
