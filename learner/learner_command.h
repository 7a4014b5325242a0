// `tandem learner`: the learner process role. Connects to a replay server, trains offline or online
// (optionally as one rank of M data-parallel learners), publishes weights and writes checkpoints.
#ifndef TANDEM_LEARNER_LEARNER_COMMAND_H_
#define TANDEM_LEARNER_LEARNER_COMMAND_H_

#include "common/cli.h"

namespace tandem::learner {

cli::Command LearnerCommand();

}  // namespace tandem::learner

#endif  // TANDEM_LEARNER_LEARNER_COMMAND_H_
