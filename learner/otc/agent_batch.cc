#include "learner/otc/agent_batch.h"

#include <ATen/ATen.h>

#include "absl/strings/str_cat.h"

namespace tandem::learner::otc {

absl::StatusOr<AgentInput> ParseAgentInput(const std::string& text, const std::string& field) {
  if (text == "state") return AgentInput::kState;
  if (text == "observation") return AgentInput::kObservation;
  return absl::InvalidArgumentError(
      absl::StrCat(field, " must be \"state\" or \"observation\", got \"", text, "\""));
}

int64_t AgentInputSize(const TransitionSpec& spec, AgentInput input) {
  return input == AgentInput::kState ? spec.state_size() : spec.obs_size();
}

namespace {

at::Tensor PerAgent(const at::Tensor& state, const at::Tensor& obs, AgentInput input) {
  if (input == AgentInput::kObservation) return obs.transpose(0, 1).contiguous();  // [N, B, O]
  return state.unsqueeze(0).expand({obs.size(1), state.size(0), state.size(1)}).contiguous();
}

at::Tensor GatherRows(const at::Tensor& t, const at::Tensor& rows) {
  const at::Tensor index =
      rows.to(t.device()).unsqueeze(-1).expand({rows.size(0), rows.size(1), t.size(2)});
  return t.gather(1, index);
}

}  // namespace

AgentBatch ToAgentBatch(const TrainingBatch& batch, AgentInput input) {
  const int64_t n = batch.obs.size(1);
  AgentBatch out;
  out.input = PerAgent(batch.state, batch.obs, input);
  out.next_input = PerAgent(batch.next_state, batch.next_obs, input);
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
