#include "common/blas_info.h"

#include <dlfcn.h>

#include <ATen/Context.h>
#include <climits>
#include <cstdlib>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace tandem {

BlasInfo DetectBlas() {
  // Touch LibTorch so the linker keeps it (and, through it, libblas) in the process.
  (void)at::globalContext().userEnabledCuDNN();
  BlasInfo info;
  if (void* sgemm = dlsym(RTLD_DEFAULT, "sgemm_")) {
    Dl_info where{};
    if (dladdr(sgemm, &where) != 0 && where.dli_fname != nullptr) {
      info.library = where.dli_fname;
      char resolved[PATH_MAX];
      info.resolved_library = realpath(where.dli_fname, resolved) ? resolved : info.library;
    }
  }
  using ConfigFn = char* (*)();
  if (auto config = reinterpret_cast<ConfigFn>(dlsym(RTLD_DEFAULT, "openblas_get_config"))) {
    info.openblas_config = config();
    info.is_openblas = true;
  }
  info.is_openblas = info.is_openblas || absl::StrContains(info.resolved_library, "openblas");
  info.is_reference = !info.is_openblas && (absl::StrContains(info.resolved_library, "/blas/") ||
                                            absl::StrContains(info.resolved_library, "refblas"));
  return info;
}

std::string DescribeBlas(const BlasInfo& info) {
  if (info.library.empty()) return "no shared BLAS exports sgemm_ (statically linked BLAS)";
  const char* name = info.is_openblas    ? "OpenBLAS"
                     : info.is_reference ? "reference BLAS (slow!)"
                                         : "unknown BLAS";
  std::string text = absl::StrCat(name, " (", info.resolved_library);
  if (!info.openblas_config.empty()) absl::StrAppend(&text, "; ", info.openblas_config);
  return absl::StrCat(text, ")");
}

}  // namespace tandem
