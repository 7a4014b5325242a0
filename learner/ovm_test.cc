#include "learner/ovm.h"

#include <ATen/ATen.h>

#include "gtest/gtest.h"

namespace tandem::learner {
namespace {

TEST(Ovm, LambdaAnnealsLinearlyFromOneToItsEnd) {
  EXPECT_DOUBLE_EQ(MemoryCoefficient(0.2, 1000, 0), 1.0);
  EXPECT_DOUBLE_EQ(MemoryCoefficient(0.2, 1000, 500), 0.6);
  EXPECT_DOUBLE_EQ(MemoryCoefficient(0.2, 1000, 1000), 0.2);
  EXPECT_DOUBLE_EQ(MemoryCoefficient(0.2, 1000, 5000), 0.2);
  EXPECT_DOUBLE_EQ(MemoryCoefficient(0.0, 10, 3), 0.7);
}

TEST(Ovm, LossMixesTheTdTargetAndTheMemoryTarget) {
  at::Tensor q = at::tensor({1.0f, 2.0f});
  at::Tensor td = at::tensor({0.5f, 3.0f});
  at::Tensor offline = at::tensor({2.0f, 1.0f});
  // Memory targets max(offline, td) = {2, 3}. lambda = 0.25:
  // item 0: 0.75 * 0.25 + 0.25 * 1 = 0.4375; item 1: 0.75 * 1 + 0.25 * 1 = 1.0; mean 0.71875.
  EXPECT_NEAR(OvmLoss(q, td, offline, 0.25).item<double>(), 0.71875, 1e-6);
  // lambda = 0 is plain TD; lambda = 1 is pure memory.
  EXPECT_NEAR(OvmLoss(q, td, offline, 0.0).item<double>(), (0.25 + 1.0) / 2, 1e-6);
  EXPECT_NEAR(OvmLoss(q, td, offline, 1.0).item<double>(), (1.0 + 1.0) / 2, 1e-6);
}

}  // namespace
}  // namespace tandem::learner
