#include "common/blas_info.h"

#include <ATen/ATen.h>

#include "gtest/gtest.h"

namespace tandem {
namespace {

// Debian's libtorch without libopenblas0-openmp runs on the reference BLAS (~25x slower). The
// install script pulls OpenBLAS; this test fails if the process ended up on anything else.
TEST(BlasInfo, LibTorchRunsOnOpenBlasNotTheReferenceBlas) {
  BlasInfo info = DetectBlas();
  EXPECT_FALSE(info.is_reference) << DescribeBlas(info);
  if (!info.library.empty()) {
    EXPECT_TRUE(info.is_openblas) << DescribeBlas(info)
                                  << "; install libopenblas0-openmp (deploy/install-deps.sh)";
  }
}

TEST(BlasInfo, MatrixMultiplyThroughTheDetectedBlasIsCorrect) {
  at::Tensor a = at::arange(1, 7, at::kFloat).reshape({2, 3});
  at::Tensor b = at::arange(1, 7, at::kFloat).reshape({3, 2});
  at::Tensor expected = at::tensor({22.f, 28.f, 49.f, 64.f}).reshape({2, 2});
  EXPECT_TRUE(at::allclose(at::mm(a, b), expected));
}

}  // namespace
}  // namespace tandem
