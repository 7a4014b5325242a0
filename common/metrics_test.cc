#include "common/metrics.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace tandem {
namespace {

using ::testing::HasSubstr;

// Plain HTTP GET against 127.0.0.1:port; returns the whole response.
std::string HttpGet(int port, const std::string& path) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    close(fd);
    return "";
  }
  const std::string request = "GET " + path + " HTTP/1.0\r\nHost: localhost\r\n\r\n";
  if (write(fd, request.data(), request.size()) != static_cast<ssize_t>(request.size())) {
    close(fd);
    return "";
  }
  std::string response;
  char buffer[4096];
  ssize_t n;
  while ((n = read(fd, buffer, sizeof(buffer))) > 0) response.append(buffer, n);
  close(fd);
  return response;
}

TEST(Metrics, CountersGaugesAndHistogramsRecordValues) {
  auto metrics = MetricsRegistry::Create("");
  ASSERT_TRUE(metrics.ok());
  Counter& counter = (*metrics)->GetCounter("tandem_test_items_total", "Items", {{"table", "a"}});
  counter.Increment();
  counter.Increment(2.5);
  EXPECT_DOUBLE_EQ(counter.Value(), 3.5);

  Gauge& gauge = (*metrics)->GetGauge("tandem_test_size", "Size");
  gauge.Set(10);
  gauge.Decrement(4);
  EXPECT_DOUBLE_EQ(gauge.Value(), 6);

  Histogram& histogram =
      (*metrics)->GetHistogram("tandem_test_latency_seconds", "Latency", LatencyBuckets());
  histogram.Observe(0.002);
  histogram.Observe(0.004);

  const std::string text = (*metrics)->Serialize();
  EXPECT_THAT(text, HasSubstr("tandem_test_items_total{table=\"a\"} 3.5"));
  EXPECT_THAT(text, HasSubstr("tandem_test_size 6"));
  EXPECT_THAT(text, HasSubstr("tandem_test_latency_seconds_count 2"));

  bool found_sum = false;
  for (const auto& [key, value] : (*metrics)->Snapshot()) {
    if (key == "tandem_test_latency_seconds_sum{}") {
      found_sum = true;
      EXPECT_NEAR(value, 0.006, 1e-12);
    }
  }
  EXPECT_TRUE(found_sum);
}

TEST(Metrics, SameNameAndLabelsReturnTheSameSeries) {
  auto metrics = MetricsRegistry::Create("");
  ASSERT_TRUE(metrics.ok());
  Counter& a = (*metrics)->GetCounter("tandem_test_total", "x", {{"k", "1"}});
  Counter& b = (*metrics)->GetCounter("tandem_test_total", "x", {{"k", "1"}});
  Counter& c = (*metrics)->GetCounter("tandem_test_total", "x", {{"k", "2"}});
  EXPECT_EQ(&a, &b);
  EXPECT_NE(&a, &c);
}

TEST(Metrics, ServesMetricsOverHttpOnAFreePort) {
  auto metrics = MetricsRegistry::Create("127.0.0.1:0");
  ASSERT_TRUE(metrics.ok()) << metrics.status();
  ASSERT_GT((*metrics)->port(), 0);
  (*metrics)->GetCounter("tandem_test_scraped_total", "Scraped").Increment(5);
  const std::string response = HttpGet((*metrics)->port(), "/metrics");
  EXPECT_THAT(response, HasSubstr("200 OK"));
  EXPECT_THAT(response, HasSubstr("tandem_test_scraped_total 5"));
}

TEST(Metrics, UnbindableAddressIsAnErrorNotACrash) {
  auto first = MetricsRegistry::Create("127.0.0.1:0");
  ASSERT_TRUE(first.ok());
  auto second = MetricsRegistry::Create("127.0.0.1:" + std::to_string((*first)->port()));
  ASSERT_FALSE(second.ok());
  EXPECT_TRUE(absl::IsUnavailable(second.status()));
  EXPECT_THAT(second.status().message(), HasSubstr("cannot serve /metrics"));
}

TEST(Metrics, ExponentialBucketsGrowGeometrically) {
  EXPECT_THAT(ExponentialBuckets(1, 2, 4), ::testing::ElementsAre(1, 2, 4, 8));
  EXPECT_EQ(LatencyBuckets().size(), 23u);
}

}  // namespace
}  // namespace tandem
