#include "tests/net_testing.h"

#include "cli/loopback_port.h"

namespace tandem::testing {

int FreeLoopbackPort() { return tandem::FreeLoopbackPort().value(); }

}  // namespace tandem::testing
