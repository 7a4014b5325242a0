// A loopback TCP port that was free a moment ago, for a server whose port must be known before it
// starts (the learners' c10d rendezvous, which every rank is told on its command line). Another
// process may take it in between; the server then fails to bind with a clear error.
#ifndef TANDEM_CLI_LOOPBACK_PORT_H_
#define TANDEM_CLI_LOOPBACK_PORT_H_

#include "absl/status/statusor.h"

namespace tandem {

absl::StatusOr<int> FreeLoopbackPort();

}  // namespace tandem

#endif  // TANDEM_CLI_LOOPBACK_PORT_H_
