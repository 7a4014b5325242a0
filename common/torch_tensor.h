// Conversion between LibTorch tensors and wire tensors (`tandem::Tensor`), one memcpy each way.
#ifndef TANDEM_COMMON_TORCH_TENSOR_H_
#define TANDEM_COMMON_TORCH_TENSOR_H_

#include <ATen/core/Tensor.h>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "proto/tensor.pb.h"

namespace tandem {

// Writes `tensor` (any device, any layout) into `out`. Non-contiguous or non-CPU tensors are made
// contiguous on the CPU first. Fails for dtypes the wire format does not carry (e.g. float16).
absl::Status TorchToProto(const at::Tensor& tensor, Tensor* out);

// Builds a new CPU tensor owning a copy of `proto`'s data. Fails naming `name` if the proto is
// malformed (unknown dtype, byte count not matching the shape).
absl::StatusOr<at::Tensor> ProtoToTorch(const Tensor& proto, absl::string_view name);

}  // namespace tandem

#endif  // TANDEM_COMMON_TORCH_TENSOR_H_
