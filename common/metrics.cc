#include "common/metrics.h"

#include <cmath>
#include <exception>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/metrics_http.h"
#include "glog/logging.h"
#include "prometheus/counter.h"
#include "prometheus/family.h"
#include "prometheus/gauge.h"
#include "prometheus/histogram.h"
#include "prometheus/registry.h"
#include "prometheus/text_serializer.h"

namespace tandem {
namespace {

std::string SeriesKey(const std::string& name, const MetricLabels& labels) {
  return absl::StrCat(name, "{",
                      absl::StrJoin(labels, ",",
                                    [](std::string* out, const auto& kv) {
                                      absl::StrAppend(out, kv.first, "=\"", kv.second, "\"");
                                    }),
                      "}");
}

std::string SeriesKey(const std::string& name,
                      const std::vector<prometheus::ClientMetric::Label>& labels,
                      const std::string& suffix = "") {
  MetricLabels map;
  for (const auto& label : labels) map[label.name] = label.value;
  return SeriesKey(name + suffix, map);
}

}  // namespace

void Counter::Increment(double amount) { impl_->Increment(amount); }
double Counter::Value() const { return impl_->Value(); }

void Gauge::Set(double value) { impl_->Set(value); }
void Gauge::Increment(double amount) { impl_->Increment(amount); }
void Gauge::Decrement(double amount) { impl_->Decrement(amount); }
double Gauge::Value() const { return impl_->Value(); }

void Histogram::Observe(double value) { impl_->Observe(value); }

std::vector<double> ExponentialBuckets(double start, double factor, int count) {
  std::vector<double> buckets;
  buckets.reserve(count);
  double bound = start;
  for (int i = 0; i < count; ++i, bound *= factor) buckets.push_back(bound);
  return buckets;
}

std::vector<double> LatencyBuckets() { return ExponentialBuckets(1e-5, 2.0, 23); }

MetricsRegistry::MetricsRegistry() : registry_(std::make_shared<prometheus::Registry>()) {}

MetricsRegistry::~MetricsRegistry() {
  server_.reset();  // stop serving before the registry goes
}

absl::StatusOr<std::unique_ptr<MetricsRegistry>> MetricsRegistry::Create(
    const std::string& listen_address) {
  std::unique_ptr<MetricsRegistry> metrics(new MetricsRegistry());
  if (!listen_address.empty()) {
    MetricsRegistry* registry = metrics.get();
    absl::StatusOr<std::unique_ptr<MetricsHttpServer>> server =
        MetricsHttpServer::Start(listen_address, [registry] { return registry->Serialize(); });
    if (!server.ok()) return server.status();
    metrics->server_ = std::move(*server);
    metrics->port_ = metrics->server_->port();
  }
  return metrics;
}

void* MetricsRegistry::FamilyFor(const std::string& name, const std::string& help, Kind kind) {
  auto it = families_.find(name);
  if (it != families_.end()) {
    CHECK(it->second.kind == kind) << "metric " << name << " requested as two different kinds";
    return it->second.family;
  }
  void* family = nullptr;
  switch (kind) {
    case Kind::kCounter:
      family = &prometheus::BuildCounter().Name(name).Help(help).Register(*registry_);
      break;
    case Kind::kGauge:
      family = &prometheus::BuildGauge().Name(name).Help(help).Register(*registry_);
      break;
    case Kind::kHistogram:
      family = &prometheus::BuildHistogram().Name(name).Help(help).Register(*registry_);
      break;
  }
  families_.emplace(name, FamilyEntry{kind, family});
  return family;
}

Counter& MetricsRegistry::GetCounter(const std::string& name, const std::string& help,
                                     const MetricLabels& labels) {
  absl::MutexLock lock(&mu_);
  const std::string key = SeriesKey(name, labels);
  auto it = counters_.find(key);
  if (it != counters_.end()) return it->second;
  auto* family =
      static_cast<prometheus::Family<prometheus::Counter>*>(FamilyFor(name, help, Kind::kCounter));
  prometheus::Labels prom_labels(labels.begin(), labels.end());
  return counters_.emplace(key, Counter(&family->Add(prom_labels))).first->second;
}

Gauge& MetricsRegistry::GetGauge(const std::string& name, const std::string& help,
                                 const MetricLabels& labels) {
  absl::MutexLock lock(&mu_);
  const std::string key = SeriesKey(name, labels);
  auto it = gauges_.find(key);
  if (it != gauges_.end()) return it->second;
  auto* family =
      static_cast<prometheus::Family<prometheus::Gauge>*>(FamilyFor(name, help, Kind::kGauge));
  prometheus::Labels prom_labels(labels.begin(), labels.end());
  return gauges_.emplace(key, Gauge(&family->Add(prom_labels))).first->second;
}

Histogram& MetricsRegistry::GetHistogram(const std::string& name, const std::string& help,
                                         const std::vector<double>& buckets,
                                         const MetricLabels& labels) {
  absl::MutexLock lock(&mu_);
  const std::string key = SeriesKey(name, labels);
  auto it = histograms_.find(key);
  if (it != histograms_.end()) return it->second;
  auto* family = static_cast<prometheus::Family<prometheus::Histogram>*>(
      FamilyFor(name, help, Kind::kHistogram));
  prometheus::Labels prom_labels(labels.begin(), labels.end());
  return histograms_.emplace(key, Histogram(&family->Add(prom_labels, buckets))).first->second;
}

std::string MetricsRegistry::Serialize() const {
  return prometheus::TextSerializer().Serialize(registry_->Collect());
}

std::vector<std::pair<std::string, double>> MetricsRegistry::Snapshot() const {
  std::vector<std::pair<std::string, double>> values;
  for (const prometheus::MetricFamily& family : registry_->Collect()) {
    for (const prometheus::ClientMetric& metric : family.metric) {
      switch (family.type) {
        case prometheus::MetricType::Counter:
          values.emplace_back(SeriesKey(family.name, metric.label), metric.counter.value);
          break;
        case prometheus::MetricType::Gauge:
          values.emplace_back(SeriesKey(family.name, metric.label), metric.gauge.value);
          break;
        case prometheus::MetricType::Histogram:
          values.emplace_back(SeriesKey(family.name, metric.label, "_count"),
                              static_cast<double>(metric.histogram.sample_count));
          values.emplace_back(SeriesKey(family.name, metric.label, "_sum"),
                              metric.histogram.sample_sum);
          break;
        default:
          break;
      }
    }
  }
  return values;
}

}  // namespace tandem
