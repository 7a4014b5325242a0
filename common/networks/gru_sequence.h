// A GRU run over a whole sequence on the CPU with a hand-written backward pass (the learner's
// unroll of QMIX's agents). Equivalent to stepping torch::nn::GRUCell T times, but the input-side
// gates of all T steps are one matrix product, each step is one product for the hidden side plus
// one fused pass over the gates, and the backward pass runs the same way in reverse with the
// weight gradients summed in single products at the end, instead of autograd recording a dozen
// small operations per step.
//
// Gate order and equations are GRUCell's (r, z, n):
//   r = sigmoid(W_ir x + b_ir + W_hr h + b_hr)     z = sigmoid(W_iz x + b_iz + W_hz h + b_hz)
//   n = tanh(W_in x + b_in + r * (W_hn h + b_hn))  h' = (1 - z) * n + z * h
#ifndef TANDEM_COMMON_NETWORKS_GRU_SEQUENCE_H_
#define TANDEM_COMMON_NETWORKS_GRU_SEQUENCE_H_

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <vector>

namespace tandem::networks {

// `inputs` [T, R, I] and `initial` [R, H] with the cell's weights (`weight_ih` [3H, I],
// `weight_hh` [3H, H], biases [3H]) -> every step's hidden state [T, R, H]. Differentiable in every
// argument. CPU float32 only.
at::Tensor GruSequence(const at::Tensor& inputs, const at::Tensor& initial,
                       const at::Tensor& weight_ih, const at::Tensor& weight_hh,
                       const at::Tensor& bias_ih, const at::Tensor& bias_hh);

// The same over sequences of different lengths, packed: step t has rows_per_step[t] rows
// (non-increasing), stored one step after the other in `inputs` [P, I], and its rows continue the
// first rows_per_step[t] rows of step t - 1; `initial` is [rows_per_step[0], H]. Sequences that
// have ended take no work. Returns the hidden states [P, H] in the same packed order.
at::Tensor GruPackedSequence(const at::Tensor& inputs, const at::Tensor& initial,
                             const at::Tensor& weight_ih, const at::Tensor& weight_hh,
                             const at::Tensor& bias_ih, const at::Tensor& bias_hh,
                             const std::vector<int64_t>& rows_per_step);

}  // namespace tandem::networks

#endif  // TANDEM_COMMON_NETWORKS_GRU_SEQUENCE_H_
