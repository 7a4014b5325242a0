#include "common/cfcql_dataset.h"

#include <hdf5.h>
#include <unistd.h>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <regex>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/hdf5_util.h"
#include "common/status_macros.h"
#include "common/transition_schema.h"

namespace tandem {
namespace {

constexpr char kLayout[] =
    "CFCQL files hold state, obs, actions, avail_actions, reward, terminated, filled";
constexpr const char* kKeys[] = {"state",  "obs",        "actions", "avail_actions",
                                 "reward", "terminated", "filled"};

// Checks that `key` has rank `rank` (or `rank` + 1 with a trailing 1 when `trailing_one`), leading
// [episodes, entries] and then `rest` (0 in `rest` means any size, which is filled in).
absl::Status CheckShape(const H5Key& key, const std::string& path, const char* name, size_t rank,
                        bool trailing_one, std::vector<hsize_t>& rest, const char* expected) {
  std::vector<hsize_t> dims = key.dims;
  if (trailing_one && dims.size() == rank + 1 && dims.back() == 1) dims.pop_back();
  bool ok = dims.size() == rank;
  for (size_t d = 0; ok && d < rank; ++d) {
    if (rest[d] == 0) rest[d] = dims[d];
    ok = dims[d] == rest[d];
  }
  if (!ok) {
    return absl::InvalidArgumentError(absl::StrCat(path, ": key '", name, "' has shape ",
                                                   ShapeText(key.dims), ", expected ", expected));
  }
  return absl::OkStatus();
}

class CfcqlDataSource : public OfflineDataSource {
 public:
  static absl::StatusOr<std::unique_ptr<OfflineDataSource>> Open(const std::string& path,
                                                                 const std::string& env_name) {
    std::unique_ptr<CfcqlDataSource> source(new CfcqlDataSource(path));
    ASSIGN_OR_RETURN(source->file_, OpenHdf5ForReading(path));
    for (int k = 0; k < 7; ++k) {
      ASSIGN_OR_RETURN(source->keys_[k], OpenH5Key(source->file_.get(), path, kKeys[k], kLayout));
      const bool floats = k == kState || k == kObs || k == kReward;
      const H5T_class_t want = floats ? H5T_FLOAT : H5T_INTEGER;
      if (source->keys_[k].type_class != want) {
        return absl::InvalidArgumentError(
            absl::StrCat(path, ": key '", kKeys[k], "' has dtype ", source->keys_[k].type_name,
                         ", expected ", floats ? "float32 or float64" : "an integer type"));
      }
    }
    // [E, L, n, O] fixes E, L and n; every other key must agree.
    std::vector<hsize_t> obs = {0, 0, 0, 0};
    RETURN_IF_ERROR(CheckShape(source->keys_[kObs], path, "obs", 4, false, obs,
                               "[episodes, entries, agents, obs]"));
    const hsize_t e = obs[0], l = obs[1], n = obs[2];
    const std::string prefix = absl::StrCat("[", e, ", ", l);
    std::vector<hsize_t> state = {e, l, 0}, actions = {e, l, n}, avail = {e, l, n, 0};
    RETURN_IF_ERROR(CheckShape(source->keys_[kState], path, "state", 3, false, state,
                               absl::StrCat(prefix, ", state]").c_str()));
    RETURN_IF_ERROR(CheckShape(source->keys_[kActions], path, "actions", 3, true, actions,
                               absl::StrCat(prefix, ", ", n, ", 1]").c_str()));
    RETURN_IF_ERROR(CheckShape(source->keys_[kAvail], path, "avail_actions", 4, false, avail,
                               absl::StrCat(prefix, ", ", n, ", actions]").c_str()));
    for (int k : {kReward, kTerminated, kFilled}) {
      std::vector<hsize_t> flat = {e, l};
      RETURN_IF_ERROR(CheckShape(source->keys_[k], path, kKeys[k], 2, true, flat,
                                 absl::StrCat(prefix, ", 1]").c_str()));
    }
    if (e < 1 || l < 2) {
      return absl::InvalidArgumentError(
          absl::StrCat(path, ": holds ", e, " episodes of ", l, " entries, no transition"));
    }
    source->episodes_ = static_cast<int64_t>(e);
    source->entries_ = static_cast<int64_t>(l);

    // The filled masks decide each episode's length; read them once (E * L bytes).
    std::vector<uint8_t> filled(e * l);
    RETURN_IF_ERROR(ReadH5Rows(source->keys_[kFilled], path, "filled", 0, source->episodes_,
                               H5T_NATIVE_UINT8, filled.data()));
    source->lengths_.resize(e);
    for (hsize_t i = 0; i < e; ++i) {
      int64_t entries = 0;
      for (hsize_t t = 0; t < l; ++t) {
        const uint8_t f = filled[i * l + t];
        const bool hole = f == 1 && static_cast<int64_t>(t) != entries;
        if (f > 1 || hole) {
          return absl::InvalidArgumentError(absl::StrCat(
              path, ": key 'filled' episode ", i, " entry ", t, ": ",
              f > 1 ? absl::StrCat("value ", static_cast<int>(f), " is not 0 or 1")
                    : std::string("a filled entry after an empty one (episodes are 1s then 0s)")));
        }
        entries += f;
      }
      if (entries < 2) {
        return absl::InvalidArgumentError(absl::StrCat(path, ": key 'filled' episode ", i, " has ",
                                                       entries, " entries, at least 2 needed"));
      }
      source->lengths_[i] = entries - 1;
    }

    TransitionSpec spec;
    spec.set_num_agents(static_cast<int32_t>(n));
    spec.set_obs_size(static_cast<int32_t>(obs[3]));
    for (hsize_t i = 0; i < n; ++i) spec.add_agent_obs_sizes(static_cast<int32_t>(obs[3]));
    spec.set_state_size(static_cast<int32_t>(state[2]));
    spec.set_action_type(ACTION_TYPE_DISCRETE);
    spec.set_action_size(static_cast<int32_t>(avail[3]));
    spec.set_has_avail_actions(true);
    spec.set_episode_steps(static_cast<int32_t>(l));
    spec.set_env_name(env_name);
    auto schema = TransitionSchema::Create(spec);
    if (!schema.ok()) {
      return absl::InvalidArgumentError(absl::StrCat(path, ": ", schema.status().message()));
    }
    source->schema_ = std::make_unique<TransitionSchema>(*std::move(schema));
    return std::unique_ptr<OfflineDataSource>(std::move(source));
  }

  const TransitionSpec& spec() const override { return schema_->spec(); }
  int64_t size() const override { return episodes_; }
  std::string description() const override { return absl::StrCat(path_, " (CFCQL format)"); }

  absl::Status ReadColumn(Field field, int64_t begin, int64_t count, void* out) override {
    ASSIGN_OR_RETURN(const Column* column,
                     ColumnToRead(*schema_, field, begin, count, size(), path_));
    if (count == 0) return absl::OkStatus();
    int key = 0;
    hid_t mem_type = H5T_NATIVE_UINT8;
    // Entries from `first_zero(len)` on are padding in Tandem's layout and set to 0.
    int64_t zero_from_final = 1;  // entry len + 1 for observations, len for per-step columns
    switch (field) {
      case Field::kObs:
        key = kObs, mem_type = H5T_NATIVE_FLOAT;
        break;
      case Field::kState:
        key = kState, mem_type = H5T_NATIVE_FLOAT;
        break;
      case Field::kAvailActions:
        key = kAvail;
        break;
      case Field::kActions:
        key = kActions, mem_type = H5T_NATIVE_INT32, zero_from_final = 0;
        break;
      case Field::kReward:
        key = kReward, mem_type = H5T_NATIVE_FLOAT, zero_from_final = 0;
        break;
      case Field::kTerminated:
        key = kTerminated, zero_from_final = 0;
        break;
      case Field::kFilled:
        key = kFilled;
        break;
      default:
        return absl::InvalidArgumentError(
            absl::StrCat(path_, ": CFCQL files have no column '", FieldName(field), "'"));
    }
    RETURN_IF_ERROR(ReadH5Rows(keys_[key], path_, kKeys[key], begin, count, mem_type, out));
    const int64_t per_entry = column->row_elements / entries_;
    const size_t bytes = mem_type == H5T_NATIVE_UINT8 ? 1 : 4;
    char* rows = static_cast<char*>(out);
    for (int64_t i = 0; i < count; ++i) {
      const int64_t episode = begin + i;
      const int64_t from = lengths_[episode] + zero_from_final;
      char* row = rows + i * column->row_elements * bytes;
      std::memset(row + from * per_entry * bytes, 0, (entries_ - from) * per_entry * bytes);
      RETURN_IF_ERROR(CheckValues(field, key, episode, row, column->row_elements));
    }
    return absl::OkStatus();
  }

 private:
  enum KeyIndex { kState, kObs, kActions, kAvail, kReward, kTerminated, kFilled };

  explicit CfcqlDataSource(std::string path) : path_(std::move(path)) {}

  absl::Status CheckValues(Field field, int key, int64_t episode, const char* row,
                           int64_t n) const {
    auto bad = [&](int64_t j, const std::string& problem) {
      return absl::InvalidArgumentError(absl::StrCat(path_, ": key '", kKeys[key], "' episode ",
                                                     episode, " entry ", j / (n / entries_), ": ",
                                                     problem));
    };
    if (field == Field::kObs || field == Field::kState || field == Field::kReward) {
      const float* values = reinterpret_cast<const float*>(row);
      for (int64_t j = 0; j < n; ++j) {
        if (!std::isfinite(values[j])) return bad(j, absl::StrCat("non-finite value ", values[j]));
      }
    } else if (field == Field::kActions) {
      const int32_t* values = reinterpret_cast<const int32_t*>(row);
      for (int64_t j = 0; j < n; ++j) {
        if (values[j] < 0 || values[j] >= spec().action_size()) {
          return bad(
              j, absl::StrCat("action ", values[j], " outside [0, ", spec().action_size(), ")"));
        }
      }
    } else {
      const uint8_t* values = reinterpret_cast<const uint8_t*>(row);
      for (int64_t j = 0; j < n; ++j) {
        if (values[j] > 1) {
          return bad(j, absl::StrCat("value ", static_cast<int>(values[j]), " is not 0 or 1"));
        }
      }
    }
    return absl::OkStatus();
  }

  std::string path_;
  H5Id file_;
  H5Key keys_[7];
  int64_t episodes_ = 0, entries_ = 0;
  std::vector<int64_t> lengths_;  // steps of each episode
  std::unique_ptr<TransitionSchema> schema_;
};

}  // namespace

bool LooksLikeCfcqlDataset(const std::string& path) { return HasForeignLayout(path, kKeys); }

absl::StatusOr<std::unique_ptr<OfflineDataSource>> OpenCfcqlDataset(const std::string& path,
                                                                    const std::string& env_name) {
  return CfcqlDataSource::Open(path, env_name);
}

std::optional<CfcqlFileName> ParseCfcqlFileName(const std::string& path) {
  static const std::regex pattern(R"(^([A-Za-z0-9_]+?)_(medium_replay|medium|expert|mixed)\.h5$)");
  std::smatch match;
  const std::string file = std::filesystem::path(path).filename().string();
  if (!std::regex_match(file, match, pattern)) return std::nullopt;
  std::string quality = match[2].str();
  if (quality == "medium_replay") quality = "medium-replay";
  return CfcqlFileName{absl::StrCat("smac/", match[1].str()), quality};
}

}  // namespace tandem
