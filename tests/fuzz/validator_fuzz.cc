// Fuzzes what the replay server does with an inserted batch: parse the message, validate it
// against a table's schema (transitions, discrete with masks, whole episodes), count its steps,
// check its value bounds, and infer a spec from it as a first insert would. Input: one byte that
// picks the schema, then the serialized TransitionBatch.
#include <cstddef>
#include <cstdint>
#include <vector>

#include "common/transition_schema.h"
#include "proto/transition.pb.h"

namespace {

tandem::TransitionSpec Spec(int agents, int obs, int state, tandem::ActionType type, int actions,
                            int episode_steps) {
  tandem::TransitionSpec spec;
  spec.set_num_agents(agents);
  spec.set_obs_size(obs);
  spec.set_state_size(state);
  spec.set_action_type(type);
  spec.set_action_size(actions);
  spec.set_has_avail_actions(type == tandem::ACTION_TYPE_DISCRETE);
  spec.set_episode_steps(episode_steps);
  return spec;
}

const std::vector<tandem::TransitionSchema>& Schemas() {
  static const auto* schemas = new std::vector<tandem::TransitionSchema>{
      *tandem::TransitionSchema::Create(Spec(2, 3, 4, tandem::ACTION_TYPE_CONTINUOUS, 2, 0)),
      *tandem::TransitionSchema::Create(Spec(2, 3, 4, tandem::ACTION_TYPE_DISCRETE, 4, 0)),
      *tandem::TransitionSchema::Create(Spec(2, 3, 4, tandem::ACTION_TYPE_DISCRETE, 4, 5)),
  };
  return *schemas;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  tandem::TransitionBatch batch;
  if (!batch.ParseFromArray(data + 1, static_cast<int>(size - 1))) return 0;
  const tandem::TransitionSchema& schema = Schemas()[data[0] % Schemas().size()];
  auto rows = schema.Validate(batch);
  if (rows.ok()) {
    (void)schema.CountSteps(batch, *rows);
    tandem::ValueBounds bounds;
    bounds.action_low.assign(4, -1.0f);
    bounds.action_high.assign(4, 1.0f);
    bounds.max_abs_reward = 1e6;
    bounds.max_abs_observation = 1e6;
    (void)tandem::CheckValueBounds(schema, batch, *rows, bounds);
  } else {
    (void)tandem::RefusalReason(rows.status());
  }
  (void)tandem::NumSteps(batch);
  auto inferred = tandem::InferSpec(batch);
  if (inferred.ok()) {
    auto created = tandem::TransitionSchema::Create(*inferred);
    if (created.ok()) (void)created->Validate(batch);
  }
  return 0;
}
