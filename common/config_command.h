// `tandem config`: check, print and list defaults of experiment configurations.
#ifndef TANDEM_COMMON_CONFIG_COMMAND_H_
#define TANDEM_COMMON_CONFIG_COMMAND_H_

#include <vector>

#include "absl/status/statusor.h"
#include "common/cli.h"
#include "proto/config.pb.h"

namespace tandem {

// The `config` command group (check, print, defaults).
cli::Command ConfigCommand();

// The flags every process role takes: --config FILE (required) and --set PATH=VALUE (repeatable).
std::vector<cli::FlagSpec> ConfigFlags();

// The configuration named by those flags, overrides applied, defaults filled, validated.
absl::StatusOr<ExperimentConfig> LoadConfigFromArgs(const cli::Args& args);

}  // namespace tandem

#endif  // TANDEM_COMMON_CONFIG_COMMAND_H_
