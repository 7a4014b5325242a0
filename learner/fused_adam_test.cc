#include "learner/fused_adam.h"

#include <ATen/ATen.h>
#include <torch/torch.h>

#include "gtest/gtest.h"

namespace tandem::learner {
namespace {

// A small least-squares problem with two parameter tensors.
at::Tensor Loss(const at::Tensor& w, const at::Tensor& b, const at::Tensor& x,
                const at::Tensor& y) {
  return (at::matmul(x, w) + b - y).pow(2).mean();
}

TEST(FusedAdam, MatchesTorchAdamWithGradientClipping) {
  at::manual_seed(1);
  at::Tensor x = at::randn({32, 5}), y = at::randn({32, 3}) * 10;
  at::Tensor w1 = at::randn({5, 3}).requires_grad_(), b1 = at::randn({3}).requires_grad_();
  at::Tensor w2 = w1.detach().clone().requires_grad_(), b2 = b1.detach().clone().requires_grad_();
  FusedAdam fused({w1, b1}, FusedAdamOptions{1e-2, 0.9, 0.999, 1e-8, 1.0});
  torch::optim::Adam reference({w2, b2}, torch::optim::AdamOptions(1e-2));
  for (int step = 0; step < 25; ++step) {
    fused.ZeroGrad();
    Loss(w1, b1, x, y).backward();
    const double norm = fused.Step();

    reference.zero_grad();
    Loss(w2, b2, x, y).backward();
    const double reference_norm = torch::nn::utils::clip_grad_norm_({w2, b2}, 1.0);
    reference.step();
    EXPECT_NEAR(norm, reference_norm, 1e-4 * reference_norm);
  }
  EXPECT_TRUE(at::allclose(w1, w2, 1e-5, 1e-6));
  EXPECT_TRUE(at::allclose(b1, b2, 1e-5, 1e-6));
  EXPECT_EQ(fused.step(), 25);
}

TEST(FusedAdam, PolyakMovesTargetsTowardsSources) {
  std::vector<at::Tensor> target = {at::zeros({2}), at::ones({3})};
  std::vector<at::Tensor> source = {at::ones({2}) * 10, at::zeros({3})};
  PolyakUpdate(target, source, 0.1);
  EXPECT_TRUE(at::allclose(target[0], at::ones({2})));
  EXPECT_TRUE(at::allclose(target[1], at::ones({3}) * 0.9));
}

}  // namespace
}  // namespace tandem::learner
