#include "cli/cluster.h"

#include <signal.h>

#include <algorithm>
#include <deque>
#include <filesystem>
#include <fstream>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "common/files.h"
#include "common/shutdown.h"
#include "common/status_macros.h"

namespace tandem {

Cluster::Cluster(std::string run_dir, int max_restarts, absl::Duration health_timeout,
                 std::ostream& out)
    : run_dir_(std::move(run_dir)),
      max_restarts_(max_restarts),
      health_timeout_(health_timeout),
      out_(out) {
  std::filesystem::create_directories(run_dir_ + "/logs");
}

Cluster::~Cluster() { StopAll(absl::Seconds(5)); }

std::string Cluster::LogPath(const std::string& name) const {
  return absl::StrCat(run_dir_, "/logs/", name, ".log");
}

std::string Cluster::LogTail(const std::string& name, int lines) const {
  std::ifstream file(LogPath(name));
  std::deque<std::string> tail;
  for (std::string line; std::getline(file, line);) {
    tail.push_back(line);
    if (static_cast<int>(tail.size()) > lines) tail.pop_front();
  }
  std::string text;
  for (const std::string& line : tail) absl::StrAppend(&text, "    | ", line, "\n");
  return text;
}

absl::Status Cluster::Launch(ChildState& child) {
  if (!child.spec.port_file.empty()) std::filesystem::remove(child.spec.port_file);
  ASSIGN_OR_RETURN(child.process, Subprocess::Spawn(child.spec.argv, LogPath(child.spec.name)));
  child.ports.clear();
  child.finished = false;
  return AwaitPorts(child);
}

absl::Status Cluster::AwaitPorts(ChildState& child) {
  if (child.spec.port_file.empty()) return absl::OkStatus();
  const absl::Time deadline = absl::Now() + health_timeout_;
  while (true) {
    if (auto text = ReadFile(child.spec.port_file); text.ok()) {
      for (absl::string_view field :
           absl::StrSplit(*text, absl::ByAnyChar(" \n"), absl::SkipEmpty())) {
        int port = 0;
        if (absl::SimpleAtoi(field, &port)) child.ports.push_back(port);
      }
      WriteDiscoveryFiles();
      return absl::OkStatus();
    }
    if (!child.process->Running()) {
      return absl::AbortedError(absl::StrCat(
          child.spec.name, " exited before serving (",
          Subprocess::DescribeStatus(*child.process->Wait(absl::ZeroDuration())),
          "); last lines of ", LogPath(child.spec.name), ":\n", LogTail(child.spec.name)));
    }
    if (ShutdownRequested()) return absl::CancelledError("interrupted");
    if (absl::Now() > deadline) {
      return absl::DeadlineExceededError(absl::StrCat(
          child.spec.name, " did not start serving within ", absl::FormatDuration(health_timeout_),
          "; last lines of ", LogPath(child.spec.name), ":\n", LogTail(child.spec.name)));
    }
    absl::SleepFor(absl::Milliseconds(20));
  }
}

absl::Status Cluster::Start(const ChildSpec& spec) {
  auto child = std::make_unique<ChildState>();
  child->spec = spec;
  ChildState& state = *child;
  children_.push_back(std::move(child));
  return Launch(state);
}

absl::Status Cluster::Poll() {
  for (auto& child : children_) {
    if (child->finished || child->process->Running()) continue;
    const int status = *child->process->Wait(absl::ZeroDuration());
    const bool clean = WIFEXITED(status) && WEXITSTATUS(status) == 0;
    if (clean && child->spec.may_finish) {
      child->finished = true;
      continue;
    }
    const std::string what =
        absl::StrCat(child->spec.name, " ", Subprocess::DescribeStatus(status), "; last lines of ",
                     LogPath(child->spec.name), ":\n", LogTail(child->spec.name));
    if (!child->spec.restartable || child->restarts >= max_restarts_) {
      return absl::AbortedError(
          child->spec.restartable
              ? absl::StrCat(what, "  (", child->restarts,
                             " restarts used, run.max_restarts = ", max_restarts_, ")")
              : what);
    }
    ++child->restarts;
    ++total_restarts_;
    ++restarts_by_role_[child->spec.role];
    out_ << "\n"
         << what << "  restarting " << child->spec.name << " (restart " << child->restarts << " of "
         << max_restarts_ << ")" << std::endl;
    RETURN_IF_ERROR(Launch(*child));
  }
  return absl::OkStatus();
}

void Cluster::Stop(const std::string& name, absl::Duration grace) {
  auto it = std::find_if(children_.begin(), children_.end(),
                         [&](const auto& child) { return child->spec.name == name; });
  if (it == children_.end()) return;
  (*it)->process->Signal(SIGTERM);
  if (!(*it)->process->Wait(grace).ok()) {
    out_ << (*it)->spec.name << " did not stop within " << absl::FormatDuration(grace)
         << " of SIGTERM; killing it" << std::endl;
    (*it)->process->Signal(SIGKILL);
    (void)(*it)->process->Wait(absl::Seconds(5));
  }
  children_.erase(it);
  WriteDiscoveryFiles();
}

void Cluster::StopAll(absl::Duration grace) {
  // Everyone but the replay server winds down in parallel (actors flush to a replay server that
  // is still up), then they are reaped newest first and the replay server goes last.
  for (auto& child : children_) {
    if (child->spec.role != "replay") child->process->Signal(SIGTERM);
  }
  while (!children_.empty()) Stop(children_.back()->spec.name, grace);
}

const ChildState* Cluster::Find(const std::string& name) const {
  for (const auto& child : children_) {
    if (child->spec.name == name) return child.get();
  }
  return nullptr;
}

void Cluster::AppendRestartArgs(const std::string& name, const std::vector<std::string>& args) {
  for (auto& child : children_) {
    if (child->spec.name != name) continue;
    child->spec.argv.insert(child->spec.argv.end(), args.begin(), args.end());
  }
}

void Cluster::WriteDiscoveryFiles() const {
  std::vector<std::string> targets;
  std::string processes;
  for (const auto& child : children_) {
    absl::StrAppend(&processes, child->spec.name, " ", child->spec.role, " ", child->process->pid(),
                    " ", absl::StrJoin(child->ports, " "), "\n");
    if (child->ports.empty() || child->ports.back() <= 0 || child->finished) continue;
    targets.push_back(absl::StrCat(R"({"targets": ["127.0.0.1:)", child->ports.back(),
                                   R"("], "labels": {"role": ")", child->spec.role,
                                   R"(", "process": ")", child->spec.name, R"("}})"));
  }
  (void)WriteFileAtomically(run_dir_ + "/prometheus_targets.json",
                            absl::StrCat("[\n  ", absl::StrJoin(targets, ",\n  "), "\n]\n"));
  (void)WriteFileAtomically(run_dir_ + "/processes.txt", processes);
}

}  // namespace tandem
