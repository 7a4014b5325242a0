#include "common/torch_tensor.h"

#include <ATen/ATen.h>

#include <cstring>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "common/tensor_proto.h"

namespace tandem {
namespace {

absl::StatusOr<DType> ToDType(at::ScalarType type) {
  switch (type) {
    case at::kFloat:
      return DTYPE_FLOAT32;
    case at::kDouble:
      return DTYPE_FLOAT64;
    case at::kInt:
      return DTYPE_INT32;
    case at::kLong:
      return DTYPE_INT64;
    case at::kByte:
      return DTYPE_UINT8;
    case at::kBool:
      return DTYPE_BOOL;
    default:
      return absl::InvalidArgumentError(
          absl::StrCat("torch dtype ", at::toString(type), " has no wire representation"));
  }
}

absl::StatusOr<at::ScalarType> ToScalarType(DType dtype) {
  switch (dtype) {
    case DTYPE_FLOAT32:
      return at::kFloat;
    case DTYPE_FLOAT64:
      return at::kDouble;
    case DTYPE_INT32:
      return at::kInt;
    case DTYPE_INT64:
      return at::kLong;
    case DTYPE_UINT8:
      return at::kByte;
    case DTYPE_BOOL:
      return at::kBool;
    default:
      return absl::InvalidArgumentError(absl::StrCat("unknown dtype ", static_cast<int>(dtype)));
  }
}

}  // namespace

absl::Status TorchToProto(const at::Tensor& tensor, Tensor* out) {
  ASSIGN_OR_RETURN(DType dtype, ToDType(tensor.scalar_type()));
  at::Tensor cpu =
      tensor.device().is_cpu() ? tensor.contiguous() : tensor.to(at::kCPU).contiguous();
  const std::vector<int64_t> shape(cpu.sizes().begin(), cpu.sizes().end());
  SetTensor(dtype, shape, cpu.data_ptr(), cpu.numel() * cpu.element_size(), out);
  return absl::OkStatus();
}

absl::StatusOr<at::Tensor> ProtoToTorch(const Tensor& proto, absl::string_view name) {
  RETURN_IF_ERROR(ValidateTensor(proto, name));
  ASSIGN_OR_RETURN(at::ScalarType type, ToScalarType(proto.dtype()));
  const std::vector<int64_t> shape(proto.shape().begin(), proto.shape().end());
  at::Tensor tensor = at::empty(shape, at::TensorOptions().dtype(type));
  if (!proto.data().empty())
    std::memcpy(tensor.data_ptr(), proto.data().data(), proto.data().size());
  return tensor;
}

}  // namespace tandem
