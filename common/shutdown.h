// Graceful shutdown on SIGINT/SIGTERM. The signal handler only sets an atomic flag; long-running
// loops poll `ShutdownRequested()` or block in `WaitForShutdown()`, then close their queues and
// streams and return normally.
#ifndef TANDEM_COMMON_SHUTDOWN_H_
#define TANDEM_COMMON_SHUTDOWN_H_

#include "absl/time/time.h"

namespace tandem {

// Routes SIGINT and SIGTERM to the shutdown flag. Idempotent.
void InstallShutdownHandlers();

// Whether a signal arrived or RequestShutdown() was called.
bool ShutdownRequested();

// The signal that requested shutdown, or 0 if none did (or it was requested programmatically).
int ShutdownSignal();

// Requests shutdown from code (e.g. when a fatal error ends a server).
void RequestShutdown();

// Blocks until shutdown is requested or `timeout` passes; returns whether it was requested.
bool WaitForShutdown(absl::Duration timeout = absl::InfiniteDuration());

// Clears the flag (tests only).
void ResetShutdownForTesting();

}  // namespace tandem

#endif  // TANDEM_COMMON_SHUTDOWN_H_
