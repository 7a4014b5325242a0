// The networks an actor or evaluator acts with: the frozen offline policy, the online policy and
// the online critic (local Q and OMIGA mixer). Built with the learner's architecture for an env
// spec; the offline policy comes from the offline checkpoint, the online networks start as copies
// of the offline ones and are replaced by published weights or a later checkpoint.
#ifndef TANDEM_ACTOR_POLICY_SET_H_
#define TANDEM_ACTOR_POLICY_SET_H_

#include <string>

#include "absl/status/statusor.h"
#include "actor/envs/multi_agent_env.h"
#include "common/networks/mlp.h"
#include "common/networks/omiga_mixer.h"
#include "common/networks/tanh_gaussian_policy.h"
#include "proto/config.pb.h"
#include "proto/parameter_service.pb.h"

namespace tandem::actor {

struct PolicySet {
  // Networks sized for `spec` and `algorithm`, in eval mode. When `offline_checkpoint` is not
  // empty, every network is loaded from it (the online ones as starting copies).
  static absl::StatusOr<PolicySet> Create(const envs::EnvSpec& spec,
                                          const AlgorithmConfig& algorithm,
                                          const std::string& offline_checkpoint);

  // Replaces the online policy and critic with a published version (all or nothing).
  absl::Status Update(const Weights& weights);
  // Replaces the online policy and critic with those of a learner checkpoint.
  absl::Status LoadOnline(const std::string& checkpoint);

  networks::TanhGaussianPolicy offline_policy{nullptr};
  networks::TanhGaussianPolicy online_policy{nullptr};
  networks::Mlp q{nullptr};
  networks::OmigaMixer mixer{nullptr};
};

}  // namespace tandem::actor

#endif  // TANDEM_ACTOR_POLICY_SET_H_
