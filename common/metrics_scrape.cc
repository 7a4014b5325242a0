#include "common/metrics_scrape.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cmath>
#include <cstring>
#include <limits>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"

namespace tandem {
namespace {

// Closes the descriptor on every path.
class Socket {
 public:
  explicit Socket(int fd) : fd_(fd) {}
  ~Socket() {
    if (fd_ >= 0) close(fd_);
  }
  int fd() const { return fd_; }

 private:
  int fd_;
};

// Waits until `fd` is ready for `events` or the deadline passes.
bool WaitFor(int fd, short events, absl::Time deadline) {
  const int64_t ms = absl::ToInt64Milliseconds(deadline - absl::Now());
  if (ms <= 0) return false;
  pollfd p{fd, events, 0};
  return poll(&p, 1, static_cast<int>(ms)) == 1;
}

}  // namespace

absl::StatusOr<std::string> HttpGet(const std::string& host, int port, const std::string& path,
                                    absl::Duration timeout) {
  const std::string where = absl::StrCat("http://", host, ":", port, path);
  const absl::Time deadline = absl::Now() + timeout;
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  if (getaddrinfo(host.c_str(), std::to_string(port).c_str(), &hints, &found) != 0 ||
      found == nullptr) {
    return absl::UnavailableError(absl::StrCat(where, ": cannot resolve ", host));
  }
  Socket socket(::socket(found->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  const int connected =
      socket.fd() < 0 ? -1 : connect(socket.fd(), found->ai_addr, found->ai_addrlen);
  freeaddrinfo(found);
  if (socket.fd() < 0) return absl::InternalError(absl::StrCat(where, ": ", std::strerror(errno)));
  if (connected != 0) {
    if (errno != EINPROGRESS || !WaitFor(socket.fd(), POLLOUT, deadline)) {
      return absl::UnavailableError(absl::StrCat(where, ": cannot connect"));
    }
    int error = 0;
    socklen_t length = sizeof(error);
    getsockopt(socket.fd(), SOL_SOCKET, SO_ERROR, &error, &length);
    if (error != 0) {
      return absl::UnavailableError(absl::StrCat(where, ": ", std::strerror(error)));
    }
  }
  const std::string request = absl::StrCat("GET ", path, " HTTP/1.0\r\nHost: ", host, "\r\n\r\n");
  size_t sent = 0;
  while (sent < request.size()) {
    if (!WaitFor(socket.fd(), POLLOUT, deadline)) {
      return absl::UnavailableError(absl::StrCat(where, ": timed out sending"));
    }
    const ssize_t n = send(socket.fd(), request.data() + sent, request.size() - sent, MSG_NOSIGNAL);
    if (n < 0 && errno != EAGAIN) {
      return absl::UnavailableError(absl::StrCat(where, ": ", std::strerror(errno)));
    }
    if (n > 0) sent += n;
  }
  std::string response;
  char buffer[16384];
  while (true) {
    if (!WaitFor(socket.fd(), POLLIN, deadline)) {
      return absl::UnavailableError(absl::StrCat(where, ": timed out reading"));
    }
    const ssize_t n = recv(socket.fd(), buffer, sizeof(buffer), 0);
    if (n == 0) break;
    if (n < 0) {
      if (errno == EAGAIN) continue;
      return absl::UnavailableError(absl::StrCat(where, ": ", std::strerror(errno)));
    }
    response.append(buffer, n);
  }
  const size_t header_end = response.find("\r\n\r\n");
  if (header_end == std::string::npos) {
    return absl::InternalError(absl::StrCat(where, ": malformed HTTP response"));
  }
  const std::string status_line = response.substr(0, response.find("\r\n"));
  std::vector<std::string> parts = absl::StrSplit(status_line, ' ');
  if (parts.size() < 2 || parts[1] != "200") {
    return absl::InternalError(absl::StrCat(where, ": ", status_line));
  }
  return response.substr(header_end + 4);
}

absl::StatusOr<MetricSamples> ParseExposition(const std::string& text) {
  MetricSamples samples;
  int line_number = 0;
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    ++line_number;
    line = absl::StripAsciiWhitespace(line);
    if (line.empty() || line.front() == '#') continue;
    // name{labels} value [timestamp]; label values may contain spaces, so split after the '}'.
    size_t name_end = line.find_first_of("{ ");
    if (name_end == absl::string_view::npos) {
      return absl::InvalidArgumentError(
          absl::StrCat("metrics line ", line_number, ": no value in '", line, "'"));
    }
    std::string key(line.substr(0, name_end));
    absl::string_view rest = line.substr(name_end);
    if (rest.front() == '{') {
      const size_t close = rest.rfind('}');
      if (close == absl::string_view::npos) {
        return absl::InvalidArgumentError(
            absl::StrCat("metrics line ", line_number, ": unterminated labels in '", line, "'"));
      }
      absl::StrAppend(&key, rest.substr(0, close + 1));
      rest = rest.substr(close + 1);
    } else {
      absl::StrAppend(&key, "{}");
    }
    std::vector<absl::string_view> fields =
        absl::StrSplit(absl::StripAsciiWhitespace(rest), ' ', absl::SkipEmpty());
    if (fields.empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat("metrics line ", line_number, ": no value in '", line, "'"));
    }
    double value = 0;
    if (fields[0] == "NaN") {
      value = std::numeric_limits<double>::quiet_NaN();
    } else if (fields[0] == "+Inf") {
      value = std::numeric_limits<double>::infinity();
    } else if (fields[0] == "-Inf") {
      value = -std::numeric_limits<double>::infinity();
    } else if (!absl::SimpleAtod(fields[0], &value)) {
      return absl::InvalidArgumentError(
          absl::StrCat("metrics line ", line_number, ": value is not a number in '", line, "'"));
    }
    samples[key] = value;
  }
  return samples;
}

absl::StatusOr<MetricSamples> ScrapeMetrics(const std::string& host, int port,
                                            absl::Duration timeout) {
  absl::StatusOr<std::string> body = HttpGet(host, port, "/metrics", timeout);
  if (!body.ok()) return body.status();
  return ParseExposition(*body);
}

double SumSamples(const MetricSamples& samples, const std::string& name) {
  double sum = 0;
  const std::string prefix = name + "{";
  for (auto it = samples.lower_bound(prefix); it != samples.end(); ++it) {
    if (it->first.compare(0, prefix.size(), prefix) != 0) break;
    sum += it->second;
  }
  return sum;
}

double SampleOr(const MetricSamples& samples, const std::string& name, const std::string& labels,
                double fallback) {
  auto it = samples.find(absl::StrCat(name, "{", labels, "}"));
  return it == samples.end() ? fallback : it->second;
}

}  // namespace tandem
