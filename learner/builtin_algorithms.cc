// The algorithms built into Tandem. A new algorithm adds one line here.
#include <mutex>

#include "learner/algorithm.h"
#include "learner/masac.h"
#include "learner/omiga.h"

namespace tandem::learner {

void EnsureBuiltinAlgorithmsRegistered() {
  static std::once_flag once;
  std::call_once(once, [] {
    RegisterAlgorithm(
        "omiga", [](const AlgorithmContext& context) -> absl::StatusOr<std::unique_ptr<Algorithm>> {
          auto omiga = Omiga::Create(context);
          if (!omiga.ok()) return omiga.status();
          return std::unique_ptr<Algorithm>(std::move(*omiga));
        });
    RegisterAlgorithm(
        "masac", [](const AlgorithmContext& context) -> absl::StatusOr<std::unique_ptr<Algorithm>> {
          auto masac = Masac::Create(context);
          if (!masac.ok()) return masac.status();
          return std::unique_ptr<Algorithm>(std::move(*masac));
        });
  });
}

}  // namespace tandem::learner
