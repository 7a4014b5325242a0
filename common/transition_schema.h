// The columns of a `TransitionBatch` (proto/transition.proto) as implied by a `TransitionSpec`:
// which tensors a batch has, their dtypes and per-transition shapes. Validation of incoming
// batches, the replay tables' columnar storage, the write-ahead log and datasets all use this one
// schema.
#ifndef TANDEM_COMMON_TRANSITION_SCHEMA_H_
#define TANDEM_COMMON_TRANSITION_SCHEMA_H_

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "proto/transition.pb.h"

namespace tandem {

// The tensor fields of a TransitionBatch.
enum class Field {
  kObs,
  kState,
  kActions,
  kAvailActions,
  kReward,
  kTerminated,
  kTruncated,
  kNextObs,
  kNextState,
  kNextAvailActions,
  // Episode layout only: which entries of a padded episode hold data.
  kFilled,
};
inline constexpr int kNumFields = 11;

// Every field, in wire order.
inline constexpr std::array<Field, kNumFields> kAllFields = {
    Field::kObs,       Field::kState,
    Field::kActions,   Field::kAvailActions,
    Field::kReward,    Field::kTerminated,
    Field::kTruncated, Field::kNextObs,
    Field::kNextState, Field::kNextAvailActions,
    Field::kFilled};

// The proto field name, e.g. "next_obs".
absl::string_view FieldName(Field field);

// Read and write access to a batch's tensor for `field`.
const Tensor& GetField(const TransitionBatch& batch, Field field);
Tensor* MutableField(TransitionBatch* batch, Field field);

// One column: a field present under the spec, with its dtype and per-item shape (an item is one
// transition, or one padded episode under the episode layout).
struct Column {
  Field field;
  DType dtype;
  // Shape of one item's entry, e.g. {N, O} for obs and {} for reward; with episode items
  // {L, N, O} and {L}.
  std::vector<int64_t> row_shape;
  // Elements per transition (product of row_shape).
  int64_t row_elements;
  // Bytes per transition.
  int64_t row_bytes;
};

// The columns a spec implies, in wire order (avail masks only when the spec has them; the episode
// layout's columns when spec.episode_steps > 0).
class TransitionSchema {
 public:
  // Fails with INVALID_ARGUMENT naming the bad spec field.
  static absl::StatusOr<TransitionSchema> Create(const TransitionSpec& spec);

  const TransitionSpec& spec() const { return spec_; }
  const std::vector<Column>& columns() const { return columns_; }
  // Bytes of one item over all columns.
  int64_t row_bytes() const { return row_bytes_; }
  // Whether items are whole padded episodes (spec.episode_steps > 0).
  bool episodic() const { return spec_.episode_steps() > 0; }
  // Env steps held by the first `rows` items of a validated batch: `rows` for transitions, the
  // episodes' lengths (filled entries minus one each) for episodes. Rate limiters count these.
  int64_t CountSteps(const TransitionBatch& batch, int64_t rows) const;
  // The column for `field`, or nullptr when the spec has no such column.
  const Column* Find(Field field) const;

  // Checks `batch` against the spec: every column present with the right dtype and shape, one
  // common length T >= 1, finite floats, done flags in {0, 1}, discrete actions in [0, K) and
  // available, masks in {0, 1}, no tensors the spec does not have. Returns T. The error names the
  // field and the problem, e.g. "next_obs: expected shape [64, 6, 23], got float32[64, 6, 22]".
  // Episode items are also checked for a hole-free `filled` prefix of 2..L entries, zero padding,
  // one `terminated` at most (on the last acted entry) and an available action for every agent at
  // every filled entry.
  absl::StatusOr<int64_t> Validate(const TransitionBatch& batch) const;

  // Resizes every column of `batch` to `num_rows` transitions (contents unspecified) so rows can
  // be written in place with memcpy.
  void Allocate(int64_t num_rows, TransitionBatch* batch) const;

  // Whether two specs have identical shapes (env names may differ).
  static bool Compatible(const TransitionSpec& a, const TransitionSpec& b);

 private:
  TransitionSchema() = default;
  // `schema`, or INVALID_ARGUMENT when one item would exceed 1 GiB.
  static absl::StatusOr<TransitionSchema> CheckedItemBytes(TransitionSchema schema);
  // The episode layout's checks beyond shapes and dtypes, for `items` episodes.
  absl::Status ValidateEpisodes(const TransitionBatch& batch, int64_t items) const;
  TransitionSpec spec_;
  std::vector<Column> columns_;
  int64_t row_bytes_ = 0;
};

// The spec a well-formed batch implies (agents, sizes, action type from its tensors' shapes and
// dtypes), for a table whose shape is set by its first insert. Fails naming the tensor that does
// not determine it.
absl::StatusOr<TransitionSpec> InferSpec(const TransitionBatch& batch);

// Number of items (transitions or episodes) in a batch, read from `reward`'s leading dimension (0
// if absent).
int64_t NumTransitions(const TransitionBatch& batch);
// Env steps in a batch: NumTransitions for transitions, the episodes' lengths (filled entries
// minus one per episode) under the episode layout.
int64_t NumSteps(const TransitionBatch& batch);

// Why a batch was refused, for counters: "malformed" (shapes, dtypes, flags, masks, episode
// structure), "non_finite", "action_range" (outside [0, K) or the env's box),
// "unavailable_action", "reward_bound" or "observation_bound". Validation errors carry it as a
// status payload; RefusalReason reads it back ("malformed" when absent).
absl::Status WithRefusalReason(absl::Status status, absl::string_view reason);
std::string RefusalReason(const absl::Status& status);

// Value bounds beyond the spec's shapes (ReplayConfig.validation plus the env's action box).
struct ValueBounds {
  // Per agent and action dimension (num_agents * action_size, as EnvSpec has them); empty =
  // unchecked. Continuous actions only.
  std::vector<float> action_low, action_high;
  // How far outside the box an action may lie (float rounding of a clipped action).
  double action_tolerance = 0;
  // Largest |reward|; 0 = unchecked.
  double max_abs_reward = 0;
  // Largest |value| in obs, next_obs, state and next_state; 0 = unchecked.
  double max_abs_observation = 0;
};

// Checks the first `rows` items of a batch that passed schema.Validate against `bounds`. The error
// names the field, the item, the element and the value, and carries the refusal reason.
absl::Status CheckValueBounds(const TransitionSchema& schema, const TransitionBatch& batch,
                              int64_t rows, const ValueBounds& bounds);

// A one-line description of a spec, e.g. "6 agents, obs 23, state 138, continuous actions 1".
std::string DescribeSpec(const TransitionSpec& spec);

}  // namespace tandem

#endif  // TANDEM_COMMON_TRANSITION_SCHEMA_H_
