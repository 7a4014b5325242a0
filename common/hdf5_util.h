// HDF5 helpers shared by the dataset readers and writers (Tandem's format, OMIGA import). Internal
// to tandem_dataset.
#ifndef TANDEM_COMMON_HDF5_UTIL_H_
#define TANDEM_COMMON_HDF5_UTIL_H_

#include <hdf5.h>
#include <unistd.h>

#include <string>
#include <utility>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"

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

}  // namespace tandem

#endif  // TANDEM_COMMON_HDF5_UTIL_H_
