#include "common/grpc_status.h"

#include "gtest/gtest.h"

namespace tandem {
namespace {

TEST(GrpcStatus, OkRoundTripsBothWays) {
  EXPECT_TRUE(ToGrpcStatus(absl::OkStatus()).ok());
  EXPECT_TRUE(FromGrpcStatus(grpc::Status::OK).ok());
}

TEST(GrpcStatus, EveryCanonicalCodeKeepsItsCodeAndMessage) {
  for (int code = 1; code <= 16; ++code) {
    absl::Status original(static_cast<absl::StatusCode>(code), "message");
    grpc::Status on_wire = ToGrpcStatus(original);
    EXPECT_EQ(static_cast<int>(on_wire.error_code()), code);
    EXPECT_EQ(on_wire.error_message(), "message");
    absl::Status back = FromGrpcStatus(on_wire);
    if (code == static_cast<int>(absl::StatusCode::kUnknown) ||
        code == static_cast<int>(absl::StatusCode::kInternal)) {
      EXPECT_EQ(back.code(), original.code()) << "plain messages are not transport failures";
    }
    EXPECT_EQ(back, original);
  }
}

TEST(GrpcStatus, TransportFailuresBecomeUnavailable) {
  absl::Status status = FromGrpcStatus(grpc::Status(grpc::StatusCode::UNKNOWN, "Stream removed"));
  EXPECT_TRUE(absl::IsUnavailable(status));
  EXPECT_TRUE(IsTransient(status));
  status = FromGrpcStatus(grpc::Status(grpc::StatusCode::INTERNAL, "recvmsg: Connection reset"));
  EXPECT_TRUE(absl::IsUnavailable(status));
}

TEST(GrpcStatus, ApplicationErrorsAreNotTransient) {
  EXPECT_FALSE(IsTransient(absl::InvalidArgumentError("obs: wrong shape")));
  EXPECT_FALSE(IsTransient(absl::UnauthenticatedError("bad token")));
  EXPECT_TRUE(IsTransient(absl::UnavailableError("server restarting")));
}

}  // namespace
}  // namespace tandem
