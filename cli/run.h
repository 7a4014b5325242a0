// `tandem run`'s supervisor: one experiment on this machine as child processes of the `tandem`
// binary (replay server, learners, actors, evaluator) on loopback gRPC, phase by phase (collect,
// pretrain, online, evaluate), with the live progress line and the run directory. It combines
// every process's role, so it lives in cli/ (the one layer above all of them) as a library of its
// own that only the `tandem` binary links.
#ifndef TANDEM_CLI_RUN_H_
#define TANDEM_CLI_RUN_H_

#include <ostream>
#include <string>

#include "absl/status/status.h"
#include "proto/config.pb.h"

namespace tandem {

// <run_root>/<name>-<date>-<time>.
std::string DefaultRunDir(const ExperimentConfig& config);

// Runs `config` in the (existing) run directory `dir`, writing progress to `out`. On failure or
// interruption the children are stopped and the summary says why.
absl::Status RunExperiment(ExperimentConfig config, const std::string& dir, std::ostream& out);

}  // namespace tandem

#endif  // TANDEM_CLI_RUN_H_
