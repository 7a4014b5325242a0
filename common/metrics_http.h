// The HTTP endpoint serving GET /metrics (Prometheus text format 0.0.4).
//
// Why not prometheus-cpp's Exposer: it runs civetweb, whose threads are created with a fixed
// 100 KiB stack. glibc carves a process's static TLS out of every thread stack, and a process that
// loads LibTorch with OpenBLAS and glog already has more than 100 KiB of it, so civetweb cannot
// start a single thread there (pthread_create returns EINVAL) and the learner and actors could not
// serve metrics. This server uses one thread with the default stack and an event loop (poll over
// non-blocking sockets): connections are served side by side, so idle or slow clients cannot hold
// a scrape back. Each connection has a 5 s deadline, and at most 64 are open at once (the oldest
// is closed to admit a new one).
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
  // One client connection: what it sent so far, then the response being written.
  struct Connection;
  void Serve();
  // Reads what `c` has sent; once the request is complete, builds the response. False when the
  // connection is finished (closed by the peer, malformed, or fully answered).
  bool OnReadable(Connection& c);
  bool OnWritable(Connection& c);
  std::string Respond(const std::string& request);

  const int fd_;
  const int port_;
  const std::function<std::string()> body_;
  std::atomic<bool> stopping_{false};
  std::thread thread_;
};

}  // namespace tandem

#endif  // TANDEM_COMMON_METRICS_HTTP_H_
