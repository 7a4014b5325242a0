// QMIX's mixing network as fused CPU passes, for the many joint actions per state that the
// conservative terms mix (and the one per state of the TD loss).
//
// For one state the mixer is Q_tot(q) = ELU(q W1 + b1) . w2 + b2 over the agents' values
// q [N] (qmix_mixer.h: W1 [N, E], b1 [E], w2 [E], b2 scalar from the hypernetworks). Mixing M
// joint actions per state as batched products costs a tiny product per state and keeps hidden
// layers [R, M, E] for the backward pass; the passes here compute each output in registers and
// recompute the hidden layer on the way back.
//
// Deviations (CFCQL's counterfactual values): replacing agent i's value c_i of a joint action c by
// Q_i(j) moves the first layer by a rank-one term,
//   q W1 + b1 = base + (Q_i(j) - c_i) W1[i, :],   base = c W1 + b1,
// so each of the N K deviations of a state costs E flops for the first layer instead of N E.
#ifndef TANDEM_COMMON_NETWORKS_MIXER_KERNELS_H_
#define TANDEM_COMMON_NETWORKS_MIXER_KERNELS_H_

#include <ATen/core/Tensor.h>

namespace tandem::networks {

// M joint actions per state: `q` [R, M, N], `w1` [R, N, E], `b1` [R, E], `w2` [R, E], `b2` [R]
// -> Q_tot [R, M]. Differentiable in every argument; CPU float32 runs the fused pass, anything
// else MixJointActionsReference.
at::Tensor MixJointActions(const at::Tensor& q, const at::Tensor& w1, const at::Tensor& b1,
                           const at::Tensor& w2, const at::Tensor& b2);

// The same as batched products (pymarl2's QMixer).
at::Tensor MixJointActionsReference(const at::Tensor& q, const at::Tensor& w1, const at::Tensor& b1,
                                    const at::Tensor& w2, const at::Tensor& b2);

// Every single-agent deviation: `agent_q` [R, N, K] every agent's values, `chosen` [R, N] the
// joint action's, `base` [R, E] (chosen W1 + b1), `w1` [R, N, E], `w2` [R, E], `b2` [R] ->
// [R, N, K], entry (r, i, j) = ELU(base + (agent_q[r,i,j] - chosen[r,i]) w1[r,i]) . w2 + b2.
// Differentiable in every argument; CPU float32 runs the fused pass, anything else
// MixDeviationsReference.
at::Tensor MixDeviations(const at::Tensor& agent_q, const at::Tensor& chosen,
                         const at::Tensor& base, const at::Tensor& w1, const at::Tensor& w2,
                         const at::Tensor& b2);

// The same in tensor operations (builds the [R, N, K, E] hidden layer).
at::Tensor MixDeviationsReference(const at::Tensor& agent_q, const at::Tensor& chosen,
                                  const at::Tensor& base, const at::Tensor& w1,
                                  const at::Tensor& w2, const at::Tensor& b2);

}  // namespace tandem::networks

#endif  // TANDEM_COMMON_NETWORKS_MIXER_KERNELS_H_
