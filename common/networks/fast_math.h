// Element functions for loops written for the compiler to vectorize (the GRU's gate passes, the
// QMIX mixer's fused deviation pass): exp, sigmoid, tanh and ELU without calls into libm, and
// TANDEM_VECTOR_CLONES, which builds a function for AVX-512 and AVX2 beside the baseline and picks
// the best one at load time. Files using them are compiled with -O3 (common/CMakeLists.txt).
#ifndef TANDEM_COMMON_NETWORKS_FAST_MATH_H_
#define TANDEM_COMMON_NETWORKS_FAST_MATH_H_

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define TANDEM_VECTOR_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define TANDEM_VECTOR_CLONES
#endif

namespace tandem::networks {

// e^x within 2 ulp for x in [-87, 88] (clamped outside): x = n ln 2 + r with |r| <= ln 2 / 2,
// e^r by its Taylor polynomial to degree 7 (remainder below 6e-9), 2^n from the exponent bits.
__attribute__((always_inline)) inline float Exp(float x) {
  x = std::min(std::max(x, -87.0F), 88.0F);
  const float n = std::floor(x * 1.44269504F + 0.5F);
  const float r = x - n * 0.693145751953125F - n * 1.428606765330187e-06F;
  float p = 1.0F / 5040;
  p = p * r + 1.0F / 720;
  p = p * r + 1.0F / 120;
  p = p * r + 1.0F / 24;
  p = p * r + 1.0F / 6;
  p = p * r + 0.5F;
  p = p * r + 1.0F;
  p = p * r + 1.0F;
  const int32_t bits = (static_cast<int32_t>(n) + 127) << 23;
  float scale;
  std::memcpy(&scale, &bits, sizeof(scale));
  return p * scale;
}

__attribute__((always_inline)) inline float Sigmoid(float x) { return 1.0F / (1.0F + Exp(-x)); }

// 1 - 2 / (e^{2x} + 1): exact limits at both ends, absolute error near 1e-7 around 0.
__attribute__((always_inline)) inline float Tanh(float x) {
  return 1.0F - 2.0F / (Exp(2.0F * x) + 1.0F);
}

// ELU with alpha 1: x above 0, e^x - 1 below (absolute error near 1e-7 just below 0).
__attribute__((always_inline)) inline float Elu(float x) { return x > 0 ? x : Exp(x) - 1.0F; }

}  // namespace tandem::networks

#endif  // TANDEM_COMMON_NETWORKS_FAST_MATH_H_
