// `tandem dataset info FILE | random`: inspect datasets and record a uniform-random-policy tier.
#ifndef TANDEM_CLI_DATASET_COMMAND_H_
#define TANDEM_CLI_DATASET_COMMAND_H_

#include "common/cli.h"

namespace tandem {

cli::Command DatasetCommand();

}  // namespace tandem

#endif  // TANDEM_CLI_DATASET_COMMAND_H_
