// `tandem dataset info FILE | random | import-omiga | collect`: inspect datasets, record a
// uniform-random-policy tier, import OMIGA's files, and collect expert/medium/medium-replay/
// medium-expert tiers (collect_command.h).
#ifndef TANDEM_CLI_DATASET_COMMAND_H_
#define TANDEM_CLI_DATASET_COMMAND_H_

#include <ostream>
#include <string>

#include "absl/status/status.h"
#include "common/cli.h"

namespace tandem {

cli::Command DatasetCommand();

// Prints a dataset card (env, shapes, transitions, episodes, return statistics) of a Tandem file.
absl::Status PrintDatasetInfo(const std::string& path, std::ostream& out);

}  // namespace tandem

#endif  // TANDEM_CLI_DATASET_COMMAND_H_
