#include "common/metrics.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmath>
#include <string>
#include <vector>

#include "common/metrics_scrape.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace tandem {
namespace {

using ::testing::HasSubstr;

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
  auto body = HttpGet("127.0.0.1", (*metrics)->port(), "/metrics", absl::Seconds(5));
  ASSERT_TRUE(body.ok()) << body.status();
  EXPECT_THAT(*body, HasSubstr("tandem_test_scraped_total 5"));
}

// Opens a TCP connection to 127.0.0.1:port that sends `bytes` and then stays open and silent.
int OpenIdleConnection(int port, const std::string& bytes) {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<uint16_t>(port));
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0) {
    close(fd);
    return -1;
  }
  if (!bytes.empty()) (void)send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL);
  return fd;
}

TEST(Metrics, IdleConnectionsDoNotHoldAScrapeBack) {
  auto metrics = MetricsRegistry::Create("127.0.0.1:0");
  ASSERT_TRUE(metrics.ok()) << metrics.status();
  (*metrics)->GetCounter("tandem_test_scraped_total", "Scraped").Increment(3);
  // More idle clients than the server keeps open, some with half a request: each would have held
  // a one-connection-at-a-time server for its whole 5 s deadline.
  std::vector<int> idle;
  for (int i = 0; i < 70; ++i) {
    const int fd = OpenIdleConnection((*metrics)->port(), i % 2 == 0 ? "" : "GET /metr");
    ASSERT_GE(fd, 0);
    idle.push_back(fd);
  }
  for (int scrape = 0; scrape < 3; ++scrape) {
    auto body = HttpGet("127.0.0.1", (*metrics)->port(), "/metrics", absl::Seconds(1));
    ASSERT_TRUE(body.ok()) << "scrape " << scrape << ": " << body.status();
    EXPECT_THAT(*body, HasSubstr("tandem_test_scraped_total 3"));
  }
  for (int fd : idle) close(fd);
}

TEST(Metrics, ScrapedSamplesEqualTheRegistrySnapshot) {
  auto metrics = MetricsRegistry::Create("127.0.0.1:0");
  ASSERT_TRUE(metrics.ok()) << metrics.status();
  (*metrics)->GetCounter("tandem_test_items_total", "Items", {{"kind", "a b"}}).Increment(3);
  (*metrics)->GetGauge("tandem_test_size", "Size").Set(-2.5);
  (*metrics)->GetHistogram("tandem_test_latency_seconds", "Latency", {0.1, 1}).Observe(0.5);
  auto scraped = ScrapeMetrics("127.0.0.1", (*metrics)->port());
  ASSERT_TRUE(scraped.ok()) << scraped.status();
  for (const auto& [key, value] : (*metrics)->Snapshot()) {
    ASSERT_TRUE(scraped->count(key)) << key;
    EXPECT_DOUBLE_EQ(scraped->at(key), value) << key;
  }
  EXPECT_DOUBLE_EQ(SumSamples(*scraped, "tandem_test_items_total"), 3);
  EXPECT_DOUBLE_EQ(SampleOr(*scraped, "tandem_test_items_total", "kind=\"a b\"", 0), 3);
  EXPECT_DOUBLE_EQ(SampleOr(*scraped, "tandem_test_missing", "", -1), -1);
}

TEST(Metrics, ExpositionParserHandlesSpecialValuesAndRejectsGarbage) {
  auto parsed = ParseExposition("# HELP x y\nx_total 1 1700000000\ny{a=\"}\"} NaN\nz +Inf\n");
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_EQ(parsed->at("x_total{}"), 1);
  EXPECT_TRUE(std::isnan(parsed->at("y{a=\"}\"}")));
  EXPECT_TRUE(std::isinf(parsed->at("z{}")));
  auto bad = ParseExposition("ok 1\nbroken_line\n");
  ASSERT_FALSE(bad.ok());
  EXPECT_THAT(bad.status().message(), HasSubstr("metrics line 2"));
  EXPECT_FALSE(ParseExposition("x{a=\"1\" 2\n").ok());
  EXPECT_FALSE(ParseExposition("x one\n").ok());
}

TEST(Metrics, HttpGetToAClosedPortIsUnavailable) {
  auto body = HttpGet("127.0.0.1", 1, "/metrics", absl::Seconds(1));
  ASSERT_FALSE(body.ok());
  EXPECT_TRUE(absl::IsUnavailable(body.status())) << body.status();
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
