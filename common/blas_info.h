// Which BLAS library LibTorch's matrix multiplies run on.
//
// Debian's libtorch calls the BLAS behind libblas.so.3, chosen by update-alternatives. Without
// libopenblas0-openmp that is the reference BLAS, roughly 25x slower for the learner's matmuls, so
// `tandem doctor` and a test check it.
#ifndef TANDEM_COMMON_BLAS_INFO_H_
#define TANDEM_COMMON_BLAS_INFO_H_

#include <string>

namespace tandem {

struct BlasInfo {
  // File that provides `sgemm_` in this process as loaded (e.g. .../libblas.so.3), or empty when
  // no library exports it (BLAS linked statically, as in PyTorch's own LibTorch builds).
  std::string library;
  // `library` with symbolic links resolved (e.g. .../openblas-openmp/libblas.so.3).
  std::string resolved_library;
  // OpenBLAS's own build description when OpenBLAS is loaded, else empty.
  std::string openblas_config;
  // OpenBLAS is the provider.
  bool is_openblas = false;
  // The slow reference (netlib) BLAS is the provider.
  bool is_reference = false;
};

// Inspects the running process; links LibTorch so its BLAS dependency is loaded.
BlasInfo DetectBlas();

// One line for logs and `tandem doctor`, e.g. "OpenBLAS (/usr/lib/.../libblas.so.3; ...)".
std::string DescribeBlas(const BlasInfo& info);

}  // namespace tandem

#endif  // TANDEM_COMMON_BLAS_INFO_H_
