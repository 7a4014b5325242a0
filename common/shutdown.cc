#include "common/shutdown.h"

#include <algorithm>
#include <atomic>
#include <csignal>

#include "absl/time/clock.h"

namespace tandem {
namespace {

// -1: not requested; 0: requested by code; > 0: the signal number.
std::atomic<int> g_shutdown{-1};
static_assert(std::atomic<int>::is_always_lock_free, "signal handler needs a lock-free atomic");

extern "C" void HandleShutdownSignal(int signal) {
  int expected = -1;
  g_shutdown.compare_exchange_strong(expected, signal);
}

}  // namespace

void InstallShutdownHandlers() {
  struct sigaction action {};
  action.sa_handler = HandleShutdownSignal;
  sigemptyset(&action.sa_mask);
  action.sa_flags = SA_RESTART;
  sigaction(SIGINT, &action, nullptr);
  sigaction(SIGTERM, &action, nullptr);
}

bool ShutdownRequested() { return g_shutdown.load() >= 0; }

int ShutdownSignal() { return g_shutdown.load() > 0 ? g_shutdown.load() : 0; }

void RequestShutdown() {
  int expected = -1;
  g_shutdown.compare_exchange_strong(expected, 0);
}

bool WaitForShutdown(absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  while (!ShutdownRequested()) {
    const absl::Time now = absl::Now();
    if (now >= deadline) return false;
    absl::SleepFor(std::min(absl::Milliseconds(20), deadline - now));
  }
  return true;
}

void ResetShutdownForTesting() { g_shutdown.store(-1); }

}  // namespace tandem
