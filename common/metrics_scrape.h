// Reading another process's Prometheus endpoint: a minimal HTTP/1.0 GET over loopback TCP and a
// parser for the text exposition format. `tandem run` uses it to build metrics.csv and its progress
// line from the same /metrics a Prometheus server scrapes; tests use it to check what is exported.
#ifndef TANDEM_COMMON_METRICS_SCRAPE_H_
#define TANDEM_COMMON_METRICS_SCRAPE_H_

#include <map>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace tandem {

// Samples keyed "name{labels}" exactly as exposed ("name{}" when a sample has no labels), so keys
// match MetricsRegistry::Snapshot().
using MetricSamples = std::map<std::string, double>;

// GET http://host:port/path; the body of a 200 response. UNAVAILABLE when nothing answers in
// `timeout`, INTERNAL on a non-200 status.
absl::StatusOr<std::string> HttpGet(const std::string& host, int port, const std::string& path,
                                    absl::Duration timeout);

// Parses the Prometheus text format (comments skipped; "NaN", "+Inf", "-Inf" understood).
// INVALID_ARGUMENT names the first malformed line.
absl::StatusOr<MetricSamples> ParseExposition(const std::string& text);

// HttpGet(host, port, "/metrics") + ParseExposition.
absl::StatusOr<MetricSamples> ScrapeMetrics(const std::string& host, int port,
                                            absl::Duration timeout = absl::Seconds(2));

// Sum of every sample of `name` (any labels), or 0 when there is none.
double SumSamples(const MetricSamples& samples, const std::string& name);

// The sample `name{labels}` (labels as exposed, e.g. term="q"), or `fallback`.
double SampleOr(const MetricSamples& samples, const std::string& name, const std::string& labels,
                double fallback);

}  // namespace tandem

#endif  // TANDEM_COMMON_METRICS_SCRAPE_H_
