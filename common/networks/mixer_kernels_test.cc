#include "common/networks/mixer_kernels.h"

#include <ATen/ATen.h>

#include <vector>

#include "common/networks/qmix_mixer.h"
#include "gtest/gtest.h"

namespace tandem::networks {
namespace {

at::Tensor Leaf(const at::Tensor& t) { return t.detach().clone().requires_grad_(true); }

// The fused joint-action pass gives the batched products' values and, through its own backward
// pass, autograd's gradients for every argument (upstream zero on some entries, hidden units on
// both sides of ELU's kink).
TEST(MixJointActions, FusedPassMatchesTheBatchedProductsInValuesAndGradients) {
  torch::manual_seed(6);
  const int64_t rows = 7, m = 6, n = 4, e = 9;
  const at::Tensor q = at::randn({rows, m, n});
  const at::Tensor w1 = at::rand({rows, n, e});
  const at::Tensor b1 = at::randn({rows, e});
  const at::Tensor w2 = at::rand({rows, e});
  const at::Tensor b2 = at::randn({rows});
  at::Tensor upstream = at::randn({rows, m});
  upstream[3].zero_();
  upstream[1][2] = 0;

  std::vector<at::Tensor> ref = {Leaf(q), Leaf(w1), Leaf(b1), Leaf(w2), Leaf(b2)};
  const at::Tensor expected = MixJointActionsReference(ref[0], ref[1], ref[2], ref[3], ref[4]);
  (expected * upstream).sum().backward();
  std::vector<at::Tensor> fused = {Leaf(q), Leaf(w1), Leaf(b1), Leaf(w2), Leaf(b2)};
  const at::Tensor got = MixJointActions(fused[0], fused[1], fused[2], fused[3], fused[4]);
  (got * upstream).sum().backward();

  const at::Tensor hidden = at::baddbmm(b1.view({rows, 1, e}), q, w1);
  EXPECT_GT((hidden > 0).sum().item<int64_t>(), 50);
  EXPECT_GT((hidden < 0).sum().item<int64_t>(), 50);

  ASSERT_EQ(got.sizes(), (std::vector<int64_t>{rows, m}));
  EXPECT_TRUE(at::allclose(got, expected, 1e-5, 1e-5)) << (got - expected).abs().max();
  const char* names[] = {"q", "w1", "b1", "w2", "b2"};
  for (int a = 0; a < 5; ++a) {
    ASSERT_TRUE(fused[a].grad().defined()) << names[a];
    EXPECT_TRUE(at::allclose(fused[a].grad(), ref[a].grad(), 1e-4, 1e-5))
        << names[a] << ": " << (fused[a].grad() - ref[a].grad()).abs().max();
  }
}

// The fused pass gives the tensor-operation reference's values and, through its own backward
// pass, autograd's gradients for every argument, with an upstream gradient that is zero on some
// entries (the rows the learner masks) and hidden units on both sides of ELU's kink.
TEST(MixDeviations, FusedPassMatchesTheTensorReferenceInValuesAndGradients) {
  torch::manual_seed(4);
  const int64_t rows = 9, n = 3, k = 5, e = 7;
  const at::Tensor agent_q = at::randn({rows, n, k});
  const at::Tensor chosen = at::randn({rows, n});
  const at::Tensor base = at::randn({rows, e});
  const at::Tensor w1 = at::rand({rows, n, e});
  const at::Tensor w2 = at::rand({rows, e});
  const at::Tensor b2 = at::randn({rows});
  at::Tensor upstream = at::randn({rows, n, k});
  upstream[2].zero_();
  upstream[5][1][3] = 0;

  std::vector<at::Tensor> ref = {Leaf(agent_q), Leaf(chosen), Leaf(base),
                                 Leaf(w1),      Leaf(w2),     Leaf(b2)};
  const at::Tensor expected = MixDeviationsReference(ref[0], ref[1], ref[2], ref[3], ref[4], ref[5]);
  (expected * upstream).sum().backward();
  std::vector<at::Tensor> fused = {Leaf(agent_q), Leaf(chosen), Leaf(base),
                                   Leaf(w1),      Leaf(w2),     Leaf(b2)};
  const at::Tensor got = MixDeviations(fused[0], fused[1], fused[2], fused[3], fused[4], fused[5]);
  (got * upstream).sum().backward();

  // Both sides of ELU are exercised.
  const at::Tensor hidden = base.view({rows, 1, 1, e}) +
                            (agent_q - chosen.unsqueeze(-1)).unsqueeze(-1) * w1.unsqueeze(2);
  EXPECT_GT((hidden > 0).sum().item<int64_t>(), 50);
  EXPECT_GT((hidden < 0).sum().item<int64_t>(), 50);

  EXPECT_TRUE(at::allclose(got, expected, 1e-5, 1e-5)) << (got - expected).abs().max();
  const char* names[] = {"agent_q", "chosen", "base", "w1", "w2", "b2"};
  for (int a = 0; a < 6; ++a) {
    ASSERT_TRUE(fused[a].grad().defined()) << names[a];
    EXPECT_TRUE(at::allclose(fused[a].grad(), ref[a].grad(), 1e-4, 1e-5))
        << names[a] << ": " << (fused[a].grad() - ref[a].grad()).abs().max();
  }
}

// Through the mixer: MixDeviations equals mixing the explicitly built deviated joint actions with
// MixMany, in values and in the gradients of the mixer's parameters and of the agents' values.
TEST(MixDeviations, QmixMixerDeviationsEqualMixingEachDeviatedJointAction) {
  torch::manual_seed(5);
  QmixMixerOptions options;
  options.num_agents = 4;
  options.state_size = 6;
  const int64_t rows = 5, n = 4, k = 3;
  QmixMixer mixer(options);
  const at::Tensor agent_q = at::randn({rows, n, k});
  const at::Tensor actions = at::randint(k, {rows, n}, at::kLong);
  const at::Tensor state = at::randn({rows, 6});
  const at::Tensor upstream = at::randn({rows, n, k});

  // Explicit: joint[r, i, j, :] is the chosen values with entry i replaced by agent_q[r, i, j].
  at::Tensor q_explicit = Leaf(agent_q);
  const at::Tensor chosen_explicit = q_explicit.gather(-1, actions.unsqueeze(-1)).squeeze(-1);
  const at::Tensor own = at::eye(n, at::kBool).view({1, n, 1, n});
  const at::Tensor joint =
      at::where(own, q_explicit.unsqueeze(-1), chosen_explicit.view({rows, 1, 1, n}));
  const at::Tensor expected = mixer->MixMany(joint.reshape({rows, n * k, n}), state).view({rows, n, k});
  (expected * upstream).sum().backward();
  std::vector<at::Tensor> expected_grads;
  for (const at::Tensor& p : mixer->parameters()) {
    expected_grads.push_back(p.grad().clone());
    p.mutable_grad().zero_();
  }

  at::Tensor q_fused = Leaf(agent_q);
  const at::Tensor got = mixer->MixDeviations(
      q_fused, q_fused.gather(-1, actions.unsqueeze(-1)).squeeze(-1), state);
  (got * upstream).sum().backward();

  EXPECT_TRUE(at::allclose(got, expected, 1e-5, 1e-5)) << (got - expected).abs().max();
  EXPECT_TRUE(at::allclose(q_fused.grad(), q_explicit.grad(), 1e-4, 1e-5))
      << (q_fused.grad() - q_explicit.grad()).abs().max();
  const auto parameters = mixer->parameters();
  for (size_t p = 0; p < parameters.size(); ++p) {
    EXPECT_TRUE(at::allclose(parameters[p].grad(), expected_grads[p], 1e-4, 1e-5))
        << "parameter " << p << ": " << (parameters[p].grad() - expected_grads[p]).abs().max();
  }
}

}  // namespace
}  // namespace tandem::networks
