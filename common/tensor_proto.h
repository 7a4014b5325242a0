// Tensors on the wire (`tandem::Tensor`, proto/tensor.proto) without LibTorch.
//
// Tensors are filled and read with one memcpy of the whole buffer, never element by element. The
// byte order on the wire is little-endian, which is also the host order on every supported target
// (checked at compile time).
#ifndef TANDEM_COMMON_TENSOR_PROTO_H_
#define TANDEM_COMMON_TENSOR_PROTO_H_

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <type_traits>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "proto/tensor.pb.h"

static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__,
              "Tandem's wire format is little-endian; add byte swapping for this target");

namespace tandem {

// Size in bytes of one element of `dtype`; 0 for DTYPE_UNSPECIFIED or unknown values.
size_t DTypeSize(DType dtype);

// Lower-case name of `dtype`, e.g. "float32".
absl::string_view DTypeName(DType dtype);

// The DType whose elements are C++ type `T`.
template <typename T>
constexpr DType DTypeOf() {
  if constexpr (std::is_same_v<T, float>) return DTYPE_FLOAT32;
  if constexpr (std::is_same_v<T, double>) return DTYPE_FLOAT64;
  if constexpr (std::is_same_v<T, int32_t>) return DTYPE_INT32;
  if constexpr (std::is_same_v<T, int64_t>) return DTYPE_INT64;
  if constexpr (std::is_same_v<T, uint8_t>) return DTYPE_UINT8;
  if constexpr (std::is_same_v<T, bool>) return DTYPE_BOOL;
  return DTYPE_UNSPECIFIED;
}

// Number of elements prod(shape); fails on a negative dimension or overflow.
absl::StatusOr<int64_t> NumElements(absl::Span<const int64_t> shape);

// Checks that `tensor` is well formed: a known dtype, non-negative dims, and exactly
// prod(shape) * DTypeSize(dtype) bytes of data. `name` prefixes the error, e.g. "obs: ...".
absl::Status ValidateTensor(const Tensor& tensor, absl::string_view name);

// Like ValidateTensor, and also requires `dtype` and `shape` (-1 in `shape` matches any extent).
absl::Status ExpectTensor(const Tensor& tensor, absl::string_view name, DType dtype,
                          absl::Span<const int64_t> shape);

// Human-readable "float32[128, 6, 23]".
std::string DescribeTensor(const Tensor& tensor);

// Fills `out` with `dtype`, `shape` and the `num_bytes` bytes at `data` (one copy).
void SetTensor(DType dtype, absl::Span<const int64_t> shape, const void* data, size_t num_bytes,
               Tensor* out);

// Builds a tensor of `shape` from `values` (prod(shape) == values.size(), checked by the caller).
template <typename T>
Tensor MakeTensor(absl::Span<const int64_t> shape, absl::Span<const T> values) {
  Tensor tensor;
  SetTensor(DTypeOf<T>(), shape, values.data(), values.size() * sizeof(T), &tensor);
  return tensor;
}

// Copies the elements of a validated `tensor` of C++ type `T` into `out`, which must hold
// exactly as many elements. Fails naming `name` on a dtype or size mismatch.
template <typename T>
absl::Status CopyTensorData(const Tensor& tensor, absl::string_view name, absl::Span<T> out) {
  static_assert(DTypeOf<std::remove_const_t<T>>() != DTYPE_UNSPECIFIED, "unsupported type");
  if (tensor.dtype() != DTypeOf<std::remove_const_t<T>>()) {
    return absl::InvalidArgumentError(std::string(name) + ": expected dtype " +
                                      std::string(DTypeName(DTypeOf<T>())) + ", got " +
                                      DescribeTensor(tensor));
  }
  if (tensor.data().size() != out.size() * sizeof(T)) {
    return absl::InvalidArgumentError(std::string(name) + ": expected " +
                                      std::to_string(out.size()) + " elements, got " +
                                      DescribeTensor(tensor));
  }
  if (!out.empty()) std::memcpy(out.data(), tensor.data().data(), tensor.data().size());
  return absl::OkStatus();
}

}  // namespace tandem

#endif  // TANDEM_COMMON_TENSOR_PROTO_H_
