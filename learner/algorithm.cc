#include "learner/algorithm.h"

#include <ATen/Context.h>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/status_macros.h"

namespace tandem::learner {

absl::StatusOr<std::unique_ptr<Algorithm>> CreateAlgorithm(const AlgorithmContext& context) {
  // Subnormal floats appear as training shrinks values and make x86 arithmetic 10-100x slower;
  // flush them to zero. Threads started later inherit the setting.
  at::globalContext().setFlushDenormal(true);
  ASSIGN_OR_RETURN(AlgorithmFactory factory,
                   AlgorithmRegistry::Global().Find(context.config.name()));
  return factory(context);
}

std::vector<std::string> RegisteredAlgorithms() { return AlgorithmRegistry::Global().Names(); }

}  // namespace tandem::learner
