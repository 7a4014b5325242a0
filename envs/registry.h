// Environments are created by name, OpenSpiel style:
//   ASSIGN_OR_RETURN(auto env,
//   envs::CreateEnv("mamujoco/HalfCheetah-6x1(obs_mode=khop,agent_obsk=1)")); ASSIGN_OR_RETURN(auto
//   env, envs::CreateEnv("mamujoco/Ant-4x2", {{"obs_mode", "omiga"}}));
// Each family registers itself in its own .cc (common/registry.h):
//   TANDEM_REGISTER(EnvFamilyRegistry, "mamujoco", (EnvFamily{&CreateMaMujoco, &MaMujocoTasks}));
// Unknown names and options are errors that list what exists.
#ifndef TANDEM_ENVS_REGISTRY_H_
#define TANDEM_ENVS_REGISTRY_H_

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "common/registry.h"
#include "envs/multi_agent_env.h"

namespace tandem::envs {

using EnvOptions = std::map<std::string, std::string>;

// Builds an env of one family from the task part of the name ("HalfCheetah-6x1") and options.
using EnvFactory = std::function<absl::StatusOr<std::unique_ptr<MultiAgentEnv>>(
    const std::string& task, const EnvOptions& options)>;

// One family of envs ("mamujoco", "smac"): its factory and the task names it offers (computed on
// demand, so registration in a static initialiser touches no other static).
struct EnvFamily {
  EnvFactory factory;
  std::function<std::vector<std::string>()> tasks;
};

struct EnvFamilyKind {
  using Entry = EnvFamily;
  static constexpr const char* kKind = "env family";
  static constexpr const char* kConfigField = "env.name";
};
using EnvFamilyRegistry = Registry<EnvFamilyKind>;

// Splits "family/task(k=v,k=v)" into its parts; options in `extra` override those in the name.
absl::Status ParseEnvName(const std::string& full_name, std::string* family, std::string* task,
                          EnvOptions* options);

// Creates the env `name` (which may carry options in parentheses) with extra `options`.
absl::StatusOr<std::unique_ptr<MultiAgentEnv>> CreateEnv(const std::string& name,
                                                         const EnvOptions& options = {});

// Every registered "family/task", sorted.
std::vector<std::string> RegisteredEnvs();

// Renders options as "k=v,k=v" (sorted by key).
std::string FormatEnvOptions(const EnvOptions& options);

}  // namespace tandem::envs

#endif  // TANDEM_ENVS_REGISTRY_H_
