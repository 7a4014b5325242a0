// The one place that converts between `absl::Status` and `grpc::Status`.
//
// Codes map one to one (both follow the canonical error space). gRPC reports some broken
// connections as UNKNOWN or INTERNAL ("Stream removed", "Socket closed", ...); those become
// UNAVAILABLE so callers can retry every transient transport error the same way.
#ifndef TANDEM_COMMON_GRPC_STATUS_H_
#define TANDEM_COMMON_GRPC_STATUS_H_

#include "absl/status/status.h"
#include "grpcpp/support/status.h"

namespace tandem {

// Converts a status produced by Tandem code into the status a gRPC handler returns.
grpc::Status ToGrpcStatus(const absl::Status& status);

// Converts a status received from gRPC into an `absl::Status`, mapping transient transport failures
// to UNAVAILABLE.
absl::Status FromGrpcStatus(const grpc::Status& status);

// Whether retrying the call after a back-off may succeed (UNAVAILABLE, and DEADLINE_EXCEEDED of a
// call that may simply have been slow).
bool IsTransient(const absl::Status& status);

}  // namespace tandem

#endif  // TANDEM_COMMON_GRPC_STATUS_H_
