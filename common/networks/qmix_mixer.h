// QMIX's monotonic mixer (pymarl2's QMixer): hypernetworks of the global state s give the weights
// of a two-layer mixing network over the agents' chosen Q values q = (Q_1, ..., Q_N):
//   W1 = |hyper_w1(s)| [N, E]     b1 = hyper_b1(s) [E]
//   W2 = |hyper_w2(s)| [E]        b2 = hyper_b2(s) (s -> E -> ReLU -> 1)
//   Q_tot = ELU(q W1 + b1) . W2 + b2
// hyper_w1 and hyper_w2 are s -> hypernet hidden -> ReLU -> out. The absolute values keep every
// dQ_tot/dQ_i >= 0 (monotonic mixing). Submodules "hyper_w1", "hyper_b1", "hyper_w2", "hyper_b2".
#ifndef TANDEM_COMMON_NETWORKS_QMIX_MIXER_H_
#define TANDEM_COMMON_NETWORKS_QMIX_MIXER_H_

#include <torch/nn/module.h>
#include <torch/nn/modules/container/sequential.h>
#include <torch/nn/modules/linear.h>
#include <torch/nn/pimpl.h>

namespace tandem::networks {

struct QmixMixerOptions {
  int64_t num_agents = 0;
  int64_t state_size = 0;
  // E, the mixing network's width (pymarl2 mixing_embed_dim: 32).
  int64_t embed_size = 32;
  // The hypernetworks' hidden width (pymarl2 hypernet_embed: 64).
  int64_t hypernet_hidden_size = 64;
};

class QmixMixerImpl : public torch::nn::Module {
 public:
  explicit QmixMixerImpl(const QmixMixerOptions& options);

  // `q` [..., N] chosen per-agent values, `state` [..., S] -> Q_tot [...].
  torch::Tensor forward(const torch::Tensor& q, const torch::Tensor& state);
  // Several joint actions per state, the hypernetworks run once per state: `q` [R, M, N],
  // `state` [R, S] -> Q_tot [R, M] (the conservative terms' sampled and counterfactual actions).
  torch::Tensor MixMany(const torch::Tensor& q, const torch::Tensor& state);
  // Every single-agent deviation from one joint action per state: `agent_q` [R, N, K] all agents'
  // values, `chosen` [R, N] the joint action's, `state` [R, S] -> [R, N, K], entry (r, i, j) the
  // Q_tot of `chosen` with agent i's value replaced by agent_q[r, i, j] (CFCQL's counterfactual
  // values), in one fused pass that uses the first layer's linearity (mixer_kernels.h).
  torch::Tensor MixDeviations(const torch::Tensor& agent_q, const torch::Tensor& chosen,
                              const torch::Tensor& state);

  const QmixMixerOptions& options() const { return options_; }

 private:
  QmixMixerOptions options_;
  torch::nn::Sequential hyper_w1_{nullptr}, hyper_w2_{nullptr}, hyper_b2_{nullptr};
  torch::nn::Linear hyper_b1_{nullptr};
};
TORCH_MODULE(QmixMixer);

}  // namespace tandem::networks

#endif  // TANDEM_COMMON_NETWORKS_QMIX_MIXER_H_
