#include "envs/registry.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "common/status_macros.h"

namespace tandem::envs {

absl::Status ParseEnvName(const std::string& full_name, std::string* family, std::string* task,
                          EnvOptions* options) {
  absl::string_view name = absl::StripAsciiWhitespace(full_name);
  absl::string_view option_text;
  if (size_t open = name.find('('); open != absl::string_view::npos) {
    if (name.back() != ')') {
      return absl::InvalidArgumentError(
          absl::StrCat("env name '", full_name, "': options must end with ')'"));
    }
    option_text = name.substr(open + 1, name.size() - open - 2);
    name = name.substr(0, open);
  }
  const size_t slash = name.find('/');
  if (slash == absl::string_view::npos || slash == 0 || slash + 1 == name.size()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "env name '", full_name, "' must be family/task, e.g. mamujoco/HalfCheetah-6x1"));
  }
  *family = std::string(name.substr(0, slash));
  *task = std::string(name.substr(slash + 1));
  // Items are comma-separated key=value pairs; an item without '=' continues the previous value,
  // so list-valued options read naturally: (local_categories=qpos,qvel|qpos,agent_obsk=1).
  std::string last_key;
  for (absl::string_view item : absl::StrSplit(option_text, ',', absl::SkipWhitespace())) {
    if (!absl::StrContains(item, '=')) {
      if (last_key.empty()) {
        return absl::InvalidArgumentError(
            absl::StrCat("env name '", full_name, "': option '", item, "' is not key=value"));
      }
      absl::StrAppend(&(*options)[last_key], ",", absl::StripAsciiWhitespace(item));
      continue;
    }
    std::pair<std::string, std::string> kv = absl::StrSplit(item, absl::MaxSplits('=', 1));
    last_key = std::string(absl::StripAsciiWhitespace(kv.first));
    if (last_key.empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat("env name '", full_name, "': option '", item, "' has no key"));
    }
    (*options)[last_key] = std::string(absl::StripAsciiWhitespace(kv.second));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<MultiAgentEnv>> CreateEnv(const std::string& name,
                                                         const EnvOptions& options) {
  std::string family, task;
  EnvOptions merged;
  if (absl::Status status = ParseEnvName(name, &family, &task, &merged); !status.ok()) {
    return status;
  }
  for (const auto& [key, value] : options) merged[key] = value;
  ASSIGN_OR_RETURN(EnvFamily entry, EnvFamilyRegistry::Global().Find(family));
  const std::vector<std::string> tasks = entry.tasks();
  if (std::find(tasks.begin(), tasks.end(), task) == tasks.end()) {
    return absl::NotFoundError(absl::StrCat("unknown env '", family, "/", task, "' (", family,
                                            " has: ", absl::StrJoin(tasks, ", "), ")"));
  }
  EnvFactory factory = entry.factory;
  return factory(task, merged);
}

std::vector<std::string> RegisteredEnvs() {
  std::vector<std::string> names;
  for (const auto& [family, entry] : EnvFamilyRegistry::Global().Entries()) {
    for (const std::string& task : entry.tasks()) names.push_back(absl::StrCat(family, "/", task));
  }
  std::sort(names.begin(), names.end());
  return names;
}

std::string FormatEnvOptions(const EnvOptions& options) {
  return absl::StrJoin(options, ",", absl::PairFormatter("="));
}

}  // namespace tandem::envs
