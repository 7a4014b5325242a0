// `tandem pretrain`: offline pretraining through the real replay server, then evaluation, then the
// offline checkpoint that the online phase starts from.
#ifndef TANDEM_CLI_PRETRAIN_COMMAND_H_
#define TANDEM_CLI_PRETRAIN_COMMAND_H_

#include "common/cli.h"

namespace tandem {

cli::Command PretrainCommand();

}  // namespace tandem

#endif  // TANDEM_CLI_PRETRAIN_COMMAND_H_
