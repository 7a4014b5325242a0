#include "tests/transition_testing.h"

#include <cstring>
#include <vector>

namespace tandem::testing {

TransitionSpec ContinuousSpec(int agents, int obs, int state, int action) {
  TransitionSpec spec;
  spec.set_num_agents(agents);
  spec.set_obs_size(obs);
  spec.set_state_size(state);
  spec.set_action_type(ACTION_TYPE_CONTINUOUS);
  spec.set_action_size(action);
  spec.set_env_name("test/continuous");
  return spec;
}

TransitionSpec DiscreteSpec(int agents, int obs, int state, int actions) {
  TransitionSpec spec;
  spec.set_num_agents(agents);
  spec.set_obs_size(obs);
  spec.set_state_size(state);
  spec.set_action_type(ACTION_TYPE_DISCRETE);
  spec.set_action_size(actions);
  spec.set_has_avail_actions(true);
  spec.set_env_name("test/discrete");
  return spec;
}

TransitionSpec EpisodeSpec(int agents, int obs, int state, int actions, int episode_steps) {
  TransitionSpec spec = DiscreteSpec(agents, obs, state, actions);
  spec.set_episode_steps(episode_steps);
  spec.set_env_name("test/episodes");
  return spec;
}

int64_t EpisodeLength(const TransitionSpec& spec, int64_t id) {
  return 1 + id % (spec.episode_steps() - 1);
}

namespace {

// The episode layout's item for `id`: EpisodeLength(id) steps, entries 0..len filled.
void FillEpisode(const Column& column, const TransitionSpec& spec, int64_t id, char* dst) {
  const int64_t l = spec.episode_steps();
  const int64_t len = EpisodeLength(spec, id);
  const int64_t per_entry = column.row_elements / l;
  std::memset(dst, 0, column.row_bytes);
  for (int64_t t = 0; t <= len; ++t) {
    for (int64_t j = 0; j < per_entry; ++j) {
      const int64_t i = t * per_entry + j;
      switch (column.field) {
        case Field::kObs:
        case Field::kState: {
          const float value = static_cast<float>(id);
          std::memcpy(dst + 4 * i, &value, 4);
          break;
        }
        case Field::kReward: {
          const float value = t < len ? static_cast<float>(id) : 0.0f;
          std::memcpy(dst + 4 * i, &value, 4);
          break;
        }
        case Field::kActions: {
          const int32_t value = t < len ? static_cast<int32_t>(id % spec.action_size()) : 0;
          std::memcpy(dst + 4 * i, &value, 4);
          break;
        }
        case Field::kAvailActions:
        case Field::kFilled:
          dst[i] = 1;
          break;
        case Field::kTerminated:
          dst[i] = (t == len - 1 && id % 2 == 0) ? 1 : 0;
          break;
        default:
          break;
      }
    }
  }
}

// Writes the bytes of row `row` for `id` into `dst` for `column`.
void FillRow(const Column& column, const TransitionSpec& spec, int64_t id, char* dst) {
  if (spec.episode_steps() > 0) {
    FillEpisode(column, spec, id, dst);
    return;
  }
  switch (column.dtype) {
    case DTYPE_FLOAT32: {
      std::vector<float> values(column.row_elements, static_cast<float>(id));
      std::memcpy(dst, values.data(), column.row_bytes);
      break;
    }
    case DTYPE_INT32: {
      std::vector<int32_t> values(column.row_elements,
                                  static_cast<int32_t>(id % spec.action_size()));
      std::memcpy(dst, values.data(), column.row_bytes);
      break;
    }
    case DTYPE_UINT8: {
      uint8_t value = 1;
      if (column.field == Field::kTerminated) value = id % 10 == 0 ? 1 : 0;
      if (column.field == Field::kTruncated) value = 0;
      std::memset(dst, value, column.row_bytes);
      break;
    }
    default:
      break;
  }
}

}  // namespace

TransitionBatch MakeBatch(const TransitionSchema& schema, int64_t rows, int64_t first_id) {
  TransitionBatch batch;
  schema.Allocate(rows, &batch);
  for (const Column& column : schema.columns()) {
    char* data = MutableField(&batch, column.field)->mutable_data()->data();
    for (int64_t i = 0; i < rows; ++i) {
      FillRow(column, schema.spec(), first_id + i, data + i * column.row_bytes);
    }
  }
  return batch;
}

int64_t RowId(const TransitionBatch& batch, int64_t row) {
  float value;
  // Episode items: the reward of their first step.
  const int64_t entries = batch.filled().shape_size() > 1 ? batch.filled().shape(1) : 1;
  std::memcpy(&value, batch.reward().data().data() + 4 * row * entries, 4);
  return static_cast<int64_t>(value);
}

bool RowMatchesId(const TransitionSchema& schema, const TransitionBatch& batch, int64_t row,
                  int64_t id) {
  for (const Column& column : schema.columns()) {
    std::vector<char> expected(column.row_bytes);
    FillRow(column, schema.spec(), id, expected.data());
    const char* actual = GetField(batch, column.field).data().data() + row * column.row_bytes;
    if (std::memcmp(actual, expected.data(), column.row_bytes) != 0) return false;
  }
  return true;
}

}  // namespace tandem::testing
