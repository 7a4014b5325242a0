// TLS between a replay client and server over real loopback TCP, with a certificate made by the
// openssl command line for this test.
#include <cstdlib>
#include <filesystem>

#include "absl/strings/str_cat.h"
#include "common/config.h"
#include "common/metrics.h"
#include "common/replay_client.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "replay_server/replay_server.h"
#include "tests/transition_testing.h"

namespace tandem {
namespace {

namespace fs = std::filesystem;

class ReplayTlsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = ::testing::TempDir() + "/replay_tls";
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    const std::string command = absl::StrCat(
        "openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=localhost "
        "-addext subjectAltName=DNS:localhost,IP:127.0.0.1 -keyout ",
        dir_, "/key.pem -out ", dir_, "/cert.pem 2>/dev/null");
    ASSERT_EQ(std::system(command.c_str()), 0) << "openssl (deploy/install-deps.sh) is required";
  }
  std::string dir_;
};

TEST_F(ReplayTlsTest, TlsClientInsertsAndPlaintextClientIsRefused) {
  ExperimentConfig config;
  FillDefaults(&config);
  config.mutable_replay()->set_offline_ratio(0);
  config.mutable_replay()->set_min_size_to_sample(1);
  config.mutable_security()->set_tls_cert_file(dir_ + "/cert.pem");
  config.mutable_security()->set_tls_key_file(dir_ + "/key.pem");
  auto metrics = *MetricsRegistry::Create("");
  auto server = replay::ReplayServer::Start(config, metrics.get());
  ASSERT_TRUE(server.ok()) << server.status();
  const std::string address = absl::StrCat("localhost:", (*server)->port());

  SecurityConfig client_security;
  client_security.set_tls_ca_file(dir_ + "/cert.pem");
  auto client = replay::ReplayClient::Connect(address, client_security, "");
  ASSERT_TRUE(client.ok());
  ASSERT_TRUE((*client)->WaitUntilReady(absl::Seconds(20)).ok());
  TransitionSchema schema = *TransitionSchema::Create(testing::ContinuousSpec());
  auto writer = (*client)->NewWriter();
  ASSERT_TRUE(writer->Write(testing::MakeBatch(schema, 8, 0)).ok());
  ASSERT_TRUE(writer->Finish().ok());
  EXPECT_EQ((*server)->service().online_size(), 8);

  auto plaintext = replay::ReplayClient::Connect(address, SecurityConfig(), "");
  ASSERT_TRUE(plaintext.ok());
  EXPECT_TRUE(absl::IsUnavailable((*plaintext)->Info(absl::Seconds(3)).status()));
}

TEST_F(ReplayTlsTest, MissingCertificateFileIsAClearStartupError) {
  ExperimentConfig config;
  FillDefaults(&config);
  config.mutable_replay()->set_offline_ratio(0);
  config.mutable_security()->set_tls_cert_file(dir_ + "/none.pem");
  config.mutable_security()->set_tls_key_file(dir_ + "/key.pem");
  auto metrics = *MetricsRegistry::Create("");
  auto server = replay::ReplayServer::Start(config, metrics.get());
  EXPECT_THAT(server.status().message(), ::testing::HasSubstr("security.tls_cert_file"));
}

}  // namespace
}  // namespace tandem
