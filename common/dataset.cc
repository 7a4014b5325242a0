#include "common/dataset.h"

#include <fcntl.h>
#include <hdf5.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <limits>
#include <utility>

#include "absl/strings/str_cat.h"
#include "common/cfcql_dataset.h"
#include "common/hdf5_util.h"
#include "common/omiga_dataset.h"
#include "common/status_macros.h"
#include "common/tensor_proto.h"

namespace tandem {
namespace {

constexpr char kFormat[] = "tandem-dataset";
constexpr int64_t kFormatVersion = 1;

hid_t MemType(DType dtype) {
  switch (dtype) {
    case DTYPE_FLOAT32:
      return H5T_NATIVE_FLOAT;
    case DTYPE_INT32:
      return H5T_NATIVE_INT32;
    case DTYPE_UINT8:
      return H5T_NATIVE_UINT8;
    case DTYPE_INT64:
      return H5T_NATIVE_INT64;
    case DTYPE_FLOAT64:
      return H5T_NATIVE_DOUBLE;
    default:
      return H5T_NATIVE_UINT8;
  }
}

hid_t FileType(DType dtype) {
  switch (dtype) {
    case DTYPE_FLOAT32:
      return H5T_IEEE_F32LE;
    case DTYPE_INT32:
      return H5T_STD_I32LE;
    case DTYPE_INT64:
      return H5T_STD_I64LE;
    case DTYPE_FLOAT64:
      return H5T_IEEE_F64LE;
    default:
      return H5T_STD_U8LE;
  }
}

bool TypeMatches(hid_t type, DType dtype) {
  const H5T_class_t cls = H5Tget_class(type);
  const size_t size = H5Tget_size(type);
  switch (dtype) {
    case DTYPE_FLOAT32:
      return cls == H5T_FLOAT && size == 4;
    case DTYPE_FLOAT64:
      return cls == H5T_FLOAT && size == 8;
    case DTYPE_INT32:
      return cls == H5T_INTEGER && size == 4 && H5Tget_sign(type) == H5T_SGN_2;
    case DTYPE_INT64:
      return cls == H5T_INTEGER && size == 8 && H5Tget_sign(type) == H5T_SGN_2;
    case DTYPE_UINT8:
      return cls == H5T_INTEGER && size == 1 && H5Tget_sign(type) == H5T_SGN_NONE;
    default:
      return false;
  }
}

absl::Status WriteStringAttr(hid_t object, const char* name, const std::string& value) {
  H5Id type(H5Tcopy(H5T_C_S1), H5Tclose);
  H5Tset_size(type.get(), H5T_VARIABLE);
  H5Tset_cset(type.get(), H5T_CSET_UTF8);
  H5Id space(H5Screate(H5S_SCALAR), H5Sclose);
  H5Id attr(H5Acreate2(object, name, type.get(), space.get(), H5P_DEFAULT, H5P_DEFAULT), H5Aclose);
  const char* data = value.c_str();
  if (!attr.ok() || H5Awrite(attr.get(), type.get(), &data) < 0) {
    return absl::InternalError(absl::StrCat("cannot write attribute ", name));
  }
  return absl::OkStatus();
}

template <typename T>
absl::Status WriteNumberAttr(hid_t object, const char* name, T value) {
  const hid_t file_type = std::is_floating_point_v<T> ? H5T_IEEE_F64LE : H5T_STD_I64LE;
  const hid_t mem_type = std::is_floating_point_v<T> ? H5T_NATIVE_DOUBLE : H5T_NATIVE_INT64;
  using Stored = std::conditional_t<std::is_floating_point_v<T>, double, int64_t>;
  Stored stored = static_cast<Stored>(value);
  H5Id space(H5Screate(H5S_SCALAR), H5Sclose);
  H5Id attr(H5Acreate2(object, name, file_type, space.get(), H5P_DEFAULT, H5P_DEFAULT), H5Aclose);
  if (!attr.ok() || H5Awrite(attr.get(), mem_type, &stored) < 0) {
    return absl::InternalError(absl::StrCat("cannot write attribute ", name));
  }
  return absl::OkStatus();
}

absl::Status WriteIntArrayAttr(hid_t object, const char* name, const std::vector<int32_t>& values) {
  hsize_t dims[1] = {values.size()};
  H5Id space(values.empty() ? H5Screate(H5S_NULL) : H5Screate_simple(1, dims, nullptr), H5Sclose);
  H5Id attr(H5Acreate2(object, name, H5T_STD_I32LE, space.get(), H5P_DEFAULT, H5P_DEFAULT),
            H5Aclose);
  if (!attr.ok() ||
      (!values.empty() && H5Awrite(attr.get(), H5T_NATIVE_INT32, values.data()) < 0)) {
    return absl::InternalError(absl::StrCat("cannot write attribute ", name));
  }
  return absl::OkStatus();
}

// Reads attribute `name` of the file's root; errors name the file and attribute.
class AttrReader {
 public:
  AttrReader(hid_t file, std::string path) : file_(file), path_(std::move(path)) {}

  absl::StatusOr<std::string> String(const char* name) const {
    ASSIGN_OR_RETURN(H5Id attr, OpenScalar(name));
    H5Id type(H5Aget_type(attr.get()), H5Tclose);
    if (H5Tget_class(type.get()) != H5T_STRING) return Bad(name, "is not a string");
    H5Id mem(H5Tcopy(H5T_C_S1), H5Tclose);
    H5Tset_cset(mem.get(), H5Tget_cset(type.get()));
    if (H5Tis_variable_str(type.get()) > 0) {
      H5Tset_size(mem.get(), H5T_VARIABLE);
      char* text = nullptr;
      if (H5Aread(attr.get(), mem.get(), &text) < 0 || text == nullptr) {
        return Bad(name, "cannot be read");
      }
      std::string value(text);
      H5free_memory(text);
      return value;
    }
    const size_t size = H5Tget_size(type.get());
    std::string value(size, '\0');
    H5Tset_size(mem.get(), size);
    if (H5Aread(attr.get(), mem.get(), value.data()) < 0) return Bad(name, "cannot be read");
    value.resize(std::strlen(value.c_str()));
    return value;
  }

  absl::StatusOr<int64_t> Int(const char* name) const {
    ASSIGN_OR_RETURN(H5Id attr, OpenScalar(name));
    H5Id type(H5Aget_type(attr.get()), H5Tclose);
    if (H5Tget_class(type.get()) != H5T_INTEGER) return Bad(name, "is not an integer");
    int64_t value = 0;
    if (H5Aread(attr.get(), H5T_NATIVE_INT64, &value) < 0) return Bad(name, "cannot be read");
    return value;
  }

  // An integer attribute that older files may lack: `fallback` when absent.
  absl::StatusOr<int64_t> IntOr(const char* name, int64_t fallback) const {
    if (H5Aexists(file_, name) <= 0) return fallback;
    return Int(name);
  }

  bool Has(const char* name) const { return H5Aexists(file_, name) > 0; }

  absl::StatusOr<double> Double(const char* name) const {
    ASSIGN_OR_RETURN(H5Id attr, OpenScalar(name));
    H5Id type(H5Aget_type(attr.get()), H5Tclose);
    const H5T_class_t type_class = H5Tget_class(type.get());
    if (type_class != H5T_FLOAT && type_class != H5T_INTEGER) return Bad(name, "is not a number");
    double value = 0;
    if (H5Aread(attr.get(), H5T_NATIVE_DOUBLE, &value) < 0) return Bad(name, "cannot be read");
    return value;
  }

  absl::StatusOr<std::vector<int32_t>> IntArray(const char* name) const {
    ASSIGN_OR_RETURN(H5Id attr, Open(name));
    H5Id space(H5Aget_space(attr.get()), H5Sclose);
    const hssize_t n = H5Sget_simple_extent_npoints(space.get());
    std::vector<int32_t> values(n > 0 ? n : 0);
    if (n > 0 && H5Aread(attr.get(), H5T_NATIVE_INT32, values.data()) < 0) {
      return Bad(name, "cannot be read");
    }
    return values;
  }

 private:
  absl::StatusOr<H5Id> Open(const char* name) const {
    if (H5Aexists(file_, name) <= 0) return Bad(name, "is missing");
    H5Id attr(H5Aopen(file_, name, H5P_DEFAULT), H5Aclose);
    if (!attr.ok()) return Bad(name, "cannot be opened");
    return attr;
  }
  // Open, for attributes read into one value: an array (or empty) attribute would be read past
  // that value's memory, so anything but exactly one element is refused.
  absl::StatusOr<H5Id> OpenScalar(const char* name) const {
    ASSIGN_OR_RETURN(H5Id attr, Open(name));
    H5Id space(H5Aget_space(attr.get()), H5Sclose);
    const hssize_t n = H5Sget_simple_extent_npoints(space.get());
    if (n != 1) return Bad(name, absl::StrCat("must hold one value, holds ", n));
    return attr;
  }
  absl::Status Bad(const char* name, absl::string_view problem) const {
    return absl::InvalidArgumentError(absl::StrCat(path_, ": attribute '", name, "' ", problem));
  }

  hid_t file_;
  std::string path_;
};

// Checks the values `ReadColumn` returns: finite floats, binary flags and masks, action indices.
absl::Status CheckValues(const std::string& path, const Column& column, const TransitionSpec& spec,
                         int64_t begin, int64_t count, const void* data) {
  const int64_t n = count * column.row_elements;
  auto where = [&](int64_t i) {
    return absl::StrCat(path, ": key '", FieldName(column.field), "' row ",
                        begin + i / column.row_elements);
  };
  if (column.dtype == DTYPE_FLOAT32) {
    const float* values = static_cast<const float*>(data);
    for (int64_t i = 0; i < n; ++i) {
      if (!std::isfinite(values[i])) {
        return absl::InvalidArgumentError(absl::StrCat(where(i), ": non-finite value ", values[i]));
      }
    }
  } else if (column.dtype == DTYPE_UINT8) {
    const uint8_t* values = static_cast<const uint8_t*>(data);
    for (int64_t i = 0; i < n; ++i) {
      if (values[i] > 1) {
        return absl::InvalidArgumentError(
            absl::StrCat(where(i), ": value ", static_cast<int>(values[i]), " is not 0 or 1"));
      }
    }
  } else if (column.dtype == DTYPE_INT32) {
    const int32_t* values = static_cast<const int32_t*>(data);
    for (int64_t i = 0; i < n; ++i) {
      if (values[i] < 0 || values[i] >= spec.action_size()) {
        return absl::InvalidArgumentError(absl::StrCat(where(i), ": action ", values[i],
                                                       " outside [0, ", spec.action_size(), ")"));
      }
    }
  }
  return absl::OkStatus();
}

class Hdf5DataSource : public OfflineDataSource {
 public:
  static absl::StatusOr<std::unique_ptr<OfflineDataSource>> Open(const std::string& path) {
    ASSIGN_OR_RETURN(H5Id file, OpenHdf5ForReading(path));
    AttrReader attrs(file.get(), path);
    if (!attrs.Has("format")) {
      // Foreign layouts Tandem knows: say how to bring them in.
      if (LooksLikeOmigaDataset(path)) {
        return absl::InvalidArgumentError(absl::StrCat(
            path,
            ": this is OMIGA's MA-MuJoCo layout (keys s, o, a, r, d), not Tandem's format: "
            "convert it with 'tandem dataset import-omiga ",
            path,
            " --out FILE.h5' (the replay server also reads it as dataset.format: "
            "FORMAT_OMIGA)"));
      }
      if (LooksLikeCfcqlDataset(path)) {
        return absl::InvalidArgumentError(absl::StrCat(
            path,
            ": this is CFCQL's SMAC episode layout, not Tandem's format: convert it with "
            "'tandem dataset import-cfcql ",
            path, " --out FILE.h5'"));
      }
    }
    ASSIGN_OR_RETURN(std::string format, attrs.String("format"));
    if (format != kFormat) {
      return absl::InvalidArgumentError(absl::StrCat(path, ": attribute 'format' is '", format,
                                                     "', expected '", kFormat,
                                                     "' (OMIGA files need importing first)"));
    }
    ASSIGN_OR_RETURN(int64_t version, attrs.Int("format_version"));
    if (version != kFormatVersion) {
      return absl::InvalidArgumentError(absl::StrCat(path, ": attribute 'format_version' is ",
                                                     version, ", this build reads ",
                                                     kFormatVersion));
    }
    TransitionSpec spec;
    ASSIGN_OR_RETURN(int64_t agents, attrs.Int("num_agents"));
    ASSIGN_OR_RETURN(int64_t obs, attrs.Int("obs_size"));
    ASSIGN_OR_RETURN(int64_t state, attrs.Int("state_size"));
    ASSIGN_OR_RETURN(std::string action_type, attrs.String("action_type"));
    ASSIGN_OR_RETURN(int64_t action_size, attrs.Int("action_size"));
    ASSIGN_OR_RETURN(int64_t has_avail, attrs.Int("has_avail_actions"));
    ASSIGN_OR_RETURN(std::vector<int32_t> agent_obs, attrs.IntArray("agent_obs_sizes"));
    ASSIGN_OR_RETURN(std::string env_name, attrs.String("env_name"));
    // Episode datasets (each row one padded episode); absent in transition datasets.
    ASSIGN_OR_RETURN(int64_t episode_steps, attrs.IntOr("episode_steps", 0));
    spec.set_episode_steps(static_cast<int32_t>(episode_steps));
    spec.set_num_agents(static_cast<int32_t>(agents));
    spec.set_obs_size(static_cast<int32_t>(obs));
    spec.set_state_size(static_cast<int32_t>(state));
    if (action_type == "continuous") {
      spec.set_action_type(ACTION_TYPE_CONTINUOUS);
    } else if (action_type == "discrete") {
      spec.set_action_type(ACTION_TYPE_DISCRETE);
    } else {
      return absl::InvalidArgumentError(absl::StrCat(
          path, ": attribute 'action_type' is '", action_type, "', expected continuous|discrete"));
    }
    spec.set_action_size(static_cast<int32_t>(action_size));
    spec.set_has_avail_actions(has_avail != 0);
    spec.mutable_agent_obs_sizes()->Assign(agent_obs.begin(), agent_obs.end());
    spec.set_env_name(env_name);
    auto schema = TransitionSchema::Create(spec);
    if (!schema.ok()) {
      return absl::InvalidArgumentError(absl::StrCat(path, ": ", schema.status().message()));
    }

    std::unique_ptr<Hdf5DataSource> source(new Hdf5DataSource(path, std::move(file), *schema));
    int64_t rows = -1;
    for (const Column& column : schema->columns()) {
      const std::string key(FieldName(column.field));
      if (H5Lexists(source->file_.get(), key.c_str(), H5P_DEFAULT) <= 0) {
        return absl::InvalidArgumentError(absl::StrCat(path, ": key '", key, "' is missing"));
      }
      H5Id dataset(H5Dopen2(source->file_.get(), key.c_str(), H5P_DEFAULT), H5Dclose);
      if (!dataset.ok()) {
        return absl::InvalidArgumentError(absl::StrCat(path, ": key '", key, "' is not a dataset"));
      }
      H5Id type(H5Dget_type(dataset.get()), H5Tclose);
      if (!TypeMatches(type.get(), column.dtype)) {
        return absl::InvalidArgumentError(absl::StrCat(path, ": key '", key, "' has dtype ",
                                                       DescribeH5Type(type.get()), ", expected ",
                                                       DTypeName(column.dtype)));
      }
      H5Id space(H5Dget_space(dataset.get()), H5Sclose);
      const int rank = H5Sget_simple_extent_ndims(space.get());
      std::vector<hsize_t> dims(rank > 0 ? rank : 0);
      if (rank > 0) H5Sget_simple_extent_dims(space.get(), dims.data(), nullptr);
      std::vector<int64_t> want = {rows < 0 ? -1 : rows};
      want.insert(want.end(), column.row_shape.begin(), column.row_shape.end());
      bool ok = rank == static_cast<int>(want.size());
      for (int d = 0; ok && d < rank; ++d) {
        ok = want[d] < 0 || static_cast<int64_t>(dims[d]) == want[d];
      }
      if (!ok) {
        std::string got, expected;
        for (int d = 0; d < rank; ++d) absl::StrAppend(&got, d ? ", " : "", dims[d]);
        for (size_t d = 0; d < want.size(); ++d) {
          absl::StrAppend(&expected, d ? ", " : "",
                          want[d] < 0 ? std::string("T") : absl::StrCat(want[d]));
        }
        return absl::InvalidArgumentError(absl::StrCat(path, ": key '", key, "' has shape [", got,
                                                       "], expected [", expected, "] for ",
                                                       DescribeSpec(spec)));
      }
      rows = static_cast<int64_t>(dims[0]);
      source->datasets_[static_cast<int>(column.field)] = std::move(dataset);
    }
    if (rows < 1) return absl::InvalidArgumentError(absl::StrCat(path, ": holds no transitions"));
    source->size_ = rows;
    if (spec.episode_steps() > 0 && H5Lexists(source->file_.get(), "won", H5P_DEFAULT) > 0) {
      H5Id won(H5Dopen2(source->file_.get(), "won", H5P_DEFAULT), H5Dclose);
      H5Id type(won.ok() ? H5Dget_type(won.get()) : H5I_INVALID_HID, H5Tclose);
      H5Id space(won.ok() ? H5Dget_space(won.get()) : H5I_INVALID_HID, H5Sclose);
      hsize_t dims[1] = {0};
      const bool one_dim = space.ok() && H5Sget_simple_extent_ndims(space.get()) == 1 &&
                           H5Sget_simple_extent_dims(space.get(), dims, nullptr) == 1;
      if (!type.ok() || !TypeMatches(type.get(), DTYPE_UINT8) || !one_dim ||
          dims[0] != static_cast<hsize_t>(rows)) {
        return absl::InvalidArgumentError(
            absl::StrCat(path, ": key 'won' must be uint8 [", rows, "] (one flag per episode)"));
      }
      source->won_ = std::move(won);
    }
    return std::unique_ptr<OfflineDataSource>(std::move(source));
  }

  const TransitionSpec& spec() const override { return schema_.spec(); }
  int64_t size() const override { return size_; }
  std::string description() const override { return path_; }

  absl::Status ReadColumn(Field field, int64_t begin, int64_t count, void* out) override {
    ASSIGN_OR_RETURN(const Column* column,
                     ColumnToRead(schema_, field, begin, count, size_, path_));
    if (count == 0) return absl::OkStatus();
    const H5Id& dataset = datasets_[static_cast<int>(field)];
    const int rank = 1 + static_cast<int>(column->row_shape.size());
    std::vector<hsize_t> start(rank, 0), extent(rank);
    start[0] = static_cast<hsize_t>(begin);
    extent[0] = static_cast<hsize_t>(count);
    for (int d = 1; d < rank; ++d) extent[d] = static_cast<hsize_t>(column->row_shape[d - 1]);
    H5Id file_space(H5Dget_space(dataset.get()), H5Sclose);
    H5Sselect_hyperslab(file_space.get(), H5S_SELECT_SET, start.data(), nullptr, extent.data(),
                        nullptr);
    H5Id mem_space(H5Screate_simple(rank, extent.data(), nullptr), H5Sclose);
    if (H5Dread(dataset.get(), MemType(column->dtype), mem_space.get(), file_space.get(),
                H5P_DEFAULT, out) < 0) {
      return absl::DataLossError(absl::StrCat(path_, ": key '", FieldName(field),
                                              "': read failed (truncated or corrupt file)"));
    }
    return CheckValues(path_, *column, schema_.spec(), begin, count, out);
  }

  absl::StatusOr<bool> ReadWon(int64_t begin, int64_t count, uint8_t* won) override {
    if (!won_.ok()) return false;
    RETURN_IF_ERROR(CheckRows(begin, count, size_, path_));
    if (count == 0) return true;
    hsize_t start[1] = {static_cast<hsize_t>(begin)}, extent[1] = {static_cast<hsize_t>(count)};
    H5Id file_space(H5Dget_space(won_.get()), H5Sclose);
    H5Sselect_hyperslab(file_space.get(), H5S_SELECT_SET, start, nullptr, extent, nullptr);
    H5Id mem_space(H5Screate_simple(1, extent, nullptr), H5Sclose);
    if (H5Dread(won_.get(), H5T_NATIVE_UINT8, mem_space.get(), file_space.get(), H5P_DEFAULT, won) <
        0) {
      return absl::DataLossError(
          absl::StrCat(path_, ": key 'won': read failed (truncated or corrupt file)"));
    }
    for (int64_t i = 0; i < count; ++i) {
      if (won[i] > 1) {
        return absl::InvalidArgumentError(absl::StrCat(path_, ": key 'won' row ", begin + i,
                                                       ": value ", static_cast<int>(won[i]),
                                                       " is not 0 or 1"));
      }
    }
    return true;
  }

 private:
  Hdf5DataSource(std::string path, H5Id file, TransitionSchema schema)
      : path_(std::move(path)), file_(std::move(file)), schema_(std::move(schema)) {}

  std::string path_;
  H5Id file_;
  TransitionSchema schema_;
  int64_t size_ = 0;
  H5Id datasets_[kNumFields];
  H5Id won_;  // /won, when the file records outcomes
};

}  // namespace

absl::StatusOr<std::unique_ptr<OfflineDataSource>> OpenTandemDataset(const std::string& path) {
  return Hdf5DataSource::Open(path);
}

absl::StatusOr<DatasetMetadata> ReadDatasetMetadata(const std::string& path) {
  ASSIGN_OR_RETURN(H5Id file, OpenHdf5ForReading(path));
  AttrReader attrs(file.get(), path);
  DatasetMetadata metadata;
  ASSIGN_OR_RETURN(metadata.env_name, attrs.String("env_name"));
  ASSIGN_OR_RETURN(metadata.env_options, attrs.String("env_options"));
  ASSIGN_OR_RETURN(metadata.obs_mode, attrs.String("obs_mode"));
  ASSIGN_OR_RETURN(metadata.quality, attrs.String("quality"));
  ASSIGN_OR_RETURN(metadata.behaviour_policy, attrs.String("behaviour_policy"));
  ASSIGN_OR_RETURN(metadata.source, attrs.String("source"));
  for (auto [name, value] : {std::pair{"reference_random_return", &metadata.random_return},
                             std::pair{"reference_expert_return", &metadata.expert_return}}) {
    if (!attrs.Has(name)) continue;
    ASSIGN_OR_RETURN(double reference, attrs.Double(name));
    if (!std::isfinite(reference)) {
      return absl::InvalidArgumentError(
          absl::StrCat(path, ": attribute '", name, "' is not finite"));
    }
    *value = reference;
  }
  return metadata;
}

absl::StatusOr<DatasetStats> ReadDatasetStats(const std::string& path) {
  ASSIGN_OR_RETURN(H5Id file, OpenHdf5ForReading(path));
  AttrReader attrs(file.get(), path);
  DatasetStats stats;
  ASSIGN_OR_RETURN(stats.num_transitions, attrs.Int("num_transitions"));
  ASSIGN_OR_RETURN(stats.num_episodes, attrs.Int("num_episodes"));
  ASSIGN_OR_RETURN(stats.return_mean, attrs.Double("return_mean"));
  ASSIGN_OR_RETURN(stats.return_std, attrs.Double("return_std"));
  ASSIGN_OR_RETURN(stats.return_min, attrs.Double("return_min"));
  ASSIGN_OR_RETURN(stats.return_max, attrs.Double("return_max"));
  if (attrs.Has("win_rate")) {
    ASSIGN_OR_RETURN(double win_rate, attrs.Double("win_rate"));
    stats.win_rate = win_rate;
  }
  return stats;
}

struct DatasetWriter::Impl {
  explicit Impl(TransitionSchema schema) : schema(std::move(schema)) {}
  std::string path;
  std::string tmp_path;
  TransitionSchema schema;
  DatasetMetadata metadata;
  H5Id file;
  H5Id datasets[kNumFields];
  int64_t rows = 0;
  std::vector<int64_t> episode_ends;
  std::vector<double> episode_returns;
  // Episode datasets: each row's outcome, while every Append gave them.
  std::vector<uint8_t> won;
  bool outcomes = true;
  double current_return = 0;
  // Env steps appended: rows for transitions, the episodes' lengths for episode rows.
  int64_t steps = 0;
  bool finished = false;
};

DatasetWriter::DatasetWriter(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

DatasetWriter::~DatasetWriter() {
  if (impl_ != nullptr && !impl_->finished) {
    for (H5Id& dataset : impl_->datasets) dataset.Reset();
    impl_->file.Reset();
    std::remove(impl_->tmp_path.c_str());
  }
}

absl::StatusOr<std::unique_ptr<DatasetWriter>> DatasetWriter::Create(
    const std::string& path, const TransitionSpec& spec, const DatasetMetadata& metadata) {
  SilenceHdf5();
  ASSIGN_OR_RETURN(TransitionSchema schema, TransitionSchema::Create(spec));
  auto impl = std::make_unique<Impl>(schema);
  impl->path = path;
  impl->tmp_path = path + ".tmp";
  impl->metadata = metadata;
  impl->file =
      H5Id(H5Fcreate(impl->tmp_path.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT), H5Fclose);
  if (!impl->file.ok()) {
    return absl::PermissionDeniedError(absl::StrCat(impl->tmp_path, ": cannot create file"));
  }
  for (const Column& column : schema.columns()) {
    const int rank = 1 + static_cast<int>(column.row_shape.size());
    std::vector<hsize_t> dims(rank, 0), max_dims(rank), chunk(rank);
    max_dims[0] = H5S_UNLIMITED;
    chunk[0] = static_cast<hsize_t>(
        std::max<int64_t>(1, std::min<int64_t>(4096, (1 << 20) / column.row_bytes)));
    for (int d = 1; d < rank; ++d) {
      dims[d] = max_dims[d] = chunk[d] = static_cast<hsize_t>(column.row_shape[d - 1]);
    }
    H5Id space(H5Screate_simple(rank, dims.data(), max_dims.data()), H5Sclose);
    H5Id properties(H5Pcreate(H5P_DATASET_CREATE), H5Pclose);
    H5Pset_chunk(properties.get(), rank, chunk.data());
    H5Id dataset(
        H5Dcreate2(impl->file.get(), std::string(FieldName(column.field)).c_str(),
                   FileType(column.dtype), space.get(), H5P_DEFAULT, properties.get(), H5P_DEFAULT),
        H5Dclose);
    if (!dataset.ok()) {
      return absl::InternalError(
          absl::StrCat(impl->tmp_path, ": cannot create key '", FieldName(column.field), "'"));
    }
    impl->datasets[static_cast<int>(column.field)] = std::move(dataset);
  }
  return std::unique_ptr<DatasetWriter>(new DatasetWriter(std::move(impl)));
}

absl::Status DatasetWriter::Append(const TransitionBatch& batch, const std::vector<uint8_t>* won) {
  if (impl_->finished) return absl::FailedPreconditionError("dataset writer already finished");
  ASSIGN_OR_RETURN(int64_t t, impl_->schema.Validate(batch));
  if (won != nullptr) {
    if (!impl_->schema.episodic()) {
      return absl::InvalidArgumentError(absl::StrCat(
          impl_->path, ": episode outcomes given for a transition dataset (only episode rows)"));
    }
    if (static_cast<int64_t>(won->size()) != t) {
      return absl::InvalidArgumentError(
          absl::StrCat(impl_->path, ": ", won->size(), " episode outcomes for ", t, " episodes"));
    }
    for (uint8_t w : *won) {
      if (w > 1) {
        return absl::InvalidArgumentError(
            absl::StrCat(impl_->path, ": episode outcome ", static_cast<int>(w), " is not 0 or 1"));
      }
    }
  }
  for (const Column& column : impl_->schema.columns()) {
    const H5Id& dataset = impl_->datasets[static_cast<int>(column.field)];
    const int rank = 1 + static_cast<int>(column.row_shape.size());
    std::vector<hsize_t> new_dims(rank), start(rank, 0), extent(rank);
    new_dims[0] = static_cast<hsize_t>(impl_->rows + t);
    start[0] = static_cast<hsize_t>(impl_->rows);
    extent[0] = static_cast<hsize_t>(t);
    for (int d = 1; d < rank; ++d) {
      new_dims[d] = extent[d] = static_cast<hsize_t>(column.row_shape[d - 1]);
    }
    if (H5Dset_extent(dataset.get(), new_dims.data()) < 0) {
      return absl::InternalError(
          absl::StrCat(impl_->tmp_path, ": cannot extend key '", FieldName(column.field), "'"));
    }
    H5Id file_space(H5Dget_space(dataset.get()), H5Sclose);
    H5Sselect_hyperslab(file_space.get(), H5S_SELECT_SET, start.data(), nullptr, extent.data(),
                        nullptr);
    H5Id mem_space(H5Screate_simple(rank, extent.data(), nullptr), H5Sclose);
    if (H5Dwrite(dataset.get(), MemType(column.dtype), mem_space.get(), file_space.get(),
                 H5P_DEFAULT, GetField(batch, column.field).data().data()) < 0) {
      return absl::InternalError(absl::StrCat(impl_->tmp_path, ": cannot write key '",
                                              FieldName(column.field), "' (disk full?)"));
    }
  }
  const char* reward = batch.reward().data().data();
  if (impl_->schema.episodic()) {
    // Every row is one whole episode: its return over the steps, its length from `filled`.
    const int64_t l = impl_->schema.spec().episode_steps();
    const std::string& filled = batch.filled().data();
    for (int64_t i = 0; i < t; ++i) {
      double episode_return = 0;
      int64_t entries = 0;
      for (int64_t j = 0; j < l; ++j) {
        float r;
        std::memcpy(&r, reward + 4 * (i * l + j), 4);
        episode_return += r;
        entries += static_cast<uint8_t>(filled[i * l + j]);
      }
      impl_->steps += entries - 1;
      impl_->episode_ends.push_back(impl_->rows + i + 1);
      impl_->episode_returns.push_back(episode_return);
    }
    if (won == nullptr) {
      impl_->outcomes = false;
      impl_->won.clear();
    } else if (impl_->outcomes) {
      impl_->won.insert(impl_->won.end(), won->begin(), won->end());
    }
    impl_->rows += t;
    return absl::OkStatus();
  }
  const std::string& terminated = batch.terminated().data();
  const std::string& truncated = batch.truncated().data();
  for (int64_t i = 0; i < t; ++i) {
    float r;
    std::memcpy(&r, reward + 4 * i, 4);
    impl_->current_return += r;
    if (terminated[i] != 0 || truncated[i] != 0) {
      impl_->episode_ends.push_back(impl_->rows + i + 1);
      impl_->episode_returns.push_back(impl_->current_return);
      impl_->current_return = 0;
    }
  }
  impl_->rows += t;
  impl_->steps += t;
  return absl::OkStatus();
}

const TransitionSpec& DatasetWriter::spec() const { return impl_->schema.spec(); }

DatasetStats DatasetWriter::stats() const {
  DatasetStats stats;
  stats.num_transitions = impl_->steps;
  stats.num_episodes = static_cast<int64_t>(impl_->episode_returns.size());
  if (stats.num_episodes == 0) return stats;
  double sum = 0, sum_sq = 0;
  stats.return_min = std::numeric_limits<double>::infinity();
  stats.return_max = -std::numeric_limits<double>::infinity();
  for (double r : impl_->episode_returns) {
    sum += r;
    sum_sq += r * r;
    stats.return_min = std::min(stats.return_min, r);
    stats.return_max = std::max(stats.return_max, r);
  }
  stats.return_mean = sum / stats.num_episodes;
  if (impl_->schema.episodic() && impl_->outcomes) {
    int64_t wins = 0;
    for (uint8_t w : impl_->won) wins += w;
    stats.win_rate = static_cast<double>(wins) / stats.num_episodes;
  }
  stats.return_std =
      std::sqrt(std::max(0.0, sum_sq / stats.num_episodes - stats.return_mean * stats.return_mean));
  return stats;
}

absl::Status DatasetWriter::Finish() {
  if (impl_->finished) return absl::FailedPreconditionError("dataset writer already finished");
  if (impl_->rows == 0) {
    return absl::FailedPreconditionError(absl::StrCat(impl_->path, ": no transitions appended"));
  }
  const hid_t root = impl_->file.get();
  hsize_t episodes[1] = {impl_->episode_ends.size()};
  H5Id space(episodes[0] == 0 ? H5Screate(H5S_NULL) : H5Screate_simple(1, episodes, nullptr),
             H5Sclose);
  H5Id ends(H5Dcreate2(root, "episode_ends", H5T_STD_I64LE, space.get(), H5P_DEFAULT, H5P_DEFAULT,
                       H5P_DEFAULT),
            H5Dclose);
  if (!ends.ok() || (episodes[0] > 0 && H5Dwrite(ends.get(), H5T_NATIVE_INT64, H5S_ALL, H5S_ALL,
                                                 H5P_DEFAULT, impl_->episode_ends.data()) < 0)) {
    return absl::InternalError(absl::StrCat(impl_->tmp_path, ": cannot write episode_ends"));
  }
  const DatasetStats s = stats();
  H5Id won;
  if (s.win_rate.has_value()) {
    hsize_t rows[1] = {impl_->won.size()};
    H5Id won_space(H5Screate_simple(1, rows, nullptr), H5Sclose);
    won = H5Id(H5Dcreate2(root, "won", H5T_STD_U8LE, won_space.get(), H5P_DEFAULT, H5P_DEFAULT,
                          H5P_DEFAULT),
               H5Dclose);
    if (!won.ok() ||
        H5Dwrite(won.get(), H5T_NATIVE_UINT8, H5S_ALL, H5S_ALL, H5P_DEFAULT, impl_->won.data()) <
            0 ||
        !WriteNumberAttr(root, "win_rate", *s.win_rate).ok()) {
      return absl::InternalError(absl::StrCat(impl_->tmp_path, ": cannot write won"));
    }
  }
  const TransitionSpec& spec = impl_->schema.spec();
  const DatasetMetadata& m = impl_->metadata;
  for (auto [name, value] : {std::pair{"reference_random_return", m.random_return},
                             std::pair{"reference_expert_return", m.expert_return}}) {
    if (value.has_value() && !WriteNumberAttr(root, name, *value).ok()) {
      return absl::InternalError(absl::StrCat(impl_->tmp_path, ": cannot write ", name));
    }
  }
  std::vector<int32_t> agent_obs(spec.agent_obs_sizes().begin(), spec.agent_obs_sizes().end());
  for (absl::Status status : {
           WriteStringAttr(root, "format", kFormat),
           WriteNumberAttr(root, "format_version", kFormatVersion),
           WriteNumberAttr(root, "num_agents", spec.num_agents()),
           WriteNumberAttr(root, "obs_size", spec.obs_size()),
           WriteIntArrayAttr(root, "agent_obs_sizes", agent_obs),
           WriteNumberAttr(root, "state_size", spec.state_size()),
           WriteStringAttr(root, "action_type",
                           spec.action_type() == ACTION_TYPE_DISCRETE ? "discrete" : "continuous"),
           WriteNumberAttr(root, "action_size", spec.action_size()),
           WriteNumberAttr(root, "has_avail_actions", spec.has_avail_actions() ? 1 : 0),
           WriteNumberAttr(root, "episode_steps", spec.episode_steps()),
           WriteStringAttr(root, "env_name", m.env_name.empty() ? spec.env_name() : m.env_name),
           WriteStringAttr(root, "env_options", m.env_options),
           WriteStringAttr(root, "obs_mode", m.obs_mode),
           WriteStringAttr(root, "quality", m.quality),
           WriteStringAttr(root, "behaviour_policy", m.behaviour_policy),
           WriteStringAttr(root, "source", m.source),
           WriteNumberAttr(root, "num_transitions", s.num_transitions),
           WriteNumberAttr(root, "num_episodes", s.num_episodes),
           WriteNumberAttr(root, "return_mean", s.return_mean),
           WriteNumberAttr(root, "return_std", s.return_std),
           WriteNumberAttr(root, "return_min", s.return_min),
           WriteNumberAttr(root, "return_max", s.return_max),
       }) {
    if (!status.ok())
      return absl::InternalError(absl::StrCat(impl_->tmp_path, ": ", status.message()));
  }
  ends.Reset();
  won.Reset();
  for (H5Id& dataset : impl_->datasets) dataset.Reset();
  if (H5Fclose(impl_->file.Release()) < 0) {
    return absl::InternalError(absl::StrCat(impl_->tmp_path, ": close failed (disk full?)"));
  }
  const int fd = open(impl_->tmp_path.c_str(), O_RDONLY);
  if (fd < 0 || fsync(fd) != 0) {
    if (fd >= 0) close(fd);
    return absl::InternalError(absl::StrCat(impl_->tmp_path, ": fsync failed"));
  }
  close(fd);
  if (std::rename(impl_->tmp_path.c_str(), impl_->path.c_str()) != 0) {
    return absl::InternalError(
        absl::StrCat("cannot rename ", impl_->tmp_path, " to ", impl_->path));
  }
  impl_->finished = true;
  return absl::OkStatus();
}

absl::Status AppendAll(OfflineDataSource& source, const TransitionSpec& spec, DatasetWriter& writer,
                       int64_t chunk_rows) {
  if (!TransitionSchema::Compatible(source.spec(), spec)) {
    return absl::InvalidArgumentError(absl::StrCat(source.description(), " holds ",
                                                   DescribeSpec(source.spec()), ", not ",
                                                   DescribeSpec(spec)));
  }
  ASSIGN_OR_RETURN(TransitionSchema schema, TransitionSchema::Create(spec));
  TransitionBatch batch;
  std::vector<uint8_t> won;
  for (int64_t begin = 0; begin < source.size(); begin += chunk_rows) {
    const int64_t count = std::min(chunk_rows, source.size() - begin);
    batch.Clear();
    schema.Allocate(count, &batch);
    for (const Column& column : schema.columns()) {
      RETURN_IF_ERROR(source.ReadColumn(
          column.field, begin, count, MutableField(&batch, column.field)->mutable_data()->data()));
    }
    won.assign(count, 0);
    ASSIGN_OR_RETURN(bool has_outcomes, source.ReadWon(begin, count, won.data()));
    RETURN_IF_ERROR(writer.Append(batch, has_outcomes ? &won : nullptr));
  }
  return absl::OkStatus();
}

absl::Status MergeDatasets(const std::vector<std::string>& inputs, const std::string& path,
                           const TransitionSpec& spec, const DatasetMetadata& metadata) {
  ASSIGN_OR_RETURN(auto writer, DatasetWriter::Create(path, spec, metadata));
  for (const std::string& input : inputs) {
    ASSIGN_OR_RETURN(std::unique_ptr<OfflineDataSource> source, OpenTandemDataset(input));
    RETURN_IF_ERROR(AppendAll(*source, spec, *writer));
  }
  return writer->Finish();
}

}  // namespace tandem
