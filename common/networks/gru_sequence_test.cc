#include "common/networks/gru_sequence.h"

#include <ATen/ATen.h>
#include <torch/nn/modules/rnn.h>

#include <vector>

#include "gtest/gtest.h"

namespace tandem::networks {
namespace {

// A fresh leaf holding `t`'s values, so each side of a comparison gets its own gradients.
at::Tensor Leaf(const at::Tensor& t) { return t.detach().clone().requires_grad_(true); }

// The reference: GRUCell stepped over `x` [T, R, I] from `h0`, every step's state [T, R, H].
at::Tensor StepCell(torch::nn::GRUCell& cell, const at::Tensor& x, const at::Tensor& h0) {
  std::vector<at::Tensor> outputs;
  at::Tensor state = h0;
  for (int64_t t = 0; t < x.size(0); ++t) {
    state = cell->forward(x[t], state);
    outputs.push_back(state);
  }
  return at::stack(outputs);
}

// The fused sequence gives GRUCell's outputs and, through its own backward pass, autograd's
// gradients for every argument.
TEST(GruSequence, MatchesGruCellSteppedByAutogradInValuesAndGradients) {
  torch::manual_seed(3);
  const int64_t steps = 7, rows = 5, in = 6, h = 4;
  torch::nn::GRUCell cell(in, h);
  const at::Tensor x = at::randn({steps, rows, in});
  const at::Tensor h0 = at::randn({rows, h});
  const at::Tensor upstream = at::randn({steps, rows, h});

  // Reference: GRUCell step by step.
  at::Tensor x_ref = Leaf(x), h0_ref = Leaf(h0);
  const at::Tensor reference = StepCell(cell, x_ref, h0_ref);
  (reference * upstream).sum().backward();
  const std::vector<at::Tensor> reference_grads = {x_ref.grad(),
                                                   h0_ref.grad(),
                                                   cell->weight_ih.grad().clone(),
                                                   cell->weight_hh.grad().clone(),
                                                   cell->bias_ih.grad().clone(),
                                                   cell->bias_hh.grad().clone()};

  // Fused, on copies of the same weights.
  at::Tensor x_fused = Leaf(x), h0_fused = Leaf(h0);
  at::Tensor w_ih = Leaf(cell->weight_ih), w_hh = Leaf(cell->weight_hh);
  at::Tensor b_ih = Leaf(cell->bias_ih), b_hh = Leaf(cell->bias_hh);
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
  const at::Tensor reference = StepCell(cell, x, at::zeros({rows, h}));
  const at::Tensor fused = GruSequence(x, at::zeros({rows, h}), cell->weight_ih, cell->weight_hh,
                                       cell->bias_ih, cell->bias_hh);
  ASSERT_TRUE(at::isfinite(fused).all().item<bool>());
  EXPECT_TRUE(at::allclose(fused, reference, 1e-5, 1e-6))
      << "max difference " << (fused - reference).abs().max().item<float>();
}

// Packed sequences of lengths 5, 3, 3 and 1 (rows sorted longest first): every row's states and
// every gradient equal GRUCell's on the padded batch when nothing flows from the padding.
TEST(GruSequence, PackedSequencesMatchGruCellOnTheirOwnSteps) {
  torch::manual_seed(7);
  const int64_t steps = 5, rows = 4, in = 6, h = 8;
  const std::vector<int64_t> lengths = {5, 3, 3, 1};
  std::vector<int64_t> rows_per_step;
  for (int64_t t = 0; t < steps; ++t) {
    int64_t alive = 0;
    for (int64_t length : lengths) alive += length > t ? 1 : 0;
    rows_per_step.push_back(alive);
  }
  torch::nn::GRUCell cell(in, h);
  const at::Tensor x = at::randn({steps, rows, in});
  const at::Tensor h0 = at::randn({rows, h});
  const at::Tensor upstream = at::randn({steps, rows, h});

  at::Tensor x_ref = Leaf(x), h0_ref = Leaf(h0);
  const at::Tensor reference = StepCell(cell, x_ref, h0_ref);
  // Only each row's own steps count.
  at::Tensor alive = at::zeros({steps, rows, 1});
  for (int64_t t = 0; t < steps; ++t) alive[t].narrow(0, 0, rows_per_step[t]).fill_(1);
  (reference * upstream * alive).sum().backward();

  at::Tensor x_packed_leaf = Leaf(x), h0_packed = Leaf(h0);
  at::Tensor w_ih = Leaf(cell->weight_ih), w_hh = Leaf(cell->weight_hh);
  at::Tensor b_ih = Leaf(cell->bias_ih), b_hh = Leaf(cell->bias_hh);
  std::vector<at::Tensor> x_parts, upstream_parts, reference_parts;
  for (int64_t t = 0; t < steps; ++t) {
    x_parts.push_back(x_packed_leaf[t].narrow(0, 0, rows_per_step[t]));
    upstream_parts.push_back(upstream[t].narrow(0, 0, rows_per_step[t]));
    reference_parts.push_back(reference[t].narrow(0, 0, rows_per_step[t]).detach());
  }
  const at::Tensor packed =
      GruPackedSequence(at::cat(x_parts), h0_packed, w_ih, w_hh, b_ih, b_hh, rows_per_step);
  ASSERT_EQ(packed.size(0), 12);
  EXPECT_TRUE(at::allclose(packed, at::cat(reference_parts), 1e-5, 1e-6));
  (packed * at::cat(upstream_parts)).sum().backward();
  const std::vector<std::pair<at::Tensor, at::Tensor>> grads = {
      {x_packed_leaf.grad(), x_ref.grad()},  {h0_packed.grad(), h0_ref.grad()},
      {w_ih.grad(), cell->weight_ih.grad()}, {w_hh.grad(), cell->weight_hh.grad()},
      {b_ih.grad(), cell->bias_ih.grad()},   {b_hh.grad(), cell->bias_hh.grad()}};
  const char* names[] = {"inputs", "initial", "weight_ih", "weight_hh", "bias_ih", "bias_hh"};
  for (size_t i = 0; i < grads.size(); ++i) {
    ASSERT_TRUE(grads[i].first.defined()) << names[i];
    EXPECT_TRUE(at::allclose(grads[i].first, grads[i].second, 1e-4, 1e-5))
        << names[i] << ": max difference "
        << (grads[i].first - grads[i].second).abs().max().item<float>();
  }
}

}  // namespace
}  // namespace tandem::networks
