#include "common/grpc_security.h"

#include <cstdlib>
#include <fstream>
#include <sstream>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "common/status_macros.h"
#include "grpcpp/client_context.h"

namespace tandem {
namespace {

constexpr char kAuthorization[] = "authorization";
constexpr char kBearer[] = "Bearer ";

absl::StatusOr<std::string> ReadPem(const std::string& path, absl::string_view field) {
  std::ifstream file(path);
  if (!file) {
    return absl::NotFoundError(absl::StrCat("security.", field, ": cannot read ", path));
  }
  std::stringstream contents;
  contents << file.rdbuf();
  if (!absl::StrContains(contents.str(), "-----BEGIN")) {
    return absl::InvalidArgumentError(
        absl::StrCat("security.", field, ": ", path, " is not a PEM file"));
  }
  return contents.str();
}

bool ConstantTimeEquals(absl::string_view a, absl::string_view b) {
  if (a.size() != b.size()) return false;
  unsigned char difference = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    difference |= static_cast<unsigned char>(a[i] ^ b[i]);
  }
  return difference == 0;
}

}  // namespace

absl::StatusOr<std::string> ResolveAuthToken(const SecurityConfig& security) {
  if (security.auth_token_env().empty()) return std::string();
  const char* value = std::getenv(security.auth_token_env().c_str());
  if (value == nullptr || value[0] == '\0') {
    return absl::InvalidArgumentError(absl::StrCat("security.auth_token_env: environment variable ",
                                                   security.auth_token_env(),
                                                   " is unset or empty"));
  }
  return std::string(value);
}

absl::Status CheckAuthToken(const grpc::ServerContext& context, const std::string& token) {
  if (token.empty()) return absl::OkStatus();
  const auto& metadata = context.client_metadata();
  auto it = metadata.find(kAuthorization);
  if (it == metadata.end()) {
    return absl::UnauthenticatedError("missing authorization token");
  }
  absl::string_view value(it->second.data(), it->second.size());
  if (!absl::ConsumePrefix(&value, kBearer) || !ConstantTimeEquals(value, token)) {
    return absl::UnauthenticatedError("wrong authorization token");
  }
  return absl::OkStatus();
}

void AddAuthToken(grpc::ClientContext* context, const std::string& token) {
  if (!token.empty()) context->AddMetadata(kAuthorization, absl::StrCat(kBearer, token));
}

absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> MakeServerCredentials(
    const SecurityConfig& security) {
  if (security.tls_cert_file().empty() && security.tls_key_file().empty()) {
    return grpc::InsecureServerCredentials();
  }
  grpc::SslServerCredentialsOptions options;
  grpc::SslServerCredentialsOptions::PemKeyCertPair pair;
  ASSIGN_OR_RETURN(pair.cert_chain, ReadPem(security.tls_cert_file(), "tls_cert_file"));
  ASSIGN_OR_RETURN(pair.private_key, ReadPem(security.tls_key_file(), "tls_key_file"));
  options.pem_key_cert_pairs.push_back(pair);
  if (!security.tls_ca_file().empty()) {
    ASSIGN_OR_RETURN(options.pem_root_certs, ReadPem(security.tls_ca_file(), "tls_ca_file"));
  }
  return grpc::SslServerCredentials(options);
}

absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>> MakeChannelCredentials(
    const SecurityConfig& security) {
  if (security.tls_cert_file().empty() && security.tls_ca_file().empty()) {
    return grpc::InsecureChannelCredentials();
  }
  grpc::SslCredentialsOptions options;
  if (!security.tls_ca_file().empty()) {
    ASSIGN_OR_RETURN(options.pem_root_certs, ReadPem(security.tls_ca_file(), "tls_ca_file"));
  }
  return grpc::SslCredentials(options);
}

}  // namespace tandem
