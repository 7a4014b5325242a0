// Test helper: a loopback TCP port that was free a moment ago (for servers that need a fixed port
// known before they start, such as c10d rendezvous or a restarted replay server).
#ifndef TANDEM_TESTS_NET_TESTING_H_
#define TANDEM_TESTS_NET_TESTING_H_

namespace tandem::testing {

int FreeLoopbackPort();

}  // namespace tandem::testing

#endif  // TANDEM_TESTS_NET_TESTING_H_
