// `tandem dataset collect --config FILE`: produce offline datasets with Tandem itself, as Sim2O did
// with HAPPO. Trains a behaviour policy from scratch (`tandem run` with rho = 0, every periodic
// checkpoint kept and every actor transition recorded), evaluates each checkpoint, and writes the
// D4RL-style tiers:
//   expert         rollouts of the best checkpoint (by evaluation return; normally the last);
//   medium         rollouts of the checkpoint whose normalized return
//                  (R - R_random) / (R_expert - R_random) is nearest collection.medium_target
//                  (0.4), preferring those within [medium_min, medium_max] = [1/3, 1/2];
//   medium-replay  every whole episode the actors generated with weights no newer than the
//                  medium checkpoint (the replay contents up to it);
//   medium-expert  medium + expert (equal episode counts).
// Rollouts add Gaussian noise of std collection.action_noise to the deterministic action.
#ifndef TANDEM_CLI_COLLECT_COMMAND_H_
#define TANDEM_CLI_COLLECT_COMMAND_H_

#include "common/cli.h"

namespace tandem {

cli::Command DatasetCollectCommand();

}  // namespace tandem

#endif  // TANDEM_CLI_COLLECT_COMMAND_H_
