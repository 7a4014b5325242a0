// `tandem doctor`: reports the libraries Tandem runs on and checks the ones that matter for speed.
#ifndef TANDEM_CLI_DOCTOR_COMMAND_H_
#define TANDEM_CLI_DOCTOR_COMMAND_H_

#include "common/cli.h"

namespace tandem {

cli::Command DoctorCommand();

}  // namespace tandem

#endif  // TANDEM_CLI_DOCTOR_COMMAND_H_
