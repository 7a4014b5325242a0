// The one place that says how each algorithm family's networks are shaped for a transition spec.
// Learners build their trained networks from these options and actors build the copies they act
// with from the same options, so the two sides can never disagree about a layer.
#ifndef TANDEM_COMMON_NETWORKS_ARCHITECTURES_H_
#define TANDEM_COMMON_NETWORKS_ARCHITECTURES_H_

#include "common/networks/gru_agent.h"
#include "common/networks/mlp.h"
#include "common/networks/omiga_mixer.h"
#include "common/networks/qmix_mixer.h"
#include "common/networks/tanh_gaussian_policy.h"
#include "proto/config.pb.h"
#include "proto/transition.pb.h"

namespace tandem::networks {

// OMIGA / MASAC: the shared policy over (observation, one-hot agent id).
TanhGaussianPolicyOptions OmigaPolicyOptions(const TransitionSpec& spec,
                                             const AlgorithmConfig& algorithm);
// The local critic Q_i(o_i, a_i, id).
MlpOptions OmigaCriticOptions(const TransitionSpec& spec, const AlgorithmConfig& algorithm);
// OMIGA's local value V_i(o_i, id).
MlpOptions OmigaValueOptions(const TransitionSpec& spec, const AlgorithmConfig& algorithm);
// The state-conditioned mixer weights and bias.
OmigaMixerOptions OmigaMixerOptionsFor(const TransitionSpec& spec,
                                       const AlgorithmConfig& algorithm);

// QMIX family: pymarl2's recurrent agent over (observation, last action one-hot, agent id one-hot).
GruAgentOptions GruAgentOptionsFor(const TransitionSpec& spec, const AlgorithmConfig& algorithm);
// QMIX's hypernetwork mixer over the global state.
QmixMixerOptions QmixMixerOptionsFor(const TransitionSpec& spec, const AlgorithmConfig& algorithm);

}  // namespace tandem::networks

#endif  // TANDEM_COMMON_NETWORKS_ARCHITECTURES_H_
