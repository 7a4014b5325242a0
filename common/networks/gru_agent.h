// pymarl2's recurrent agent, shared by all agents: fc(in, H) ReLU -> GRUCell(H, H) -> fc(H, K).
// The input of agent i is [o_i, one-hot of its last action (K), one-hot of i (N)]; the output is
// Q_i(tau_i, .) over the K discrete actions. Submodules "fc1", "rnn", "fc2" (checkpoint keys).
// Inputs may have any leading dimensions: [B, N, in] with hidden [B, N, H] runs every agent of
// every env in one batched pass.
#ifndef TANDEM_COMMON_NETWORKS_GRU_AGENT_H_
#define TANDEM_COMMON_NETWORKS_GRU_AGENT_H_

#include <torch/nn/module.h>
#include <torch/nn/modules/linear.h>
#include <torch/nn/modules/rnn.h>
#include <torch/nn/pimpl.h>

#include <cstdint>
#include <utility>
#include <vector>

namespace tandem::networks {

struct GruAgentOptions {
  int64_t obs_size = 0;
  int64_t num_agents = 0;
  // K, discrete actions per agent.
  int64_t num_actions = 0;
  // H, width of the trunk and of the GRU state (pymarl2: 64).
  int64_t hidden_size = 64;

  // Width of one agent's input: obs + last action one-hot + agent id one-hot.
  int64_t input_size() const { return obs_size + num_actions + num_agents; }
};

// Which entries of a batch of padded episodes hold an episode's entries, for unrolling only those:
// the episodes ordered longest first, step t holds the first alive(t) of them (N agent rows each),
// and `index` maps each packed row, in that order, to its time-major row t * B * N + e * N + i.
// Built once per batch and shared by every agent unrolled on it.
struct EpisodePacking {
  // `entries` [B] long: each episode's filled entries (its steps plus the final observation);
  // `steps` the entries unrolled (at least the longest episode's).
  static EpisodePacking FromEntries(const at::Tensor& entries, int64_t steps, int64_t agents);

  std::vector<int64_t> rows_per_step;  // alive(t) * N
  at::Tensor index;                    // [P] long
  int64_t padded_rows = 0;             // T * B * N
};

class GruAgentImpl : public torch::nn::Module {
 public:
  explicit GruAgentImpl(const GruAgentOptions& options);

  // One step: `inputs` [..., input_size] and `hidden` [..., H] -> (Q values [..., K], new hidden).
  std::pair<torch::Tensor, torch::Tensor> forward(const torch::Tensor& inputs,
                                                  const torch::Tensor& hidden);

  // Whole padded episodes (the learner), time-major: observations [T, B, N, O] and the actions
  // taken, long [T, B, N] (the input's last action at t is the action at t - 1, none at t = 0),
  // from a zero hidden state -> Q values [T, B, N, K]. The first layer is applied as a product over
  // the observations plus looked-up rows for the last action and the agent id, so the
  // [.., O + K + N] input is never built; on the CPU the GRU runs as one fused sequence
  // (gru_sequence.h).
  //
  // With `packing` (CPU, float32), only the entries episodes fill are computed; the Q values of the
  // padding are 0 and nothing flows back through them.
  torch::Tensor UnrollEpisodes(const torch::Tensor& obs, const torch::Tensor& actions,
                               const EpisodePacking* packing = nullptr);

  const GruAgentOptions& options() const { return options_; }

 private:
  torch::Tensor UnrollPacked(const torch::Tensor& obs, const torch::Tensor& actions,
                             const EpisodePacking& packing);
  // The action each agent acted on before entry t, time-major [T, B, N]: K (none) at t = 0.
  at::Tensor LastActions(const at::Tensor& actions) const;
  // fc1 and its ReLU on rows that come N at a time (agents 0..N-1 of one episode at one entry):
  // W_o obs + W_a[:, last action] + W_id[:, agent] + bias, so the [.., O + K + N] input is never
  // built. `obs_rows` [R, O], `last_rows` [R] long -> [R, H].
  at::Tensor FirstLayer(const at::Tensor& obs_rows, const at::Tensor& last_rows);

  GruAgentOptions options_;
  torch::nn::Linear fc1_{nullptr};
  torch::nn::GRUCell rnn_{nullptr};
  torch::nn::Linear fc2_{nullptr};
};
TORCH_MODULE(GruAgent);

}  // namespace tandem::networks

#endif  // TANDEM_COMMON_NETWORKS_GRU_AGENT_H_
