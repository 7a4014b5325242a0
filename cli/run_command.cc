#include "cli/run_command.h"

#include <filesystem>
#include <system_error>

#include "absl/strings/str_cat.h"
#include "cli/run.h"
#include "common/config_command.h"
#include "common/shutdown.h"
#include "common/status_macros.h"

namespace tandem {
namespace {

namespace fs = std::filesystem;

absl::Status RunRun(const cli::Args& args, std::ostream& out) {
  ASSIGN_OR_RETURN(ExperimentConfig config, LoadConfigFromArgs(args));
  const std::string dir =
      args.GetString("run_dir").empty() ? DefaultRunDir(config) : args.GetString("run_dir");
  if (fs::exists(dir + "/summary.txt")) {
    return absl::AlreadyExistsError(
        absl::StrCat("--run_dir ", dir, " already holds a finished run; choose a new directory"));
  }
  std::error_code error;
  fs::create_directories(dir, error);
  if (error) {
    return absl::PermissionDeniedError(
        absl::StrCat("cannot create run directory ", dir, ": ", error.message()));
  }
  InstallShutdownHandlers();
  return RunExperiment(std::move(config), dir, out);
}

}  // namespace

cli::Command RunCommand() {
  cli::Command command(
      "run",
      "Run an experiment on this machine: replay server, learner, actors and evaluator as child "
      "processes on loopback gRPC (collect a dataset if configured, pretrain offline, fine-tune "
      "online), with a live progress line, a run directory and a before/after summary.");
  command.flags = ConfigFlags();
  command.flags.push_back({"run_dir", cli::FlagKind::kString,
                           "Run directory (default <run_root>/<name>-<date>-<time>).", "", "DIR"});
  command.run = cli::StatusHandler("tandem run", RunRun);
  return command;
}

}  // namespace tandem
