// `tandem`: the one entry point. Each verb is built by the library that owns it; this file only
// assembles the tree and runs it.
#include <ATen/Context.h>

#include <iostream>

#include "actor/actor_command.h"
#include "cli/cbs_bench.h"
#include "cli/dataset_command.h"
#include "cli/doctor_command.h"
#include "cli/pretrain_command.h"
#include "cli/otc_bench.h"
#include "cli/qmix_bench.h"
#include "cli/run_command.h"
#include "cli/sweep_command.h"
#include "common/cli.h"
#include "common/config_command.h"
#include "common/logging.h"
#include "common/process_setup.h"
#include "envs/env_command.h"
#include "learner/learner_bench.h"
#include "learner/learner_command.h"
#include "replay_server/replay_bench.h"
#include "replay_server/replay_command.h"
#include "replay_server/soak_bench.h"

int main(int argc, char** argv) {
  tandem::InitLogging("tandem");
  tandem::TuneAllocatorForLargeBuffers();
  // Flush subnormal floats to zero before any LibTorch thread starts (threads inherit it): they
  // appear as training shrinks values and make x86 arithmetic 10-100x slower.
  at::globalContext().setFlushDenormal(true);
  tandem::cli::Command root{"tandem",
                            "Distributed actor-learner system for offline-to-online multi-agent "
                            "reinforcement learning."};
  tandem::cli::Command bench("bench",
                             "Benchmarks that print throughput ratios measured in one run.");
  bench.subcommands = {
      tandem::replay::ReplayBenchCommand(),
      tandem::replay::SoakBenchCommand(),
      tandem::learner::LearnerBenchCommand(),
      tandem::CbsBenchCommand(),
      tandem::ActorBenchCommand(),
      tandem::QmixBenchCommand(),
      tandem::OtcBenchCommand(),
  };
  root.subcommands = {
      tandem::actor::ActorCommand(),
      bench,
      tandem::ConfigCommand(),
      tandem::DatasetCommand(),
      tandem::DoctorCommand(),
      tandem::envs::EnvCommand(),
      tandem::learner::LearnerCommand(),
      tandem::PretrainCommand(),
      tandem::replay::ReplayCommand(),
      tandem::ResultsCommand(),
      tandem::RunCommand(),
      tandem::SweepCommand(),
  };
  return tandem::cli::RunCommand(root, argc, argv, std::cout, std::cerr);
}
