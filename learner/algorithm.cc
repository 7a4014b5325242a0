#include "learner/algorithm.h"

#include <ATen/Context.h>

#include <mutex>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/synchronization/mutex.h"

namespace tandem::learner {

// Defined in builtin_algorithms.cc.
void EnsureBuiltinAlgorithmsRegistered();

namespace {

struct Registry {
  absl::Mutex mu;
  std::map<std::string, AlgorithmFactory> factories ABSL_GUARDED_BY(mu);
};

Registry& GetRegistry() {
  static Registry* registry = new Registry();
  return *registry;
}

}  // namespace

bool RegisterAlgorithm(const std::string& name, AlgorithmFactory factory) {
  Registry& registry = GetRegistry();
  absl::MutexLock lock(&registry.mu);
  registry.factories[name] = std::move(factory);
  return true;
}

absl::StatusOr<std::unique_ptr<Algorithm>> CreateAlgorithm(const AlgorithmContext& context) {
  EnsureBuiltinAlgorithmsRegistered();
  // Subnormal floats appear as training shrinks values and make x86 arithmetic 10-100x slower;
  // flush them to zero. Threads started later inherit the setting.
  at::globalContext().setFlushDenormal(true);
  AlgorithmFactory factory;
  {
    Registry& registry = GetRegistry();
    absl::MutexLock lock(&registry.mu);
    auto it = registry.factories.find(context.config.name());
    if (it == registry.factories.end()) {
      std::vector<std::string> known;
      for (const auto& [name, unused] : registry.factories) known.push_back(name);
      return absl::NotFoundError(absl::StrCat("algorithm.name: unknown algorithm '",
                                              context.config.name(),
                                              "' (known: ", absl::StrJoin(known, ", "), ")"));
    }
    factory = it->second;
  }
  return factory(context);
}

std::vector<std::string> RegisteredAlgorithms() {
  EnsureBuiltinAlgorithmsRegistered();
  Registry& registry = GetRegistry();
  absl::MutexLock lock(&registry.mu);
  std::vector<std::string> names;
  for (const auto& [name, unused] : registry.factories) names.push_back(name);
  return names;
}

}  // namespace tandem::learner
