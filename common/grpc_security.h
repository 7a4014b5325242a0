// Authentication and transport security shared by every Tandem gRPC service and client.
//
// Token authentication: the server holds a shared token; every call carries the metadata
// `authorization: Bearer <token>`; a call without it or with another token fails UNAUTHENTICATED.
// The token is read from the environment variable named by SecurityConfig.auth_token_env, never
// from a config file. TLS uses the PEM files named in SecurityConfig.
#ifndef TANDEM_COMMON_GRPC_SECURITY_H_
#define TANDEM_COMMON_GRPC_SECURITY_H_

#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "grpcpp/security/credentials.h"
#include "grpcpp/security/server_credentials.h"
#include "grpcpp/server_context.h"
#include "proto/config.pb.h"

namespace tandem {

// The shared token ("" when authentication is off). Fails if auth_token_env names a variable that
// is unset or empty.
absl::StatusOr<std::string> ResolveAuthToken(const SecurityConfig& security);

// Checks a call's `authorization` metadata against `token` (constant-time comparison). OK when
// `token` is empty.
absl::Status CheckAuthToken(const grpc::ServerContext& context, const std::string& token);

// Adds `authorization: Bearer <token>` to an outgoing call (nothing when `token` is empty).
void AddAuthToken(grpc::ClientContext* context, const std::string& token);

// Server credentials: TLS when cert and key files are set, else insecure.
absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> MakeServerCredentials(
    const SecurityConfig& security);

// Channel credentials: TLS (trusting tls_ca_file, or the system roots) when any TLS file is set,
// else insecure.
absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>> MakeChannelCredentials(
    const SecurityConfig& security);

}  // namespace tandem

#endif  // TANDEM_COMMON_GRPC_SECURITY_H_
