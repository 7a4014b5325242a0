#include "common/tensor_proto.h"

#include <limits>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace tandem {

size_t DTypeSize(DType dtype) {
  switch (dtype) {
    case DTYPE_FLOAT32:
    case DTYPE_INT32:
      return 4;
    case DTYPE_FLOAT64:
    case DTYPE_INT64:
      return 8;
    case DTYPE_UINT8:
    case DTYPE_BOOL:
      return 1;
    default:
      return 0;
  }
}

absl::string_view DTypeName(DType dtype) {
  switch (dtype) {
    case DTYPE_FLOAT32:
      return "float32";
    case DTYPE_FLOAT64:
      return "float64";
    case DTYPE_INT32:
      return "int32";
    case DTYPE_INT64:
      return "int64";
    case DTYPE_UINT8:
      return "uint8";
    case DTYPE_BOOL:
      return "bool";
    default:
      return "unspecified";
  }
}

absl::StatusOr<int64_t> NumElements(absl::Span<const int64_t> shape) {
  int64_t count = 1;
  for (int64_t dim : shape) {
    if (dim < 0) return absl::InvalidArgumentError(absl::StrCat("negative dimension ", dim));
    if (dim != 0 && count > std::numeric_limits<int64_t>::max() / dim) {
      return absl::InvalidArgumentError("shape overflows int64");
    }
    count *= dim;
  }
  return count;
}

std::string DescribeTensor(const Tensor& tensor) {
  return absl::StrCat(DTypeName(tensor.dtype()), "[", absl::StrJoin(tensor.shape(), ", "), "]");
}

absl::Status ValidateTensor(const Tensor& tensor, absl::string_view name) {
  const size_t item_size = DTypeSize(tensor.dtype());
  if (item_size == 0) {
    return absl::InvalidArgumentError(absl::StrCat(name, ": dtype is unspecified or unknown (",
                                                   static_cast<int>(tensor.dtype()), ")"));
  }
  auto count = NumElements(tensor.shape());
  if (!count.ok()) {
    return absl::InvalidArgumentError(absl::StrCat(name, ": ", count.status().message()));
  }
  const uint64_t expected = static_cast<uint64_t>(*count);
  if (expected > std::numeric_limits<uint64_t>::max() / item_size ||
      expected * item_size != tensor.data().size()) {
    return absl::InvalidArgumentError(absl::StrCat(name, ": ", DescribeTensor(tensor), " needs ",
                                                   expected, " x ", item_size, " bytes, got ",
                                                   tensor.data().size()));
  }
  return absl::OkStatus();
}

absl::Status ExpectTensor(const Tensor& tensor, absl::string_view name, DType dtype,
                          absl::Span<const int64_t> shape) {
  if (tensor.dtype() != dtype) {
    return absl::InvalidArgumentError(absl::StrCat(name, ": expected dtype ", DTypeName(dtype),
                                                   ", got ", DescribeTensor(tensor)));
  }
  bool shape_ok = tensor.shape_size() == static_cast<int>(shape.size());
  for (size_t i = 0; shape_ok && i < shape.size(); ++i) {
    shape_ok = shape[i] < 0 || tensor.shape(static_cast<int>(i)) == shape[i];
  }
  if (!shape_ok) {
    std::string want = absl::StrJoin(shape, ", ", [](std::string* out, int64_t d) {
      absl::StrAppend(out, d < 0 ? std::string("*") : absl::StrCat(d));
    });
    return absl::InvalidArgumentError(
        absl::StrCat(name, ": expected shape [", want, "], got ", DescribeTensor(tensor)));
  }
  return ValidateTensor(tensor, name);
}

void SetTensor(DType dtype, absl::Span<const int64_t> shape, const void* data, size_t num_bytes,
               Tensor* out) {
  out->set_dtype(dtype);
  out->mutable_shape()->Assign(shape.begin(), shape.end());
  out->mutable_data()->assign(static_cast<const char*>(data), num_bytes);
}

}  // namespace tandem
