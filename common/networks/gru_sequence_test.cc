#include "common/networks/gru_sequence.h"

#include <ATen/ATen.h>
#include <torch/nn/modules/rnn.h>

#include <vector>

#include "gtest/gtest.h"

namespace tandem::networks {
namespace {

// The fused sequence gives GRUCell's outputs and, through its own backward pass, autograd's
// gradients for every argument.
TEST(GruSequence, MatchesGruCellSteppedByAutogradInValuesAndGradients) {
  torch::manual_seed(3);
  const int64_t steps = 7, rows = 5, in = 6, h = 4;
  torch::nn::GRUCell cell(in, h);
  const at::Tensor x = at::randn({steps, rows, in});
  const at::Tensor h0 = at::randn({rows, h});
  const at::Tensor upstream = at::randn({steps, rows, h});

  auto leaf = [](const at::Tensor& t) { return t.detach().clone().requires_grad_(true); };
  // Reference: GRUCell step by step.
  at::Tensor x_ref = leaf(x), h0_ref = leaf(h0);
  std::vector<at::Tensor> outputs;
  at::Tensor state = h0_ref;
  for (int64_t t = 0; t < steps; ++t) {
    state = cell->forward(x_ref[t], state);
    outputs.push_back(state);
  }
  const at::Tensor reference = at::stack(outputs);
  (reference * upstream).sum().backward();
  const std::vector<at::Tensor> reference_grads = {x_ref.grad(),
                                                   h0_ref.grad(),
                                                   cell->weight_ih.grad().clone(),
                                                   cell->weight_hh.grad().clone(),
                                                   cell->bias_ih.grad().clone(),
                                                   cell->bias_hh.grad().clone()};

  // Fused, on copies of the same weights.
  at::Tensor x_fused = leaf(x), h0_fused = leaf(h0);
  at::Tensor w_ih = leaf(cell->weight_ih), w_hh = leaf(cell->weight_hh);
  at::Tensor b_ih = leaf(cell->bias_ih), b_hh = leaf(cell->bias_hh);
  const at::Tensor fused = GruSequence(x_fused, h0_fused, w_ih, w_hh, b_ih, b_hh);
  ASSERT_EQ(fused.sizes(), reference.sizes());
  EXPECT_TRUE(at::allclose(fused, reference, 1e-5, 1e-6));
  (fused * upstream).sum().backward();
  const std::vector<at::Tensor> fused_grads = {x_fused.grad(), h0_fused.grad(), w_ih.grad(),
                                               w_hh.grad(),    b_ih.grad(),     b_hh.grad()};
  const char* names[] = {"inputs", "initial", "weight_ih", "weight_hh", "bias_ih", "bias_hh"};
  for (int i = 0; i < 6; ++i) {
    ASSERT_TRUE(fused_grads[i].defined()) << names[i];
    EXPECT_TRUE(at::allclose(fused_grads[i], reference_grads[i], 1e-4, 1e-5))
        << names[i] << ": max difference "
        << (fused_grads[i] - reference_grads[i]).abs().max().item<float>();
  }
}

// Pre-activations far into both tails (up to a few hundred): the gates saturate to exactly
// GRUCell's values, never NaN or infinity; and a no-grad unroll (a target network's) gives the same
// states.
TEST(GruSequence, SaturatedGatesAndTheNoGradPathMatchGruCell) {
  torch::manual_seed(5);
  const int64_t steps = 5, rows = 70, in = 6, h = 16;  // rows span several vector widths and a tail
  torch::nn::GRUCell cell(in, h);
  const at::Tensor x = 60 * at::randn({steps, rows, in});
  at::NoGradGuard no_grad;
  std::vector<at::Tensor> outputs;
  at::Tensor state = at::zeros({rows, h});
  for (int64_t t = 0; t < steps; ++t) {
    state = cell->forward(x[t], state);
    outputs.push_back(state);
  }
  const at::Tensor reference = at::stack(outputs);
  const at::Tensor fused = GruSequence(x, at::zeros({rows, h}), cell->weight_ih, cell->weight_hh,
                                       cell->bias_ih, cell->bias_hh);
  ASSERT_TRUE(at::isfinite(fused).all().item<bool>());
  EXPECT_TRUE(at::allclose(fused, reference, 1e-5, 1e-6))
      << "max difference " << (fused - reference).abs().max().item<float>();
}

}  // namespace
}  // namespace tandem::networks
