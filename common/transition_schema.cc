#include "common/transition_schema.h"

#include <cstring>

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
  }
  LOG(FATAL) << "unknown field";
}

absl::StatusOr<TransitionSchema> TransitionSchema::Create(const TransitionSpec& spec) {
  auto bad = [](absl::string_view field, auto value, absl::string_view rule) {
    return absl::InvalidArgumentError(absl::StrCat("spec.", field, ": ", rule, ", got ", value));
  };
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
  return schema;
}

const Column* TransitionSchema::Find(Field field) const {
  for (const Column& column : columns_) {
    if (column.field == field) return &column;
  }
  return nullptr;
}

absl::StatusOr<int64_t> TransitionSchema::Validate(const TransitionBatch& batch) const {
  RETURN_IF_ERROR(ExpectTensor(batch.reward(), "reward", DTYPE_FLOAT32, {-1}));
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
        return absl::InvalidArgumentError(
            absl::StrCat(FieldName(column.field), ": non-finite value at transition ",
                         i / column.row_elements, " (element ", i % column.row_elements, ")"));
      }
    } else if (column.dtype == DTYPE_UINT8) {
      if (int64_t i = FirstNonBinary(data); i >= 0) {
        return absl::InvalidArgumentError(absl::StrCat(
            FieldName(column.field), ": value ", static_cast<int>(static_cast<uint8_t>(data[i])),
            " at transition ", i / column.row_elements, " is not 0 or 1"));
      }
    }
  }
  if (spec_.action_type() == ACTION_TYPE_DISCRETE) {
    const int64_t n = spec_.num_agents();
    const int64_t k = spec_.action_size();
    std::vector<int32_t> actions(t * n);
    RETURN_IF_ERROR(CopyTensorData<int32_t>(batch.actions(), "actions", absl::MakeSpan(actions)));
    const std::string& avail = batch.avail_actions().data();
    for (int64_t i = 0; i < t * n; ++i) {
      if (actions[i] < 0 || actions[i] >= k) {
        return absl::InvalidArgumentError(absl::StrCat("actions: agent ", i % n, " at transition ",
                                                       i / n, " took action ", actions[i],
                                                       ", outside [0, ", k, ")"));
      }
      if (spec_.has_avail_actions() && avail[i * k + actions[i]] == 0) {
        return absl::InvalidArgumentError(absl::StrCat("actions: agent ", i % n, " at transition ",
                                                       i / n, " took action ", actions[i],
                                                       ", which avail_actions marks unavailable"));
      }
    }
  }
  return t;
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
         sizes(a) == sizes(b);
}

absl::StatusOr<TransitionSpec> InferSpec(const TransitionBatch& batch) {
  auto need_rank = [](const Tensor& tensor, absl::string_view name, int rank) {
    if (tensor.shape_size() != rank) {
      return absl::InvalidArgumentError(
          absl::StrCat(name, ": expected ", rank, " dimensions, got ", DescribeTensor(tensor)));
    }
    return absl::OkStatus();
  };
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

std::string DescribeSpec(const TransitionSpec& spec) {
  return absl::StrCat(
      spec.num_agents(), " agents, obs ", spec.obs_size(), ", state ", spec.state_size(), ", ",
      spec.action_type() == ACTION_TYPE_DISCRETE ? "discrete" : "continuous", " actions ",
      spec.action_size(), spec.has_avail_actions() ? " with availability masks" : "");
}

}  // namespace tandem
