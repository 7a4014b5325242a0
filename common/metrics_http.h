// The HTTP endpoint serving GET /metrics (Prometheus text format 0.0.4).
//
// Why not prometheus-cpp's Exposer: it runs civetweb, whose threads are created with a fixed
// 100 KiB stack. glibc carves a process's static TLS out of every thread stack, and a process that
// loads LibTorch with OpenBLAS and glog already has more than 100 KiB of it, so civetweb cannot
// start a single thread there (pthread_create returns EINVAL) and the learner and actors could not
// serve metrics. This server uses one thread with the default stack; a scrape is a few KiB, so one
// connection at a time is plenty.
#ifndef TANDEM_COMMON_METRICS_HTTP_H_
#define TANDEM_COMMON_METRICS_HTTP_H_

#include <atomic>
#include <functional>
#include <memory>
#include <string>
#include <thread>

#include "absl/status/statusor.h"

namespace tandem {

class MetricsHttpServer {
 public:
  // Binds `address` ("host:port"; port 0 = a free port; host "0.0.0.0" or "[::]" for all
  // interfaces) and serves GET /metrics with `body()` until destroyed. UNAVAILABLE when the
  // address cannot be bound.
  static absl::StatusOr<std::unique_ptr<MetricsHttpServer>> Start(
      const std::string& address, std::function<std::string()> body);
  ~MetricsHttpServer();

  int port() const { return port_; }

 private:
  MetricsHttpServer(int fd, int port, std::function<std::string()> body);
  void Serve();
  void Handle(int connection);

  const int fd_;
  const int port_;
  const std::function<std::string()> body_;
  std::atomic<bool> stopping_{false};
  std::thread thread_;
};

}  // namespace tandem

#endif  // TANDEM_COMMON_METRICS_HTTP_H_
