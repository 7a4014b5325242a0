// The process supervisor behind `tandem run`: starts Tandem roles as child processes (each logging
// to <run>/logs/<name>.log and announcing its ports through a port file), restarts the restartable
// ones when they die, reports a death with the last lines of the child's log, and stops everything
// in order. Children run in their own process groups, so a Ctrl-C reaches only the supervisor,
// which then stops them cleanly.
#ifndef TANDEM_CLI_CLUSTER_H_
#define TANDEM_CLI_CLUSTER_H_

#include <map>
#include <memory>
#include <ostream>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "cli/subprocess.h"

namespace tandem {

struct ChildSpec {
  std::string name;  // unique, e.g. "actor-1"; also the log file's name
  std::string role;  // replay, learner, actor, evaluator, dataset
  std::vector<std::string> argv;
  // The child writes its ports here once serving ("" = it serves nothing to wait for).
  std::string port_file;
  // Restarted when it dies (up to max_restarts), instead of failing the run.
  bool restartable = false;
  // A zero exit means "done" rather than "died" (the learner finishing its phase).
  bool may_finish = false;
};

struct ChildState {
  ChildSpec spec;
  std::unique_ptr<Subprocess> process;
  std::vector<int> ports;  // as read from the port file; the last one is the metrics port
  int restarts = 0;
  bool finished = false;  // exited 0 with may_finish
};

class Cluster {
 public:
  Cluster(std::string run_dir, int max_restarts, absl::Duration health_timeout, std::ostream& out);
  // Stops every child still running.
  ~Cluster();

  // Starts `spec` and waits until its port file appears (if any). Fails, with the child's log tail,
  // if it exits first or the health timeout passes.
  absl::Status Start(const ChildSpec& spec);

  // Reaps children that exited: restarts restartable ones, marks finished ones; returns an error
  // naming the child, its exit status and its log tail for any other death.
  absl::Status Poll();

  // SIGTERM, then SIGKILL after `grace`; the child is forgotten.
  void Stop(const std::string& name, absl::Duration grace = absl::Seconds(15));
  // Stops every child: all but the replay server in parallel, the replay server last.
  void StopAll(absl::Duration grace = absl::Seconds(15));

  const ChildState* Find(const std::string& name) const;
  // Appends `args` to the command line child `name` is restarted with (e.g. the ports it bound
  // on its first start, so a restart serves where its clients connect).
  void AppendRestartArgs(const std::string& name, const std::vector<std::string>& args);
  const std::vector<std::unique_ptr<ChildState>>& children() const { return children_; }
  int total_restarts() const { return total_restarts_; }
  // Restarts so far by role (actor, evaluator, ...), over every phase.
  const std::map<std::string, int>& restarts_by_role() const { return restarts_by_role_; }

  // Last `lines` lines of a child's log.
  std::string LogTail(const std::string& name, int lines = 15) const;
  std::string LogPath(const std::string& name) const;

  // Rewrites <run>/prometheus_targets.json (Prometheus file_sd) and <run>/processes.txt.
  void WriteDiscoveryFiles() const;

 private:
  absl::Status Launch(ChildState& child);
  absl::Status AwaitPorts(ChildState& child);

  std::string run_dir_;
  int max_restarts_;
  absl::Duration health_timeout_;
  std::ostream& out_;
  std::vector<std::unique_ptr<ChildState>> children_;
  int total_restarts_ = 0;
  std::map<std::string, int> restarts_by_role_;
};

}  // namespace tandem

#endif  // TANDEM_CLI_CLUSTER_H_
