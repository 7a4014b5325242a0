// Prometheus metrics for every Tandem process.
//
// This module owns the prometheus-cpp Registry and Exposer and is the only place that includes
// prometheus headers. Components ask it once, at construction, for the series they update and keep
// the returned references; updating a series is then one atomic operation (no lookups, no locks).
//
//   ASSIGN_OR_RETURN(auto metrics, MetricsRegistry::Create("127.0.0.1:0"));
//   Counter& inserted = metrics->GetCounter("tandem_replay_inserted_transitions_total",
//                                           "Transitions stored", {{"table", "online"}});
//   inserted.Increment(64);
//
// Names follow Prometheus conventions: tandem_<component>_<what>_<unit>, counters end in _total,
// times are in seconds and sizes in bytes.
#ifndef TANDEM_COMMON_METRICS_H_
#define TANDEM_COMMON_METRICS_H_

#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/node_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"

namespace prometheus {
class Counter;
class Gauge;
class Histogram;
class Registry;
}  // namespace prometheus

namespace tandem {

class MetricsHttpServer;

// Label names and values of one series, e.g. {{"table", "online"}}. Keep label sets small and
// bounded (never per-actor or per-item ids; Prometheus adds `instance` itself).
using MetricLabels = std::map<std::string, std::string>;

// A monotonically increasing count. Thread-safe.
class Counter {
 public:
  explicit Counter(prometheus::Counter* impl) : impl_(impl) {}
  // Adds `amount` (>= 0).
  void Increment(double amount = 1.0);
  // Current value.
  double Value() const;

 private:
  prometheus::Counter* impl_;
};

// A value that can go up and down. Thread-safe.
class Gauge {
 public:
  explicit Gauge(prometheus::Gauge* impl) : impl_(impl) {}
  void Set(double value);
  void Increment(double amount = 1.0);
  void Decrement(double amount = 1.0);
  double Value() const;

 private:
  prometheus::Gauge* impl_;
};

// A distribution of observations in fixed buckets (latencies, sizes). Thread-safe.
class Histogram {
 public:
  explicit Histogram(prometheus::Histogram* impl) : impl_(impl) {}
  void Observe(double value);

 private:
  prometheus::Histogram* impl_;
};

// `count` bucket bounds start, start*factor, start*factor^2, ...
std::vector<double> ExponentialBuckets(double start, double factor, int count);

// Buckets for latencies from 10 microseconds to about 40 seconds.
std::vector<double> LatencyBuckets();

// Owns the registry and (optionally) the HTTP endpoint serving /metrics. Thread-safe.
class MetricsRegistry {
 public:
  // Creates a registry. If `listen_address` ("host:port", port 0 = any free port) is not empty,
  // also serves GET /metrics there; fails with UNAVAILABLE if the address cannot be bound.
  static absl::StatusOr<std::unique_ptr<MetricsRegistry>> Create(const std::string& listen_address);

  ~MetricsRegistry();
  MetricsRegistry(const MetricsRegistry&) = delete;
  MetricsRegistry& operator=(const MetricsRegistry&) = delete;

  // Returns the series `name`{labels}, creating its family (with `help`) and the series on first
  // use. The reference stays valid for the registry's lifetime. Asking for one name as two
  // different kinds is a programming error (CHECK).
  Counter& GetCounter(const std::string& name, const std::string& help,
                      const MetricLabels& labels = {}) ABSL_LOCKS_EXCLUDED(mu_);
  Gauge& GetGauge(const std::string& name, const std::string& help, const MetricLabels& labels = {})
      ABSL_LOCKS_EXCLUDED(mu_);
  Histogram& GetHistogram(const std::string& name, const std::string& help,
                          const std::vector<double>& buckets, const MetricLabels& labels = {})
      ABSL_LOCKS_EXCLUDED(mu_);

  // The Prometheus text exposition of every series (what GET /metrics returns).
  std::string Serialize() const;

  // Current values of every counter and gauge, and the _count and _sum of every histogram, keyed
  // "name{label=\"value\",...}" (for metrics.csv and tests).
  std::vector<std::pair<std::string, double>> Snapshot() const;

  // Port serving /metrics, or 0 when not serving.
  int port() const { return port_; }

 private:
  enum class Kind { kCounter, kGauge, kHistogram };
  struct FamilyEntry {
    Kind kind;
    void* family;  // prometheus::Family<T>* of the matching kind.
  };

  MetricsRegistry();
  void* FamilyFor(const std::string& name, const std::string& help, Kind kind)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  std::shared_ptr<prometheus::Registry> registry_;
  std::unique_ptr<MetricsHttpServer> server_;
  int port_ = 0;

  mutable absl::Mutex mu_;
  // Families by metric name.
  absl::node_hash_map<std::string, FamilyEntry> families_ ABSL_GUARDED_BY(mu_);
  // Wrappers handed out, keyed by name and serialized labels; node map keeps references stable.
  absl::node_hash_map<std::string, Counter> counters_ ABSL_GUARDED_BY(mu_);
  absl::node_hash_map<std::string, Gauge> gauges_ ABSL_GUARDED_BY(mu_);
  absl::node_hash_map<std::string, Histogram> histograms_ ABSL_GUARDED_BY(mu_);
};

}  // namespace tandem

#endif  // TANDEM_COMMON_METRICS_H_
