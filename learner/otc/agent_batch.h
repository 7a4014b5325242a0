// A batch as every agent of a fully decentralized learner sees it (OTC, §3.1): agent i has its own
// input x_i (the global state, as OTC's datasets, or its own observation), its own action a_i, the
// team reward and the next input; the other agents' actions are not there. Tensors are laid out
// agent-major ([N, B, ...]) for the per-agent networks of `networks::AgentMlp`.
#ifndef TANDEM_LEARNER_OTC_AGENT_BATCH_H_
#define TANDEM_LEARNER_OTC_AGENT_BATCH_H_

#include <ATen/core/Tensor.h>

#include "absl/status/statusor.h"
#include "learner/algorithm.h"
#include "learner/fused_adam.h"
#include "learner/training_batch.h"

namespace tandem::learner::otc {

struct AgentBatch {
  at::Tensor input;       // float [N, B, X]
  at::Tensor actions;     // float [N, B, A]
  at::Tensor reward;      // float [N, B, 1], the team reward for every agent
  at::Tensor not_done;    // float [N, B, 1], 0 where s' is terminal
  at::Tensor next_input;  // float [N, B, X]

  int64_t num_agents() const { return input.size(0); }
  int64_t size() const { return input.size(1); }
  // Agent i's rows `rows[i]` (int64 [N, K], on any device): an [N, K, ...] batch.
  AgentBatch Gather(const at::Tensor& rows) const;
  // Rows [begin, end) of every agent.
  AgentBatch Slice(int64_t begin, int64_t end) const;
};

// One optimizer step on `loss`: zero the gradients, backward, average them over data-parallel
// ranks when the context has a reduction (a failed reduction keeps the local gradients), step.
void OptimizerStep(const AlgorithmContext& context, FusedAdam& optimizer, const at::Tensor& loss);

// The per-agent view of a transition batch; x_i is the state or agent i's observation.
AgentBatch ToAgentBatch(const TrainingBatch& batch, bool state_input);

}  // namespace tandem::learner::otc

#endif  // TANDEM_LEARNER_OTC_AGENT_BATCH_H_
