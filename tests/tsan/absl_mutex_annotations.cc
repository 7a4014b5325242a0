// ThreadSanitizer builds only: teaches TSan Debian's abseil mutexes.
//
// Debian's libabsl is not compiled with -fsanitize=thread, so TSan never sees absl::Mutex lock and
// unlock and reports every access guarded by one as a data race. This file, linked into a TSan test
// binary, defines absl::Mutex's locking entry points itself (the executable's definitions win over
// the shared library's), calls the library's own implementation through dlsym(RTLD_NEXT), and
// tells TSan about the happens-before edge each creates: release before unlocking, acquire after
// locking. CondVar waits, which unlock and relock inside, release before and acquire after. Only
// ever linked into the `*_tsan_test` binaries.
#include <dlfcn.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <string>

#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"

extern "C" void __tsan_acquire(void* addr);
extern "C" void __tsan_release(void* addr);

#define TANDEM_TSAN_STRINGIFY_INNER(x) #x
#define TANDEM_TSAN_STRINGIFY(x) TANDEM_TSAN_STRINGIFY_INNER(x)

namespace absl {
ABSL_NAMESPACE_BEGIN
namespace {

// The library's implementation of `absl::<inline namespace>::<member>` (Itanium-mangled tail).
template <typename F>
F Real(const char* member) {
  const char* ns = TANDEM_TSAN_STRINGIFY(ABSL_OPTION_INLINE_NAMESPACE_NAME);
  const std::string name = std::string("_ZN4absl") + std::to_string(std::strlen(ns)) + ns + member;
  void* function = dlsym(RTLD_NEXT, name.c_str());
  if (function == nullptr) std::abort();  // a broken test build, never the product
  return reinterpret_cast<F>(function);
}

}  // namespace

void Mutex::Lock() {
  static auto real = Real<void (*)(Mutex*)>("5Mutex4LockEv");
  real(this);
  __tsan_acquire(this);
}

void Mutex::Unlock() {
  static auto real = Real<void (*)(Mutex*)>("5Mutex6UnlockEv");
  __tsan_release(this);
  real(this);
}

void Mutex::ReaderLock() {
  static auto real = Real<void (*)(Mutex*)>("5Mutex10ReaderLockEv");
  real(this);
  __tsan_acquire(this);
}

void Mutex::ReaderUnlock() {
  static auto real = Real<void (*)(Mutex*)>("5Mutex12ReaderUnlockEv");
  __tsan_release(this);
  real(this);
}

bool Mutex::TryLock() {
  static auto real = Real<bool (*)(Mutex*)>("5Mutex7TryLockEv");
  const bool locked = real(this);
  if (locked) __tsan_acquire(this);
  return locked;
}

// Conditional waits are emulated by polling under the lock. absl evaluates a waiter's Condition
// inside its own (uninstrumented) code, sometimes on the thread that unlocks, so TSan would see the
// condition's reads of guarded data without the lock that protects them. Polling evaluates every
// condition on the waiting thread while it holds the (annotated) lock. TSan builds only: it costs
// up to a millisecond of latency per wake-up.
namespace {

bool PollUntil(Mutex& mu, const Condition& condition, absl::Time deadline) {
  absl::Duration pause = absl::Microseconds(50);
  while (!condition.Eval()) {
    if (absl::Now() >= deadline) return false;
    mu.Unlock();
    absl::SleepFor(pause);
    pause = std::min(pause * 2, absl::Milliseconds(1));
    mu.Lock();
  }
  return true;
}

}  // namespace

void Mutex::LockWhen(const Condition& condition) {
  Lock();
  PollUntil(*this, condition, absl::InfiniteFuture());
}

void Mutex::Await(const Condition& condition) {
  PollUntil(*this, condition, absl::InfiniteFuture());
}

bool Mutex::AwaitWithTimeout(const Condition& condition, Duration timeout) {
  return PollUntil(*this, condition, absl::Now() + timeout);
}

void CondVar::Wait(Mutex* mu) {
  static auto real = Real<void (*)(CondVar*, Mutex*)>("7CondVar4WaitEPNS0_5MutexE");
  __tsan_release(mu);
  real(this, mu);
  __tsan_acquire(mu);
}

bool CondVar::WaitWithTimeout(Mutex* mu, Duration timeout) {
  static auto real = Real<bool (*)(CondVar*, Mutex*, Duration)>(
      "7CondVar15WaitWithTimeoutEPNS0_5MutexENS0_8DurationE");
  __tsan_release(mu);
  const bool timed_out = real(this, mu, timeout);
  __tsan_acquire(mu);
  return timed_out;
}

ABSL_NAMESPACE_END
}  // namespace absl
