// HDF5 helpers shared by the dataset readers and writers (Tandem's format, OMIGA and CFCQL
// imports). Internal to tandem_dataset.
#ifndef TANDEM_COMMON_HDF5_UTIL_H_
#define TANDEM_COMMON_HDF5_UTIL_H_

#include <hdf5.h>
#include <unistd.h>

#include <algorithm>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "common/transition_schema.h"

namespace tandem {

// Owns one HDF5 identifier and closes it with the matching H5*close.
class H5Id {
 public:
  H5Id() = default;
  H5Id(hid_t id, herr_t (*close)(hid_t)) : id_(id), close_(close) {}
  H5Id(H5Id&& other) noexcept : id_(std::exchange(other.id_, -1)), close_(other.close_) {}
  H5Id& operator=(H5Id&& other) noexcept {
    Reset();
    id_ = std::exchange(other.id_, -1);
    close_ = other.close_;
    return *this;
  }
  ~H5Id() { Reset(); }
  hid_t get() const { return id_; }
  bool ok() const { return id_ >= 0; }
  void Reset() {
    if (id_ >= 0 && close_ != nullptr) close_(id_);
    id_ = -1;
  }
  // Gives up ownership without closing.
  hid_t Release() { return std::exchange(id_, -1); }

 private:
  hid_t id_ = -1;
  herr_t (*close_)(hid_t) = nullptr;
};

// HDF5 prints its error stack to stderr by default; Tandem reports errors as statuses instead.
inline void SilenceHdf5() { H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr); }

// Name of an HDF5 datatype for messages, e.g. "float32", "uint8", "int64", "string".
inline std::string DescribeH5Type(hid_t type) {
  const size_t size = H5Tget_size(type);
  switch (H5Tget_class(type)) {
    case H5T_FLOAT:
      return absl::StrCat("float", 8 * size);
    case H5T_INTEGER:
      return absl::StrCat(H5Tget_sign(type) == H5T_SGN_NONE ? "uint" : "int", 8 * size);
    case H5T_ENUM:
      return "enum (e.g. numpy bool)";
    case H5T_STRING:
      return "string";
    default:
      return "compound or other";
  }
}

// Opens `path` read-only; the error names the file and says whether it is missing, not HDF5, or
// unreadable HDF5 (truncated, corrupt).
inline absl::StatusOr<H5Id> OpenHdf5ForReading(const std::string& path) {
  SilenceHdf5();
  if (access(path.c_str(), R_OK) != 0) {
    return absl::NotFoundError(absl::StrCat(path, ": dataset file not found or not readable"));
  }
  if (H5Fis_hdf5(path.c_str()) <= 0) {
    return absl::InvalidArgumentError(
        absl::StrCat(path, ": not an HDF5 file (or truncated/corrupt)"));
  }
  H5Id file(H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT), H5Fclose);
  if (!file.ok()) {
    return absl::InvalidArgumentError(absl::StrCat(path, ": cannot open (truncated or corrupt)"));
  }
  return file;
}

// Checks a read of rows [begin, begin + count) of a source of `size` rows at `path`: OUT_OF_RANGE
// when they are outside it.
inline absl::Status CheckRows(int64_t begin, int64_t count, int64_t size, const std::string& path) {
  if (begin < 0 || count < 0 || begin + count > size) {
    return absl::OutOfRangeError(
        absl::StrCat(path, ": rows [", begin, ", ", begin + count, ") outside [0, ", size, ")"));
  }
  return absl::OkStatus();
}

// The column a ReadColumn of `field` fills, after CheckRows: INVALID_ARGUMENT when the schema has
// no such column.
inline absl::StatusOr<const Column*> ColumnToRead(const TransitionSchema& schema, Field field,
                                                  int64_t begin, int64_t count, int64_t size,
                                                  const std::string& path) {
  const Column* column = schema.Find(field);
  if (column == nullptr) {
    return absl::InvalidArgumentError(
        absl::StrCat(path, ": the spec has no column '", FieldName(field), "'"));
  }
  if (absl::Status rows = CheckRows(begin, count, size, path); !rows.ok()) return rows;
  return column;
}

// Whether `path` is a readable HDF5 file without Tandem's `format` attribute that holds every key
// of `keys` (a foreign layout such as OMIGA's or CFCQL's).
template <typename Keys>
bool HasForeignLayout(const std::string& path, const Keys& keys) {
  SilenceHdf5();
  if (access(path.c_str(), R_OK) != 0 || H5Fis_hdf5(path.c_str()) <= 0) return false;
  H5Id file(H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT), H5Fclose);
  if (!file.ok() || H5Aexists(file.get(), "format") > 0) return false;
  for (const char* key : keys) {
    if (H5Lexists(file.get(), key, H5P_DEFAULT) <= 0) return false;
  }
  return true;
}

// One dataset (key) of a foreign file, opened with its shape.
struct H5Key {
  H5Id dataset;
  std::vector<hsize_t> dims;
  H5T_class_t type_class = H5T_NO_CLASS;
  std::string type_name;  // DescribeH5Type
};

// Opens key `name` of `file` (read from `path`). A missing key's error adds `layout`, the keys the
// format holds, e.g. "OMIGA files hold s, o, a, r, d".
inline absl::StatusOr<H5Key> OpenH5Key(hid_t file, const std::string& path, const char* name,
                                       const char* layout) {
  if (H5Lexists(file, name, H5P_DEFAULT) <= 0) {
    return absl::InvalidArgumentError(
        absl::StrCat(path, ": key '", name, "' is missing (", layout, ")"));
  }
  H5Key key;
  key.dataset = H5Id(H5Dopen2(file, name, H5P_DEFAULT), H5Dclose);
  if (!key.dataset.ok()) {
    return absl::InvalidArgumentError(absl::StrCat(path, ": key '", name, "' is not a dataset"));
  }
  H5Id type(H5Dget_type(key.dataset.get()), H5Tclose);
  key.type_class = H5Tget_class(type.get());
  key.type_name = DescribeH5Type(type.get());
  H5Id space(H5Dget_space(key.dataset.get()), H5Sclose);
  const int rank = H5Sget_simple_extent_ndims(space.get());
  key.dims.resize(std::max(rank, 0));
  if (rank > 0) H5Sget_simple_extent_dims(space.get(), key.dims.data(), nullptr);
  return key;
}

// "[2, 3, 4]".
inline std::string ShapeText(const std::vector<hsize_t>& dims) {
  std::string text = "[";
  for (size_t i = 0; i < dims.size(); ++i) absl::StrAppend(&text, i ? ", " : "", dims[i]);
  return text + "]";
}

// Reads rows [begin, begin + count) of `key` (every other dimension whole) into `out` as
// `mem_type`, which HDF5 converts to (float64 -> float, int64 -> int32, ...).
inline absl::Status ReadH5Rows(const H5Key& key, const std::string& path, const char* name,
                               int64_t begin, int64_t count, hid_t mem_type, void* out) {
  const int rank = static_cast<int>(key.dims.size());
  std::vector<hsize_t> start(rank, 0), extent(key.dims);
  start[0] = static_cast<hsize_t>(begin);
  extent[0] = static_cast<hsize_t>(count);
  H5Id file_space(H5Dget_space(key.dataset.get()), H5Sclose);
  H5Sselect_hyperslab(file_space.get(), H5S_SELECT_SET, start.data(), nullptr, extent.data(),
                      nullptr);
  H5Id mem_space(H5Screate_simple(rank, extent.data(), nullptr), H5Sclose);
  if (H5Dread(key.dataset.get(), mem_type, mem_space.get(), file_space.get(), H5P_DEFAULT, out) <
      0) {
    return absl::DataLossError(
        absl::StrCat(path, ": key '", name, "': read failed (truncated or corrupt file)"));
  }
  return absl::OkStatus();
}

}  // namespace tandem

#endif  // TANDEM_COMMON_HDF5_UTIL_H_
