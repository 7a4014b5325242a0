#include "common/metrics_http.h"

#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"

namespace tandem {
namespace {

constexpr size_t kMaxRequestBytes = 16 << 10;
constexpr absl::Duration kConnectionTimeout = absl::Seconds(5);
constexpr size_t kMaxConnections = 64;

}  // namespace

absl::StatusOr<std::unique_ptr<MetricsHttpServer>> MetricsHttpServer::Start(
    const std::string& address, std::function<std::string()> body) {
  const size_t colon = address.rfind(':');
  if (colon == std::string::npos) {
    return absl::InvalidArgumentError(
        absl::StrCat("metrics: address '", address, "' is not host:port"));
  }
  std::string host = address.substr(0, colon);
  const std::string port = address.substr(colon + 1);
  if (absl::StartsWith(host, "[") && absl::EndsWith(host, "]")) {
    host = host.substr(1, host.size() - 2);
  }
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
  addrinfo* found = nullptr;
  if (const int error =
          getaddrinfo(host.empty() ? nullptr : host.c_str(), port.c_str(), &hints, &found);
      error != 0) {
    return absl::UnavailableError(
        absl::StrCat("metrics: cannot serve /metrics on ", address, ": ", gai_strerror(error)));
  }
  int fd = -1;
  std::string failure = "no usable address";
  for (addrinfo* a = found; a != nullptr; a = a->ai_next) {
    fd = socket(a->ai_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0) continue;
    const int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (bind(fd, a->ai_addr, a->ai_addrlen) == 0 && listen(fd, 64) == 0) break;
    failure = std::strerror(errno);
    close(fd);
    fd = -1;
  }
  freeaddrinfo(found);
  if (fd < 0) {
    return absl::UnavailableError(
        absl::StrCat("metrics: cannot serve /metrics on ", address, ": ", failure));
  }
  sockaddr_storage bound{};
  socklen_t length = sizeof(bound);
  getsockname(fd, reinterpret_cast<sockaddr*>(&bound), &length);
  const int bound_port = bound.ss_family == AF_INET6
                             ? ntohs(reinterpret_cast<sockaddr_in6*>(&bound)->sin6_port)
                             : ntohs(reinterpret_cast<sockaddr_in*>(&bound)->sin_port);
  return std::unique_ptr<MetricsHttpServer>(new MetricsHttpServer(fd, bound_port, std::move(body)));
}

MetricsHttpServer::MetricsHttpServer(int fd, int port, std::function<std::string()> body)
    : fd_(fd), port_(port), body_(std::move(body)) {
  thread_ = std::thread([this] { Serve(); });
}

MetricsHttpServer::~MetricsHttpServer() {
  stopping_ = true;
  thread_.join();
  close(fd_);
}

struct MetricsHttpServer::Connection {
  int fd;
  absl::Time deadline;
  std::string request;
  std::string response;  // non-empty once the request is complete
  size_t sent = 0;
};

void MetricsHttpServer::Serve() {
  std::vector<Connection> connections;
  std::vector<pollfd> polled;
  while (!stopping_) {
    polled.clear();
    polled.push_back({fd_, POLLIN, 0});
    for (const Connection& c : connections) {
      polled.push_back({c.fd, static_cast<short>(c.response.empty() ? POLLIN : POLLOUT), 0});
    }
    if (poll(polled.data(), polled.size(), 100) < 0 && errno != EINTR) continue;
    const absl::Time now = absl::Now();
    // Serve the open connections first (polled[i + 1] belongs to connections[i]).
    std::vector<Connection> open;
    open.reserve(connections.size());
    for (size_t i = 0; i < connections.size(); ++i) {
      Connection& c = connections[i];
      const short events = polled[i + 1].revents;
      bool keep = now < c.deadline;
      if (keep && (events & (POLLERR | POLLNVAL)) != 0) keep = false;
      if (keep && c.response.empty() && (events & (POLLIN | POLLHUP)) != 0) keep = OnReadable(c);
      if (keep && !c.response.empty() && (events & POLLOUT) != 0) keep = OnWritable(c);
      if (keep) {
        open.push_back(std::move(c));
      } else {
        close(c.fd);
      }
    }
    connections = std::move(open);
    if ((polled[0].revents & POLLIN) == 0) continue;
    while (true) {
      const int fd = accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK);
      if (fd < 0) break;
      if (connections.size() >= kMaxConnections) {
        // Full: the connection closest to its deadline (the oldest) makes room.
        close(connections.front().fd);
        connections.erase(connections.begin());
      }
      connections.push_back({fd, now + kConnectionTimeout, "", "", 0});
    }
  }
  for (const Connection& c : connections) close(c.fd);
}

bool MetricsHttpServer::OnReadable(Connection& c) {
  char buffer[4096];
  const ssize_t n = recv(c.fd, buffer, sizeof(buffer), 0);
  if (n < 0) return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR;
  if (n == 0) return false;  // closed before a whole request arrived
  c.request.append(buffer, n);
  if (c.request.size() > kMaxRequestBytes) {
    c.response = "HTTP/1.1 431 Request Header Fields Too Large\r\nConnection: close\r\n\r\n";
  } else if (c.request.find("\r\n\r\n") != std::string::npos ||
             c.request.find("\n\n") != std::string::npos) {
    c.response = Respond(c.request);
  } else {
    return true;
  }
  return OnWritable(c);  // usually the whole response fits the socket buffer at once
}

bool MetricsHttpServer::OnWritable(Connection& c) {
  while (c.sent < c.response.size()) {
    const ssize_t n =
        send(c.fd, c.response.data() + c.sent, c.response.size() - c.sent, MSG_NOSIGNAL);
    if (n < 0) return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR;
    c.sent += static_cast<size_t>(n);
  }
  return false;  // answered; Connection: close
}

std::string MetricsHttpServer::Respond(const std::string& request) {
  const absl::string_view line = absl::string_view(request).substr(0, request.find('\n'));
  const bool get = absl::StartsWith(line, "GET ");
  const bool head = absl::StartsWith(line, "HEAD ");
  absl::string_view target = line.substr(line.find(' ') + 1);
  target = target.substr(0, target.find(' '));
  target = target.substr(0, target.find('?'));
  if (!get && !head) {
    return "HTTP/1.1 405 Method Not Allowed\r\nAllow: GET, HEAD\r\nConnection: close\r\n\r\n";
  }
  if (target != "/metrics") {
    const std::string text = "Tandem serves Prometheus metrics at /metrics\n";
    return absl::StrCat("HTTP/1.1 404 Not Found\r\nContent-Type: text/plain\r\nContent-Length: ",
                        text.size(), "\r\nConnection: close\r\n\r\n", text);
  }
  const std::string body = body_();
  return absl::StrCat(
      "HTTP/1.1 200 OK\r\nContent-Type: text/plain; version=0.0.4; charset=utf-8\r\n"
      "Content-Length: ",
      body.size(), "\r\nConnection: close\r\n\r\n", head ? "" : body);
}

}  // namespace tandem
