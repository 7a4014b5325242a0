#include "common/transition_schema.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <optional>

#include "absl/strings/cord.h"
#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "common/tensor_proto.h"
#include "glog/logging.h"

namespace tandem {
namespace {

// Index of the first non-finite float32 in `bytes`, or -1. Checks the exponent bits, which
// vectorizes well.
int64_t FirstNonFinite(const std::string& bytes) {
  const int64_t n = static_cast<int64_t>(bytes.size() / 4);
  const char* data = bytes.data();
  uint32_t any = 0;
  for (int64_t i = 0; i < n; ++i) {
    uint32_t bits;
    std::memcpy(&bits, data + 4 * i, 4);
    any |= static_cast<uint32_t>((bits & 0x7f800000u) == 0x7f800000u);
  }
  if (any == 0) return -1;
  for (int64_t i = 0; i < n; ++i) {
    uint32_t bits;
    std::memcpy(&bits, data + 4 * i, 4);
    if ((bits & 0x7f800000u) == 0x7f800000u) return i;
  }
  return -1;
}

// Index of the first byte not in {0, 1}, or -1.
int64_t FirstNonBinary(const std::string& bytes) {
  for (size_t i = 0; i < bytes.size(); ++i) {
    if (static_cast<uint8_t>(bytes[i]) > 1) return static_cast<int64_t>(i);
  }
  return -1;
}

}  // namespace

absl::string_view FieldName(Field field) {
  switch (field) {
    case Field::kObs:
      return "obs";
    case Field::kState:
      return "state";
    case Field::kActions:
      return "actions";
    case Field::kAvailActions:
      return "avail_actions";
    case Field::kReward:
      return "reward";
    case Field::kTerminated:
      return "terminated";
    case Field::kTruncated:
      return "truncated";
    case Field::kNextObs:
      return "next_obs";
    case Field::kNextState:
      return "next_state";
    case Field::kNextAvailActions:
      return "next_avail_actions";
    case Field::kFilled:
      return "filled";
  }
  return "unknown";
}

const Tensor& GetField(const TransitionBatch& batch, Field field) {
  switch (field) {
    case Field::kObs:
      return batch.obs();
    case Field::kState:
      return batch.state();
    case Field::kActions:
      return batch.actions();
    case Field::kAvailActions:
      return batch.avail_actions();
    case Field::kReward:
      return batch.reward();
    case Field::kTerminated:
      return batch.terminated();
    case Field::kTruncated:
      return batch.truncated();
    case Field::kNextObs:
      return batch.next_obs();
    case Field::kNextState:
      return batch.next_state();
    case Field::kNextAvailActions:
      return batch.next_avail_actions();
    case Field::kFilled:
      return batch.filled();
  }
  LOG(FATAL) << "unknown field";
}

Tensor* MutableField(TransitionBatch* batch, Field field) {
  switch (field) {
    case Field::kObs:
      return batch->mutable_obs();
    case Field::kState:
      return batch->mutable_state();
    case Field::kActions:
      return batch->mutable_actions();
    case Field::kAvailActions:
      return batch->mutable_avail_actions();
    case Field::kReward:
      return batch->mutable_reward();
    case Field::kTerminated:
      return batch->mutable_terminated();
    case Field::kTruncated:
      return batch->mutable_truncated();
    case Field::kNextObs:
      return batch->mutable_next_obs();
    case Field::kNextState:
      return batch->mutable_next_state();
    case Field::kNextAvailActions:
      return batch->mutable_next_avail_actions();
    case Field::kFilled:
      return batch->mutable_filled();
  }
  LOG(FATAL) << "unknown field";
}

absl::StatusOr<TransitionSchema> TransitionSchema::CheckedItemBytes(TransitionSchema schema) {
  // No message can carry an item this large (gRPC and protobuf stop below 2 GiB).
  constexpr int64_t kMaxItemBytes = int64_t{1} << 30;
  if (schema.row_bytes_ > kMaxItemBytes) {
    return absl::InvalidArgumentError(absl::StrCat("spec: one item would take ", schema.row_bytes_,
                                                   " bytes, more than ", kMaxItemBytes));
  }
  return schema;
}

absl::StatusOr<TransitionSchema> TransitionSchema::Create(const TransitionSpec& spec) {
  auto bad = [](absl::string_view field, auto value, absl::string_view rule) {
    return absl::InvalidArgumentError(absl::StrCat("spec.", field, ": ", rule, ", got ", value));
  };
  // Bounds on every size, so a spec claimed by a client (the first insert into an unshaped table)
  // cannot make the server allocate without limit: far beyond any env, far below overflow.
  constexpr int32_t kMaxAgents = 4096, kMaxVector = 1 << 20, kMaxActions = 1 << 16;
  constexpr int32_t kMaxEpisodeSteps = 1 << 16;
  if (spec.num_agents() > kMaxAgents) {
    return bad("num_agents", spec.num_agents(), absl::StrCat("must be <= ", kMaxAgents));
  }
  if (spec.obs_size() > kMaxVector || spec.state_size() > kMaxVector) {
    return bad("obs_size/state_size", std::max(spec.obs_size(), spec.state_size()),
               absl::StrCat("must be <= ", kMaxVector));
  }
  if (spec.action_size() > kMaxActions) {
    return bad("action_size", spec.action_size(), absl::StrCat("must be <= ", kMaxActions));
  }
  if (spec.episode_steps() > kMaxEpisodeSteps) {
    return bad("episode_steps", spec.episode_steps(),
               absl::StrCat("must be <= ", kMaxEpisodeSteps));
  }
  if (spec.num_agents() < 1) return bad("num_agents", spec.num_agents(), "must be >= 1");
  if (spec.obs_size() < 1) return bad("obs_size", spec.obs_size(), "must be >= 1");
  if (spec.agent_obs_sizes_size() != 0 && spec.agent_obs_sizes_size() != spec.num_agents()) {
    return bad("agent_obs_sizes", spec.agent_obs_sizes_size(), "must be empty or one per agent");
  }
  for (int32_t size : spec.agent_obs_sizes()) {
    if (size < 1 || size > spec.obs_size()) {
      return bad("agent_obs_sizes", size,
                 absl::StrCat("must be in [1, obs_size=", spec.obs_size(), "]"));
    }
  }
  if (spec.state_size() < 1) return bad("state_size", spec.state_size(), "must be >= 1");
  const bool discrete = spec.action_type() == ACTION_TYPE_DISCRETE;
  if (!discrete && spec.action_type() != ACTION_TYPE_CONTINUOUS) {
    return bad("action_type", static_cast<int>(spec.action_type()), "must be set");
  }
  if (spec.action_size() < (discrete ? 2 : 1)) {
    return bad("action_size", spec.action_size(), discrete ? "must be >= 2" : "must be >= 1");
  }
  if (spec.has_avail_actions() && !discrete) {
    return bad("has_avail_actions", "true", "only discrete action spaces have availability masks");
  }
  if (spec.episode_steps() < 0 || spec.episode_steps() == 1) {
    return bad("episode_steps", spec.episode_steps(), "must be 0 (transitions) or >= 2");
  }
  if (spec.episode_steps() > 0 && !spec.has_avail_actions()) {
    return bad("episode_steps", spec.episode_steps(),
               "episode items need discrete actions with availability masks");
  }

  TransitionSchema schema;
  schema.spec_ = spec;
  const int64_t n = spec.num_agents();
  auto add = [&](Field field, DType dtype, std::vector<int64_t> row_shape) {
    int64_t elements = 1;
    for (int64_t d : row_shape) elements *= d;
    const int64_t bytes = elements * static_cast<int64_t>(DTypeSize(dtype));
    schema.columns_.push_back(Column{field, dtype, std::move(row_shape), elements, bytes});
    schema.row_bytes_ += bytes;
  };
  if (const int64_t l = spec.episode_steps(); l > 0) {
    const int64_t k = spec.action_size();
    add(Field::kObs, DTYPE_FLOAT32, {l, n, spec.obs_size()});
    add(Field::kState, DTYPE_FLOAT32, {l, spec.state_size()});
    add(Field::kActions, DTYPE_INT32, {l, n});
    add(Field::kAvailActions, DTYPE_UINT8, {l, n, k});
    add(Field::kReward, DTYPE_FLOAT32, {l});
    add(Field::kTerminated, DTYPE_UINT8, {l});
    add(Field::kFilled, DTYPE_UINT8, {l});
    return CheckedItemBytes(std::move(schema));
  }
  add(Field::kObs, DTYPE_FLOAT32, {n, spec.obs_size()});
  add(Field::kState, DTYPE_FLOAT32, {spec.state_size()});
  if (discrete) {
    add(Field::kActions, DTYPE_INT32, {n});
  } else {
    add(Field::kActions, DTYPE_FLOAT32, {n, spec.action_size()});
  }
  if (spec.has_avail_actions()) add(Field::kAvailActions, DTYPE_UINT8, {n, spec.action_size()});
  add(Field::kReward, DTYPE_FLOAT32, {});
  add(Field::kTerminated, DTYPE_UINT8, {});
  add(Field::kTruncated, DTYPE_UINT8, {});
  add(Field::kNextObs, DTYPE_FLOAT32, {n, spec.obs_size()});
  add(Field::kNextState, DTYPE_FLOAT32, {spec.state_size()});
  if (spec.has_avail_actions()) add(Field::kNextAvailActions, DTYPE_UINT8, {n, spec.action_size()});
  return CheckedItemBytes(std::move(schema));
}

const Column* TransitionSchema::Find(Field field) const {
  for (const Column& column : columns_) {
    if (column.field == field) return &column;
  }
  return nullptr;
}

absl::StatusOr<int64_t> TransitionSchema::Validate(const TransitionBatch& batch) const {
  if (episodic()) {
    RETURN_IF_ERROR(
        ExpectTensor(batch.reward(), "reward", DTYPE_FLOAT32, {-1, spec_.episode_steps()}));
  } else {
    RETURN_IF_ERROR(ExpectTensor(batch.reward(), "reward", DTYPE_FLOAT32, {-1}));
  }
  const int64_t t = batch.reward().shape(0);
  if (t < 1) return absl::InvalidArgumentError("reward: batch has no transitions");
  for (const Column& column : columns_) {
    std::vector<int64_t> shape = {t};
    shape.insert(shape.end(), column.row_shape.begin(), column.row_shape.end());
    RETURN_IF_ERROR(
        ExpectTensor(GetField(batch, column.field), FieldName(column.field), column.dtype, shape));
  }
  for (Field field : kAllFields) {
    const Tensor& tensor = GetField(batch, field);
    if (Find(field) == nullptr && (tensor.shape_size() > 0 || !tensor.data().empty())) {
      return absl::InvalidArgumentError(
          absl::StrCat(FieldName(field), ": present, but the table's spec has no such column"));
    }
  }
  for (const Column& column : columns_) {
    const std::string& data = GetField(batch, column.field).data();
    if (column.dtype == DTYPE_FLOAT32) {
      if (int64_t i = FirstNonFinite(data); i >= 0) {
        return WithRefusalReason(
            absl::InvalidArgumentError(
                absl::StrCat(FieldName(column.field), ": non-finite value at transition ",
                             i / column.row_elements, " (element ", i % column.row_elements, ")")),
            "non_finite");
      }
    } else if (column.dtype == DTYPE_UINT8) {
      if (int64_t i = FirstNonBinary(data); i >= 0) {
        return absl::InvalidArgumentError(absl::StrCat(
            FieldName(column.field), ": value ", static_cast<int>(static_cast<uint8_t>(data[i])),
            " at transition ", i / column.row_elements, " is not 0 or 1"));
      }
    }
  }
  if (episodic()) {
    RETURN_IF_ERROR(ValidateEpisodes(batch, t));
    return t;
  }
  if (spec_.action_type() == ACTION_TYPE_DISCRETE) {
    const int64_t n = spec_.num_agents();
    const int64_t k = spec_.action_size();
    std::vector<int32_t> actions(t * n);
    RETURN_IF_ERROR(CopyTensorData<int32_t>(batch.actions(), "actions", absl::MakeSpan(actions)));
    const std::string& avail = batch.avail_actions().data();
    for (int64_t i = 0; i < t * n; ++i) {
      if (actions[i] < 0 || actions[i] >= k) {
        return WithRefusalReason(absl::InvalidArgumentError(absl::StrCat(
                                     "actions: agent ", i % n, " at transition ", i / n,
                                     " took action ", actions[i], ", outside [0, ", k, ")")),
                                 "action_range");
      }
      if (spec_.has_avail_actions() && avail[i * k + actions[i]] == 0) {
        return WithRefusalReason(
            absl::InvalidArgumentError(absl::StrCat("actions: agent ", i % n, " at transition ",
                                                    i / n, " took action ", actions[i],
                                                    ", which avail_actions marks unavailable")),
            "unavailable_action");
      }
    }
  }
  return t;
}

absl::Status TransitionSchema::ValidateEpisodes(const TransitionBatch& batch, int64_t items) const {
  const int64_t l = spec_.episode_steps(), n = spec_.num_agents(), k = spec_.action_size();
  const auto* filled = reinterpret_cast<const uint8_t*>(batch.filled().data().data());
  const auto* terminated = reinterpret_cast<const uint8_t*>(batch.terminated().data().data());
  const auto* avail = reinterpret_cast<const uint8_t*>(batch.avail_actions().data().data());
  std::vector<int32_t> actions(items * l * n);
  RETURN_IF_ERROR(CopyTensorData<int32_t>(batch.actions(), "actions", absl::MakeSpan(actions)));
  std::vector<float> reward(items * l);
  RETURN_IF_ERROR(CopyTensorData<float>(batch.reward(), "reward", absl::MakeSpan(reward)));
  auto error = [](int64_t e, auto&&... parts) {
    return absl::InvalidArgumentError(absl::StrCat(parts..., " (episode ", e, ")"));
  };
  // Whether `bytes` bytes of a column's data from `offset` on are all zero.
  auto zero = [](const std::string& data, int64_t offset, int64_t bytes) {
    for (int64_t i = 0; i < bytes; ++i) {
      if (data[offset + i] != 0) return false;
    }
    return true;
  };
  for (int64_t e = 0; e < items; ++e) {
    const uint8_t* f = filled + e * l;
    int64_t entries = 0;
    while (entries < l && f[entries] == 1) ++entries;
    for (int64_t t = entries; t < l; ++t) {
      if (f[t] != 0) {
        return error(e, "filled: entry ", t, " is 1 after entry ", entries,
                     " is 0; filled must be 1s then 0s");
      }
    }
    if (entries < 2) {
      return error(e, "filled: ", entries,
                   " filled entries; an episode has at least one step and its final observation");
    }
    const int64_t len = entries - 1;
    for (int64_t t = 0; t < l; ++t) {
      if (terminated[e * l + t] != 0 && t != len - 1) {
        return error(e, "terminated: set at entry ", t, " but the episode's last step is entry ",
                     len - 1);
      }
      if (t >= len && reward[e * l + t] != 0) {
        return error(e, "reward: entry ", t, " is past the episode's last step (", len - 1,
                     ") and must be 0");
      }
    }
    for (int64_t t = 0; t < entries; ++t) {
      for (int64_t i = 0; i < n; ++i) {
        const uint8_t* mask = avail + ((e * l + t) * n + i) * k;
        bool any = false;
        for (int64_t a = 0; a < k; ++a) any = any || mask[a] != 0;
        if (!any) {
          return error(e, "avail_actions: agent ", i, " has no available action at entry ", t);
        }
        const int32_t action = actions[(e * l + t) * n + i];
        if (t == len) {
          if (action != 0) {
            return error(e, "actions: entry ", t,
                         " holds the final observation and its actions must be 0, got ", action);
          }
          continue;
        }
        if (action < 0 || action >= k) {
          return WithRefusalReason(error(e, "actions: agent ", i, " at entry ", t, " took action ",
                                         action, ", outside [0, ", k, ")"),
                                   "action_range");
        }
        if (mask[action] == 0) {
          return WithRefusalReason(error(e, "actions: agent ", i, " at entry ", t, " took action ",
                                         action, ", which avail_actions marks unavailable"),
                                   "unavailable_action");
        }
      }
    }
    // Padding after the final entry is zero in every column.
    for (const Column& column : columns_) {
      const int64_t entry_bytes = column.row_bytes / l;
      if (!zero(GetField(batch, column.field).data(), e * column.row_bytes + entries * entry_bytes,
                (l - entries) * entry_bytes)) {
        return error(e, FieldName(column.field), ": padding after entry ", entries - 1,
                     " must be zero");
      }
    }
  }
  return absl::OkStatus();
}

namespace {
constexpr absl::string_view kRefusalPayload = "tandem.dev/refusal-reason";
}  // namespace

absl::Status WithRefusalReason(absl::Status status, absl::string_view reason) {
  status.SetPayload(kRefusalPayload, absl::Cord(reason));
  return status;
}

std::string RefusalReason(const absl::Status& status) {
  const auto reason = status.GetPayload(kRefusalPayload);
  return reason.has_value() ? std::string(*reason) : "malformed";
}

absl::Status CheckValueBounds(const TransitionSchema& schema, const TransitionBatch& batch,
                              int64_t rows, const ValueBounds& bounds) {
  // The first element of a float32 column's first `rows` items that `bad` flags, or -1.
  auto first_bad = [rows](const Column& column, const TransitionBatch& b, auto bad) -> int64_t {
    const std::string& data = GetField(b, column.field).data();
    const int64_t n = std::min<int64_t>(rows * column.row_elements,
                                        static_cast<int64_t>(data.size() / sizeof(float)));
    for (int64_t i = 0; i < n; ++i) {
      float value;
      std::memcpy(&value, data.data() + i * sizeof(float), sizeof(float));
      if (bad(value, i)) return i;
    }
    return -1;
  };
  auto value_at = [](const Column& column, const TransitionBatch& b, int64_t i) {
    float value;
    std::memcpy(&value, GetField(b, column.field).data().data() + i * sizeof(float), sizeof(float));
    return value;
  };
  const char* item = schema.episodic() ? "episode " : "transition ";
  if (bounds.max_abs_reward > 0) {
    const Column* column = schema.Find(Field::kReward);
    const double limit = bounds.max_abs_reward;
    const int64_t i =
        first_bad(*column, batch, [limit](float v, int64_t) { return std::fabs(v) > limit; });
    if (i >= 0) {
      return WithRefusalReason(
          absl::InvalidArgumentError(absl::StrCat(
              "reward: ", value_at(*column, batch, i), " at ", item, i / column->row_elements,
              " exceeds replay.validation.max_abs_reward = ", limit)),
          "reward_bound");
    }
  }
  if (bounds.max_abs_observation > 0) {
    const double limit = bounds.max_abs_observation;
    for (Field field : {Field::kObs, Field::kNextObs, Field::kState, Field::kNextState}) {
      const Column* column = schema.Find(field);
      if (column == nullptr || column->dtype != DTYPE_FLOAT32) continue;
      const int64_t i =
          first_bad(*column, batch, [limit](float v, int64_t) { return std::fabs(v) > limit; });
      if (i >= 0) {
        return WithRefusalReason(
            absl::InvalidArgumentError(
                absl::StrCat(FieldName(field), ": ", value_at(*column, batch, i), " at ", item,
                             i / column->row_elements, " (element ", i % column->row_elements,
                             ") exceeds replay.validation.max_abs_observation = ", limit)),
            "observation_bound");
      }
    }
  }
  const Column* actions = schema.Find(Field::kActions);
  const int64_t dims = static_cast<int64_t>(bounds.action_low.size());
  if (dims > 0 && actions != nullptr && actions->dtype == DTYPE_FLOAT32 &&
      actions->row_elements % dims == 0 &&
      static_cast<int64_t>(bounds.action_high.size()) == dims) {
    const double tolerance = bounds.action_tolerance;
    const int64_t i = first_bad(*actions, batch, [&](float v, int64_t index) {
      const int64_t d = index % dims;
      return v < bounds.action_low[d] - tolerance || v > bounds.action_high[d] + tolerance;
    });
    if (i >= 0) {
      const int64_t d = i % dims;
      const int64_t size = std::max(1, schema.spec().action_size());
      return WithRefusalReason(
          absl::InvalidArgumentError(absl::StrCat(
              "actions: ", value_at(*actions, batch, i), " at ", item, i / actions->row_elements,
              " (agent ", d / size, ", dimension ", d % size, ") is outside the env's box [",
              bounds.action_low[d], ", ", bounds.action_high[d], "]")),
          "action_range");
    }
  }
  return absl::OkStatus();
}

int64_t TransitionSchema::CountSteps(const TransitionBatch& batch, int64_t rows) const {
  if (!episodic()) return rows;
  const std::string& filled = batch.filled().data();
  const int64_t bytes =
      std::min<int64_t>(static_cast<int64_t>(filled.size()), rows * spec_.episode_steps());
  int64_t entries = 0;
  for (int64_t i = 0; i < bytes; ++i) entries += static_cast<uint8_t>(filled[i]);
  return entries - rows;
}

void TransitionSchema::Allocate(int64_t num_rows, TransitionBatch* batch) const {
  for (const Column& column : columns_) {
    Tensor* tensor = MutableField(batch, column.field);
    tensor->set_dtype(column.dtype);
    tensor->clear_shape();
    tensor->add_shape(num_rows);
    for (int64_t d : column.row_shape) tensor->add_shape(d);
    tensor->mutable_data()->resize(num_rows * column.row_bytes);
  }
}

bool TransitionSchema::Compatible(const TransitionSpec& a, const TransitionSpec& b) {
  auto sizes = [](const TransitionSpec& s) {
    std::vector<int32_t> v(s.agent_obs_sizes().begin(), s.agent_obs_sizes().end());
    if (v.empty()) v.assign(s.num_agents(), s.obs_size());
    return v;
  };
  return a.num_agents() == b.num_agents() && a.obs_size() == b.obs_size() &&
         a.state_size() == b.state_size() && a.action_type() == b.action_type() &&
         a.action_size() == b.action_size() && a.has_avail_actions() == b.has_avail_actions() &&
         a.episode_steps() == b.episode_steps() && sizes(a) == sizes(b);
}

absl::StatusOr<TransitionSpec> InferSpec(const TransitionBatch& batch) {
  auto need_rank = [](const Tensor& tensor, absl::string_view name, int rank) {
    if (tensor.shape_size() != rank) {
      return absl::InvalidArgumentError(
          absl::StrCat(name, ": expected ", rank, " dimensions, got ", DescribeTensor(tensor)));
    }
    return absl::OkStatus();
  };
  if (batch.filled().shape_size() > 0) {
    // Episode layout: obs [T, L, N, O], avail_actions [T, L, N, K].
    RETURN_IF_ERROR(need_rank(batch.obs(), "obs", 4));
    RETURN_IF_ERROR(need_rank(batch.state(), "state", 3));
    RETURN_IF_ERROR(need_rank(batch.avail_actions(), "avail_actions", 4));
    TransitionSpec spec;
    spec.set_episode_steps(static_cast<int32_t>(batch.obs().shape(1)));
    spec.set_num_agents(static_cast<int32_t>(batch.obs().shape(2)));
    spec.set_obs_size(static_cast<int32_t>(batch.obs().shape(3)));
    spec.set_state_size(static_cast<int32_t>(batch.state().shape(2)));
    spec.set_action_type(ACTION_TYPE_DISCRETE);
    spec.set_action_size(static_cast<int32_t>(batch.avail_actions().shape(3)));
    spec.set_has_avail_actions(true);
    RETURN_IF_ERROR(TransitionSchema::Create(spec).status());
    return spec;
  }
  RETURN_IF_ERROR(need_rank(batch.obs(), "obs", 3));
  RETURN_IF_ERROR(need_rank(batch.state(), "state", 2));
  TransitionSpec spec;
  spec.set_num_agents(static_cast<int32_t>(batch.obs().shape(1)));
  spec.set_obs_size(static_cast<int32_t>(batch.obs().shape(2)));
  spec.set_state_size(static_cast<int32_t>(batch.state().shape(1)));
  if (batch.actions().dtype() == DTYPE_INT32) {
    RETURN_IF_ERROR(need_rank(batch.avail_actions(), "avail_actions", 3));
    spec.set_action_type(ACTION_TYPE_DISCRETE);
    spec.set_action_size(static_cast<int32_t>(batch.avail_actions().shape(2)));
    spec.set_has_avail_actions(true);
  } else {
    RETURN_IF_ERROR(need_rank(batch.actions(), "actions", 3));
    spec.set_action_type(ACTION_TYPE_CONTINUOUS);
    spec.set_action_size(static_cast<int32_t>(batch.actions().shape(2)));
  }
  RETURN_IF_ERROR(TransitionSchema::Create(spec).status());
  return spec;
}

int64_t NumTransitions(const TransitionBatch& batch) {
  return batch.reward().shape_size() > 0 ? batch.reward().shape(0) : 0;
}

int64_t NumSteps(const TransitionBatch& batch) {
  const int64_t items = NumTransitions(batch);
  if (batch.filled().shape_size() == 0) return items;
  int64_t entries = 0;
  for (char byte : batch.filled().data()) entries += static_cast<uint8_t>(byte);
  return entries - items;
}

std::string DescribeSpec(const TransitionSpec& spec) {
  return absl::StrCat(
      spec.num_agents(), " agents, obs ", spec.obs_size(), ", state ", spec.state_size(), ", ",
      spec.action_type() == ACTION_TYPE_DISCRETE ? "discrete" : "continuous", " actions ",
      spec.action_size(), spec.has_avail_actions() ? " with availability masks" : "",
      spec.episode_steps() > 0 ? absl::StrCat(", episodes of ", spec.episode_steps(), " entries")
                               : "");
}

}  // namespace tandem
