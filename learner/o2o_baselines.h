// The loss terms of Sim2O's offline-to-online baselines inside the OMIGA framework (Sim2O,
// Appendix F2; algorithm facts in each paper). The OMIGA learner runs them in its online phase
// when algorithm.omiga.online_update says so (learner/omiga_baselines.cc); they are free functions
// here so tests can check them against values computed by hand.
//
// Shapes: B batch rows, N agents. Q_tot(s, a) = sum_i w_i(s) Q_i(o_i, a_i) + b(s) (OMIGA's mixer).
//
// AWAC-MA (Nair et al. 2020; CORL finetune/awac.py), without OMIGA's V branch:
//   critic  y   = r + gamma (1 - d) Q_tot'(s', a'),  a' ~ pi(o')            (target networks)
//   actor   A_i = w_i(s) (Q_i(o_i, a_i) - Q_i(o_i, a~_i)),  a~ ~ pi(o)      (changing agent i's
//                 action alone changes Q_tot by exactly this: the per-agent advantage)
//           L   = -mean_{b,i} min(exp(A_i / lambda), max_weight) log pi(a_i | o_i)
// PROTO-MA (Li et al., ICLR 2023), SAC-style with an iterative KL to pi_k, an EMA of pi:
//   penalty(a) = sum_i [alpha log pi(a_i | o_i) + lambda_t (log pi(a_i | o_i) - log pi_k(a_i |
//   o_i))] (pi and pi_k are tanh-Gaussians: the tanh correction cancels in the log-ratio, which is
//   taken between the two Gaussians at the sample's pre-tanh value, exact where tanh saturates)
//   critic  y   = r + gamma (1 - d) (Q_tot'(s', a') - penalty(a')),  a' ~ pi(o')
//   actor   L   = mean_b (penalty(a~) - Q_tot(s, a~)),  a~ ~ pi(o) reparameterised
//   alpha   L   = -mean_{b,i} log_alpha (log pi(a~_i | o_i) + target_entropy),  target -|A_i|/2
// RLPD-MA (Ball et al., ICML 2023), SAC over an ensemble of E LayerNorm critics Q_tot^k:
//   critic  y   = r + gamma (1 - d) (min_{k in S} Q_tot^k'(s', a') - alpha sum_i log pi(a'_i|o'_i))
//                 with S a random subset of the members and a' ~ pi(o');
//           L   = sum_k mean_b (Q_tot^k(s, a) - y)^2
//   actor   L   = mean_b (alpha sum_i log pi(a~_i | o_i) - mean_k Q_tot^k(s, a~))
#ifndef TANDEM_LEARNER_O2O_BASELINES_H_
#define TANDEM_LEARNER_O2O_BASELINES_H_

#include <ATen/core/Tensor.h>
#include <torch/nn/module.h>
#include <torch/nn/modules/linear.h>
#include <torch/nn/modules/normalization.h>
#include <torch/nn/pimpl.h>

#include <cstdint>
#include <vector>

#include "common/networks/mlp.h"

namespace tandem::learner {

// AWAC's advantage weights min(exp(advantage / lambda), max_weight), elementwise.
at::Tensor AwacWeights(const at::Tensor& advantage, double lambda, double max_weight);

// AWAC-MA's per-agent advantages w_i (Q_i(o_i, a_i) - Q_i(o_i, a~_i)); all [B, N].
at::Tensor AwacAdvantages(const at::Tensor& w, const at::Tensor& q_data,
                          const at::Tensor& q_policy);

// AWAC-MA's actor loss: -mean(weights * log_prob) over every entry ([B, N] each; weights detached).
at::Tensor AwacPolicyLoss(const at::Tensor& log_prob, const at::Tensor& weights);

// A weight decayed linearly from `start` to `end` over `anneal_steps`, then held (PROTO's
// lambda_t).
double LinearlyAnnealed(double start, double end, int64_t anneal_steps, int64_t step);

// PROTO-MA's per-row penalty sum_i [alpha log_prob + kl_weight log_ratio], log_ratio = log pi -
// log pi_k: [B, N] in, [B] out.
at::Tensor ProtoPenalty(const at::Tensor& log_prob, const at::Tensor& log_ratio,
                        const at::Tensor& alpha, double kl_weight);

// Log-density of a diagonal Gaussian at `x`, summed over the last dimension.
at::Tensor GaussianLogDensity(const at::Tensor& x, const at::Tensor& mean,
                              const at::Tensor& log_std);

// A reparameterised sample of tanh(N(mean, exp(log_std))) from `noise` ~ N(0, 1): the action, its
// pre-tanh value and its log-density (summed over the last dimension).
struct TanhGaussianSample {
  at::Tensor action, pre_tanh, log_prob;
};
TanhGaussianSample SampleTanhGaussian(const at::Tensor& mean, const at::Tensor& log_std,
                                      const at::Tensor& noise);

// The soft TD target r + gamma (1 - terminated) (next_q_tot - next_penalty); all [B].
at::Tensor SoftTdTarget(const at::Tensor& reward, const at::Tensor& terminated, double gamma,
                        const at::Tensor& next_q_tot, const at::Tensor& next_penalty);

// The temperature loss -mean(log_alpha * (log_prob + target_entropy)) (log_prob detached).
at::Tensor TemperatureLoss(const at::Tensor& log_alpha, const at::Tensor& log_prob,
                           double target_entropy);

// RLPD's subset-min target: the minimum over `members` (long [m]) of `q` ([E, B]): [B].
at::Tensor SubsetMinimum(const at::Tensor& q, const at::Tensor& members);

// RLPD's critic network: an MLP with LayerNorm after every hidden Linear, before the ReLU.
// Submodules "linear0", "norm0", ..., "linear<n>" (the output layer).
class LayerNormMlpImpl : public torch::nn::Module {
 public:
  explicit LayerNormMlpImpl(const networks::MlpOptions& options);
  at::Tensor forward(at::Tensor x);

 private:
  std::vector<torch::nn::Linear> linears_;
  std::vector<torch::nn::LayerNorm> norms_;
};
TORCH_MODULE(LayerNormMlp);

}  // namespace tandem::learner

#endif  // TANDEM_LEARNER_O2O_BASELINES_H_
