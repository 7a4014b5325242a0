#include "learner/parameter_service.h"

#include <ATen/ATen.h>

#include "absl/strings/str_cat.h"
#include "common/networks/tanh_gaussian_policy.h"
#include "common/networks/weights.h"
#include "common/parameter_client.h"
#include "gmock/gmock.h"
#include "grpcpp/create_channel.h"
#include "gtest/gtest.h"

namespace tandem::learner {
namespace {

using networks::NamedModules;

networks::TanhGaussianPolicy Policy(int seed) {
  at::manual_seed(seed);
  return networks::TanhGaussianPolicy(networks::TanhGaussianPolicyOptions{7, 2, 16});
}

Weights Version(uint64_t version) {
  Weights weights;
  weights.set_version(version);
  weights.set_algorithm("omiga");
  return weights;
}

TEST(Weights, PackThenUnpackCopiesEveryParameter) {
  auto source = Policy(1), target = Policy(2);
  auto packed = networks::PackWeights({{"policy", source.get()}}, "omiga", 3, 100);
  ASSERT_TRUE(packed.ok()) << packed.status();
  EXPECT_EQ(packed->version(), 3u);
  EXPECT_EQ(packed->learner_step(), 100);
  ASSERT_TRUE(networks::UnpackWeights(*packed, {{"policy", target.get()}}).ok());
  auto a = source->parameters(), b = target->parameters();
  for (size_t i = 0; i < a.size(); ++i) EXPECT_TRUE(at::equal(a[i], b[i]));
}

TEST(Weights, MismatchedNetworksAreRefusedUnchanged) {
  auto source = Policy(1);
  at::manual_seed(5);
  networks::TanhGaussianPolicy other(networks::TanhGaussianPolicyOptions{8, 2, 16});
  const at::Tensor before = other->parameters()[0].clone();
  auto packed = networks::PackWeights({{"policy", source.get()}}, "omiga", 1, 0);
  ASSERT_TRUE(packed.ok());
  absl::Status status = networks::UnpackWeights(*packed, {{"policy", other.get()}});
  EXPECT_THAT(status.message(), ::testing::HasSubstr("another shape"));
  EXPECT_TRUE(at::equal(before, other->parameters()[0]));
  EXPECT_THAT(networks::UnpackWeights(*packed, {{"critic", other.get()}}).message(),
              ::testing::HasSubstr("no module 'critic'"));
}

TEST(ParameterService, SubscribersReceiveNewVersionsAndMeasureLatency) {
  auto metrics = *MetricsRegistry::Create("");
  auto server = ParameterServer::Start("127.0.0.1:0", SecurityConfig(), metrics.get());
  ASSERT_TRUE(server.ok()) << server.status();
  ParameterSubscriberOptions options;
  options.metrics = metrics.get();
  ParameterSubscriber subscriber((*server)->InProcessChannel(), options);
  EXPECT_EQ(subscriber.Latest(), nullptr);
  Weights first = Version(1);
  first.set_publish_time_unix_nanos(absl::ToUnixNanos(absl::Now()));
  ASSERT_TRUE((*server)->service().Publish(first).ok());
  ASSERT_TRUE(subscriber.WaitForVersion(0, absl::Seconds(10)));
  EXPECT_EQ(subscriber.latest_version(), 1u);
  for (uint64_t v = 2; v <= 20; ++v) ASSERT_TRUE((*server)->service().Publish(Version(v)).ok());
  ASSERT_TRUE(subscriber.WaitForVersion(19, absl::Seconds(10)));
  EXPECT_EQ(subscriber.latest_version(), 20u);
  EXPECT_THAT(metrics->Serialize(),
              ::testing::HasSubstr("tandem_weights_receive_latency_seconds_count"));
}

TEST(ParameterService, VersionsMustIncrease) {
  auto metrics = *MetricsRegistry::Create("");
  ParameterServiceImpl service("", metrics.get());
  ASSERT_TRUE(service.Publish(Version(5)).ok());
  EXPECT_TRUE(absl::IsInvalidArgument(service.Publish(Version(5))));
  EXPECT_TRUE(absl::IsInvalidArgument(service.Publish(Version(4))));
  EXPECT_EQ(service.latest_version(), 5u);
}

TEST(ParameterService, SubscriberReconnectsAfterTheLearnerRestarts) {
  auto metrics = *MetricsRegistry::Create("");
  auto first = ParameterServer::Start("127.0.0.1:0", SecurityConfig(), metrics.get());
  ASSERT_TRUE(first.ok());
  const int port = (*first)->port();
  ParameterSubscriberOptions options;
  options.initial_backoff = absl::Milliseconds(20);
  options.max_backoff = absl::Milliseconds(200);
  ParameterSubscriber subscriber(
      grpc::CreateChannel(absl::StrCat("127.0.0.1:", port), grpc::InsecureChannelCredentials()),
      options);
  ASSERT_TRUE((*first)->service().Publish(Version(1)).ok());
  ASSERT_TRUE(subscriber.WaitForVersion(0, absl::Seconds(10)));
  (*first)->Shutdown();
  first->reset();

  auto second =
      ParameterServer::Start(absl::StrCat("127.0.0.1:", port), SecurityConfig(), metrics.get());
  ASSERT_TRUE(second.ok()) << second.status();
  ASSERT_TRUE((*second)->service().Publish(Version(2)).ok());
  EXPECT_TRUE(subscriber.WaitForVersion(1, absl::Seconds(20)));
  EXPECT_GE(subscriber.failed_attempts(), 1);
}

TEST(ParameterService, GetLatestBeforeAnyPublishIsNotFound) {
  auto metrics = *MetricsRegistry::Create("");
  auto server = ParameterServer::Start("127.0.0.1:0", SecurityConfig(), metrics.get());
  ASSERT_TRUE(server.ok());
  auto stub = ParameterService::NewStub((*server)->InProcessChannel());
  grpc::ClientContext context;
  Weights response;
  EXPECT_EQ(stub->GetLatest(&context, GetLatestRequest(), &response).error_code(),
            grpc::StatusCode::NOT_FOUND);
}

}  // namespace
}  // namespace tandem::learner
