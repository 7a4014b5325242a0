// Child processes: spawn with output to a log file, signal, wait with a timeout. Used by
// `tandem run` to supervise the cluster's roles and by integration tests.
#ifndef TANDEM_CLI_SUBPROCESS_H_
#define TANDEM_CLI_SUBPROCESS_H_

#include <sys/types.h>

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace tandem {

class Subprocess {
 public:
  // Starts `argv` (argv[0] is the program path) with stdout and stderr appended to `log_path`
  // (or inherited when empty). The child gets its own process group, so signals sent to the
  // parent's terminal do not reach it directly.
  static absl::StatusOr<std::unique_ptr<Subprocess>> Spawn(const std::vector<std::string>& argv,
                                                           const std::string& log_path = "");

  // Sends SIGKILL if still running, then reaps.
  ~Subprocess();

  // Sends `signal` (e.g. SIGTERM, SIGKILL) if the child has not been reaped yet.
  void Signal(int signal);

  // Waits up to `timeout` for the child to exit; returns its wait status (as from waitpid) or
  // DEADLINE_EXCEEDED.
  absl::StatusOr<int> Wait(absl::Duration timeout);

  // Whether the child is still running (reaps it if it has exited).
  bool Running();

  pid_t pid() const { return pid_; }

  // Exit status as a string: "exited with code 3", "killed by signal 9".
  static std::string DescribeStatus(int wait_status);

 private:
  explicit Subprocess(pid_t pid) : pid_(pid) {}
  pid_t pid_;
  std::optional<int> status_;
};

// Path of the running executable (/proc/self/exe resolved).
std::string CurrentExecutable();

}  // namespace tandem

#endif  // TANDEM_CLI_SUBPROCESS_H_
