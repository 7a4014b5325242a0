#include "learner/otc/agent_batch.h"

#include <ATen/ATen.h>

#include "common/networks/agent_mlp.h"

namespace tandem::learner::otc {

namespace {

at::Tensor GatherRows(const at::Tensor& t, const at::Tensor& rows) {
  const at::Tensor index =
      rows.to(t.device()).unsqueeze(-1).expand({rows.size(0), rows.size(1), t.size(2)});
  return t.gather(1, index);
}

}  // namespace

void OptimizerStep(const AlgorithmContext& context, FusedAdam& optimizer, const at::Tensor& loss) {
  optimizer.ZeroGrad();
  loss.backward();
  if (context.reduce_gradients) {
    std::vector<at::Tensor> gradients;
    for (const at::Tensor& p : optimizer.parameters()) gradients.push_back(p.grad());
    (void)context.reduce_gradients(gradients);
  }
  optimizer.Step();
}

AgentBatch ToAgentBatch(const TrainingBatch& batch, bool state_input) {
  const int64_t n = batch.obs.size(1);
  AgentBatch out;
  out.input = networks::DecentralizedInputs(batch.obs, batch.state, state_input);
  out.next_input = networks::DecentralizedInputs(batch.next_obs, batch.next_state, state_input);
  out.actions = batch.actions.transpose(0, 1).contiguous();
  out.reward = batch.reward.view({1, -1, 1}).expand({n, batch.size(), 1}).contiguous();
  out.not_done = (1 - batch.terminated).view({1, -1, 1}).expand({n, batch.size(), 1}).contiguous();
  return out;
}

AgentBatch AgentBatch::Gather(const at::Tensor& rows) const {
  return {GatherRows(input, rows), GatherRows(actions, rows), GatherRows(reward, rows),
          GatherRows(not_done, rows), GatherRows(next_input, rows)};
}

AgentBatch AgentBatch::Slice(int64_t begin, int64_t end) const {
  return {input.slice(1, begin, end), actions.slice(1, begin, end), reward.slice(1, begin, end),
          not_done.slice(1, begin, end), next_input.slice(1, begin, end)};
}

}  // namespace tandem::learner::otc
