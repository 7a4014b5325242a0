#include "common/grpc_status.h"

#include <array>
#include <string>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/string_view.h"

namespace tandem {
namespace {

// Messages gRPC attaches to UNKNOWN/INTERNAL when the transport, not the peer, failed.
constexpr std::array<absl::string_view, 6> kTransientTransportMessages = {
    "Stream removed",
    "Socket closed",
    "Connection reset",
    "Broken pipe",
    "failed to connect to all addresses",
    "Transport closed"};

bool IsTransportFailure(const grpc::Status& status) {
  if (status.error_code() != grpc::StatusCode::UNKNOWN &&
      status.error_code() != grpc::StatusCode::INTERNAL) {
    return false;
  }
  const std::string message = absl::AsciiStrToLower(status.error_message());
  for (absl::string_view needle : kTransientTransportMessages) {
    if (absl::StrContains(message, absl::AsciiStrToLower(needle))) return true;
  }
  return false;
}

}  // namespace

grpc::Status ToGrpcStatus(const absl::Status& status) {
  if (status.ok()) return grpc::Status::OK;
  return grpc::Status(static_cast<grpc::StatusCode>(status.code()), std::string(status.message()));
}

absl::Status FromGrpcStatus(const grpc::Status& status) {
  if (status.ok()) return absl::OkStatus();
  if (IsTransportFailure(status)) {
    return absl::UnavailableError(status.error_message());
  }
  return absl::Status(static_cast<absl::StatusCode>(status.error_code()), status.error_message());
}

bool IsTransient(const absl::Status& status) {
  return absl::IsUnavailable(status) || absl::IsDeadlineExceeded(status);
}

}  // namespace tandem
