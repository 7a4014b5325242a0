#include "common/omiga_dataset.h"

#include <hdf5.h>
#include <unistd.h>

#include <algorithm>
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

using Key = H5Key;

// Opens an OMIGA key, which holds floats.
absl::StatusOr<Key> OpenKey(hid_t file, const std::string& path, const char* name) {
  ASSIGN_OR_RETURN(Key key, OpenH5Key(file, path, name, "OMIGA files hold s, o, a, r, d"));
  if (key.type_class != H5T_FLOAT) {
    return absl::InvalidArgumentError(absl::StrCat(path, ": key '", name, "' has dtype ",
                                                   key.type_name, ", expected float32 or float64"));
  }
  return key;
}

std::string Shape(const std::vector<hsize_t>& dims) { return ShapeText(dims); }

// Reads rows [begin, begin + count) of `key` as float (HDF5 converts float64).
absl::Status ReadRows(const Key& key, const std::string& path, const char* name, int64_t begin,
                      int64_t count, float* out) {
  return ReadH5Rows(key, path, name, begin, count, H5T_NATIVE_FLOAT, out);
}

class OmigaDataSource : public OfflineDataSource {
 public:
  static absl::StatusOr<std::unique_ptr<OfflineDataSource>> Open(const std::string& path) {
    std::unique_ptr<OmigaDataSource> source(new OmigaDataSource(path));
    ASSIGN_OR_RETURN(source->file_, OpenHdf5ForReading(path));
    const hid_t file = source->file_.get();
    ASSIGN_OR_RETURN(source->s_, OpenKey(file, path, "s"));
    ASSIGN_OR_RETURN(source->o_, OpenKey(file, path, "o"));
    ASSIGN_OR_RETURN(source->a_, OpenKey(file, path, "a"));
    ASSIGN_OR_RETURN(Key r, OpenKey(file, path, "r"));
    ASSIGN_OR_RETURN(Key d, OpenKey(file, path, "d"));
    const auto& o = source->o_.dims;
    const auto& s = source->s_.dims;
    const auto& a = source->a_.dims;
    if (o.size() != 3) {
      return absl::InvalidArgumentError(
          absl::StrCat(path, ": key 'o' has shape ", Shape(o), ", expected [N, n_agents, obs]"));
    }
    const hsize_t rows = o[0], agents = o[1];
    if (s.size() != 3 || s[0] != rows || s[1] != agents) {
      return absl::InvalidArgumentError(absl::StrCat(path, ": key 's' has shape ", Shape(s),
                                                     ", expected [", rows, ", ", agents,
                                                     ", state per agent]"));
    }
    if (a.size() != 3 || a[0] != rows || a[1] != agents) {
      return absl::InvalidArgumentError(absl::StrCat(path, ": key 'a' has shape ", Shape(a),
                                                     ", expected [", rows, ", ", agents, ", act]"));
    }
    for (const auto& [name, key] : {std::pair<const char*, const Key*>{"r", &r}, {"d", &d}}) {
      const bool ok = (key->dims.size() == 1 && key->dims[0] == rows) ||
                      (key->dims.size() == 2 && key->dims[0] == rows && key->dims[1] == 1);
      if (!ok) {
        return absl::InvalidArgumentError(absl::StrCat(path, ": key '", name, "' has shape ",
                                                       Shape(key->dims), ", expected [", rows,
                                                       ", 1] or [", rows, "]"));
      }
    }
    if (rows < 2) {
      return absl::InvalidArgumentError(
          absl::StrCat(path, ": holds ", rows, " rows, no transition"));
    }
    // Rewards and done flags are small: read them once; they decide which rows start transitions.
    source->rewards_.resize(rows);
    std::vector<float> done(rows);
    RETURN_IF_ERROR(ReadRows(r, path, "r", 0, rows, source->rewards_.data()));
    RETURN_IF_ERROR(ReadRows(d, path, "d", 0, rows, done.data()));
    source->done_.resize(rows);
    for (hsize_t t = 0; t < rows; ++t) {
      if (done[t] != 0.f && done[t] != 1.f) {
        return absl::InvalidArgumentError(
            absl::StrCat(path, ": key 'd' row ", t, ": value ", done[t], " is not 0 or 1"));
      }
      source->done_[t] = done[t] != 0.f;
    }
    for (hsize_t t = 0; t + 1 < rows; ++t) {
      if (!source->done_[t]) source->starts_.push_back(static_cast<int64_t>(t));
    }
    if (source->starts_.empty()) {
      return absl::InvalidArgumentError(absl::StrCat(path, ": every row is terminal (key 'd')"));
    }
    TransitionSpec spec;
    spec.set_num_agents(static_cast<int32_t>(agents));
    spec.set_obs_size(static_cast<int32_t>(o[2]));
    spec.set_state_size(static_cast<int32_t>(agents * s[2]));
    spec.set_action_type(ACTION_TYPE_CONTINUOUS);
    spec.set_action_size(static_cast<int32_t>(a[2]));
    for (hsize_t i = 0; i < agents; ++i) spec.add_agent_obs_sizes(static_cast<int32_t>(o[2]));
    if (auto name = ParseOmigaFileName(path)) {
      spec.set_env_name(absl::StrCat(name->env_name, "(obs_mode=omiga)"));
    }
    ASSIGN_OR_RETURN(TransitionSchema schema, TransitionSchema::Create(spec));
    source->schema_ = std::make_unique<TransitionSchema>(std::move(schema));
    return std::unique_ptr<OfflineDataSource>(std::move(source));
  }

  const TransitionSpec& spec() const override { return schema_->spec(); }
  int64_t size() const override { return static_cast<int64_t>(starts_.size()); }
  std::string description() const override { return absl::StrCat(path_, " (OMIGA format)"); }

  absl::Status ReadColumn(Field field, int64_t begin, int64_t count, void* out) override {
    ASSIGN_OR_RETURN(const Column* column,
                     ColumnToRead(*schema_, field, begin, count, size(), path_));
    if (count == 0) return absl::OkStatus();
    const int64_t first = starts_[begin], last = starts_[begin + count - 1];
    if (field == Field::kReward || field == Field::kTerminated || field == Field::kTruncated) {
      for (int64_t i = 0; i < count; ++i) {
        const int64_t t = starts_[begin + i];
        if (field == Field::kReward) {
          const float reward = rewards_[t];
          if (!std::isfinite(reward)) {
            return absl::InvalidArgumentError(
                absl::StrCat(path_, ": key 'r' row ", t, ": non-finite value ", reward));
          }
          static_cast<float*>(out)[i] = reward;
        } else {
          static_cast<uint8_t*>(out)[i] = field == Field::kTerminated ? done_[t + 1] : 0;
        }
      }
      return absl::OkStatus();
    }
    const Key* key = nullptr;
    const char* name = nullptr;
    int64_t shift = 0;  // 1 for next_* columns
    switch (field) {
      case Field::kObs:
        key = &o_, name = "o";
        break;
      case Field::kNextObs:
        key = &o_, name = "o", shift = 1;
        break;
      case Field::kState:
        key = &s_, name = "s";
        break;
      case Field::kNextState:
        key = &s_, name = "s", shift = 1;
        break;
      case Field::kActions:
        key = &a_, name = "a";
        break;
      default:
        return absl::InvalidArgumentError(
            absl::StrCat(path_, ": OMIGA files have no column '", FieldName(field), "'"));
    }
    // One contiguous read covering every needed row, then a gather (terminal rows are skipped).
    const int64_t row_floats = column->row_elements;
    const int64_t span = last - first + 1;
    buffer_.resize(span * row_floats);
    RETURN_IF_ERROR(ReadRows(*key, path_, name, first + shift, span, buffer_.data()));
    float* dst = static_cast<float*>(out);
    for (int64_t i = 0; i < count; ++i) {
      const float* src = buffer_.data() + (starts_[begin + i] - first) * row_floats;
      for (int64_t j = 0; j < row_floats; ++j) {
        if (!std::isfinite(src[j])) {
          return absl::InvalidArgumentError(absl::StrCat(path_, ": key '", name, "' row ",
                                                         starts_[begin + i] + shift,
                                                         ": non-finite value ", src[j]));
        }
      }
      std::memcpy(dst + i * row_floats, src, row_floats * sizeof(float));
    }
    return absl::OkStatus();
  }

 private:
  explicit OmigaDataSource(std::string path) : path_(std::move(path)) {}

  std::string path_;
  H5Id file_;
  Key s_, o_, a_;
  std::vector<float> rewards_;
  std::vector<uint8_t> done_;
  std::vector<int64_t> starts_;  // row t of each transition
  std::unique_ptr<TransitionSchema> schema_;
  std::vector<float> buffer_;
};

}  // namespace

bool LooksLikeOmigaDataset(const std::string& path) {
  constexpr const char* kKeys[] = {"s", "o", "a", "r", "d"};
  return HasForeignLayout(path, kKeys);
}

absl::StatusOr<std::unique_ptr<OfflineDataSource>> OpenOmigaDataset(const std::string& path) {
  return OmigaDataSource::Open(path);
}

std::optional<OmigaFileName> ParseOmigaFileName(const std::string& path) {
  static const std::regex pattern(
      R"(^(Ant|HalfCheetah|Hopper|Walker2d)-v2-([0-9]+x[0-9]+d?)-(expert|medium|medium-replay|medium-expert)\.hdf5$)");
  std::smatch match;
  const std::string file = std::filesystem::path(path).filename().string();
  if (!std::regex_match(file, match, pattern)) return std::nullopt;
  return OmigaFileName{absl::StrCat("mamujoco/", match[1].str(), "-", match[2].str()),
                       match[3].str()};
}

}  // namespace tandem
