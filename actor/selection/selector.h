// Action selectors: how an actor turns the acting policy's proposals into the joint actions of B
// envs (CBS and its ablations, PEX, epsilon-greedy, OVMSE's sequential epsilon-greedy, ...).
//
// Each selector (or family) is one file that registers itself by name:
//   TANDEM_REGISTER(SelectorRegistry, "boltzmann", (SelectorEntry{&MakeBoltzmann}));
// and declares what it needs: which action types it handles and which proposals and critic values
// it asks the policy for. `CreateSelector` checks those needs against the env and the policy, so a
// mismatch (CBS on a discrete map, a Q-greedy selector over a policy without Q values) is a config
// error naming both sides at startup, never a failure mid-run.
//
// Thread-safety: one selector is used by one thread at a time.
#ifndef TANDEM_ACTOR_SELECTION_SELECTOR_H_
#define TANDEM_ACTOR_SELECTION_SELECTOR_H_

#include <cstdint>
#include <functional>
#include <limits>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "actor/selection/hybrid_scorer.h"
#include "common/policies/acting_policy.h"
#include "common/registry.h"
#include "common/rng.h"
#include "proto/config.pb.h"

namespace tandem::actor {

// What a selector needs, declared once per selector.
struct SelectorNeeds {
  bool continuous = false;  // handles continuous actions
  bool discrete = false;    // handles discrete actions
  // Asked of the policy every step (offline proposals need the frozen offline policy).
  policies::ProposalRequest request;
};

// The shapes and state of one selection over B envs.
struct SelectionInput {
  int num_envs = 0;
  int num_agents = 0;
  // A (continuous) or K (discrete).
  int action_size = 0;
  // Continuous box, per agent and dimension (N * A).
  absl::Span<const float> action_low, action_high;
  // uint8 [B, N, K] availability (discrete envs with masks; empty otherwise).
  absl::Span<const uint8_t> avail;
  // Online env steps this actor has taken (schedules such as epsilon's).
  int64_t env_steps = 0;
};

// Where a selection writes. Exactly one of `continuous` ([B, N, A]) and `discrete` ([B, N]) is
// non-empty. `hybrids[e]` bit i is set when agent i took its offline proposal in env e.
struct SelectionOutput {
  absl::Span<float> continuous;
  absl::Span<int32_t> discrete;
  absl::Span<Hybrid> hybrids;
};

class ActionSelector {
 public:
  virtual ~ActionSelector() = default;
  virtual const SelectorNeeds& needs() const = 0;
  // Chooses the joint actions of every env from `proposals` (what needs().request asked for).
  virtual absl::Status Select(const policies::Proposals& proposals, const SelectionInput& input,
                              Rng& rng, SelectionOutput out) = 0;
  // The exploration probability epsilon after `env_steps` env steps, for selectors that have one
  // (exported as tandem_actor_epsilon); NaN for the others.
  virtual double Exploration(int64_t env_steps) const {
    (void)env_steps;
    return std::numeric_limits<double>::quiet_NaN();
  }
};

struct SelectorEntry {
  std::function<std::unique_ptr<ActionSelector>(const SelectorConfig&)> create;
};

struct SelectorKind {
  using Entry = SelectorEntry;
  static constexpr const char* kKind = "selector";
  static constexpr const char* kConfigField = "selector.name";
};
using SelectorRegistry = Registry<SelectorKind>;

// Builds the selector `config.name()` and checks its needs against the env's action type
// (`env_name` is for messages) and the policy's capabilities; INVALID_ARGUMENT names the mismatch.
absl::StatusOr<std::unique_ptr<ActionSelector>> CreateSelector(
    const SelectorConfig& config, ActionType action_type, const std::string& env_name,
    const policies::PolicyCapabilities& policy);

// Copies agent i's continuous proposal of env e from `offline` where hybrid bit i is set, else
// from `online`, for every env (tensors [B, N, A]).
void ComposeHybrids(const policies::Proposals& proposals, absl::Span<const Hybrid> hybrids,
                    const SelectionInput& input, SelectionOutput out);

// Writes `actions` (the policy's proposal tensor, [B, N, A] float or [B, N] int64) to `out`.
void CopyProposal(const at::Tensor& actions, SelectionOutput out);

}  // namespace tandem::actor

#endif  // TANDEM_ACTOR_SELECTION_SELECTOR_H_
