// One registry template for everything Tandem builds by name: env families, acting policies,
// action selectors and learner algorithms. Each implementation registers itself in its own .cc:
//
//   TANDEM_REGISTER(SelectorRegistry, "boltzmann", MakeBoltzmannSelector);
//
// so adding one is one new file plus one line in its folder's CMake list (libraries holding
// self-registering files are linked whole, see `tandem_registering_library` in
// cmake/TandemHelpers.cmake). Lookups of unknown names are errors that list what exists.
//
// A registry is declared once per kind with a traits struct:
//   struct SelectorKind {
//     using Entry = SelectorEntry;                 // what is stored under a name
//     static constexpr const char* kKind = "selector";      // for error messages
//     static constexpr const char* kConfigField = "selector.name";
//   };
//   using SelectorRegistry = Registry<SelectorKind>;
//
// Thread-safety: all methods are thread-safe; the registry is a function-local static, so
// registration from static initialisers in any order is safe.
#ifndef TANDEM_COMMON_REGISTRY_H_
#define TANDEM_COMMON_REGISTRY_H_

#include <map>
#include <string>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/synchronization/mutex.h"

namespace tandem {

template <typename Kind>
class Registry {
 public:
  using Entry = typename Kind::Entry;

  // The one registry of this kind.
  static Registry& Global() {
    static Registry* registry = new Registry();
    return *registry;
  }

  // Stores `entry` under `name` (a later registration of the same name replaces it). Returns true
  // so that it can initialise a static.
  bool Register(const std::string& name, Entry entry) ABSL_LOCKS_EXCLUDED(mu_) {
    absl::MutexLock lock(&mu_);
    entries_[name] = std::move(entry);
    return true;
  }

  // The entry registered as `name`; NOT_FOUND names the config field and lists the known names.
  absl::StatusOr<Entry> Find(const std::string& name) const ABSL_LOCKS_EXCLUDED(mu_) {
    absl::MutexLock lock(&mu_);
    auto it = entries_.find(name);
    if (it == entries_.end()) {
      std::vector<std::string> known;
      for (const auto& [known_name, unused] : entries_) known.push_back(known_name);
      return absl::NotFoundError(absl::StrCat(Kind::kConfigField, ": unknown ", Kind::kKind, " '",
                                              name, "' (known: ", absl::StrJoin(known, ", "), ")"));
    }
    return it->second;
  }

  // Every registered name, sorted.
  std::vector<std::string> Names() const ABSL_LOCKS_EXCLUDED(mu_) {
    absl::MutexLock lock(&mu_);
    std::vector<std::string> names;
    for (const auto& [name, unused] : entries_) names.push_back(name);
    return names;
  }

  // Every (name, entry), sorted by name.
  std::vector<std::pair<std::string, Entry>> Entries() const ABSL_LOCKS_EXCLUDED(mu_) {
    absl::MutexLock lock(&mu_);
    return {entries_.begin(), entries_.end()};
  }

 private:
  Registry() = default;

  mutable absl::Mutex mu_;
  std::map<std::string, Entry> entries_ ABSL_GUARDED_BY(mu_);
};

}  // namespace tandem

#define TANDEM_REGISTRY_CONCAT_INNER(a, b) a##b
#define TANDEM_REGISTRY_CONCAT(a, b) TANDEM_REGISTRY_CONCAT_INNER(a, b)

// Registers `entry` under `name` in `registry` when the program starts.
#define TANDEM_REGISTER(registry, name, entry)                                              \
  [[maybe_unused]] static const bool TANDEM_REGISTRY_CONCAT(tandem_registered_, __LINE__) = \
      registry::Global().Register(name, entry)

#endif  // TANDEM_COMMON_REGISTRY_H_
