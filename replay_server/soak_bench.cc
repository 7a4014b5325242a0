// `tandem bench soak`: many actor streams into one replay server with a learner sampling, for a
// long time, on loopback TCP. Reports RSS growth, insert latency percentiles, throughput, and
// checks that every inserted transition was acknowledged and stored (inserted = acknowledged =
// stored) and that nothing deadlocked (every stream finishes within its deadline).
#include "replay_server/soak_bench.h"

#include <algorithm>
#include <atomic>
#include <fstream>
#include <iomanip>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "common/config.h"
#include "common/replay_client.h"
#include "common/status_macros.h"
#include "common/transition_schema.h"
#include "grpcpp/create_channel.h"
#include "replay_server/replay_server.h"

namespace tandem::replay {
namespace {

// Resident set size of this process, in MiB (from /proc/self/status).
double RssMiB() {
  std::ifstream status("/proc/self/status");
  for (std::string line; std::getline(status, line);) {
    if (line.rfind("VmRSS:", 0) == 0) return std::stod(line.substr(6)) / 1024.0;
  }
  return 0;
}

struct StreamResult {
  int64_t inserted = 0;
  int64_t acknowledged = 0;
  std::vector<double> latencies_ms;
  absl::Status status;
};

absl::Status RunSoak(const cli::Args& args, std::ostream& out) {
  const int streams = static_cast<int>(args.GetInt("streams"));
  const absl::Duration duration = absl::Seconds(args.GetDouble("seconds"));
  const int rows = static_cast<int>(args.GetInt("rows"));
  if (streams < 1 || rows < 1 || duration <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError("--streams, --rows and --seconds must be positive");
  }
  // HalfCheetah-6x1 (OMIGA's observations) shaped transitions.
  TransitionSpec spec;
  spec.set_num_agents(6);
  spec.set_obs_size(23);
  spec.set_state_size(23);
  spec.set_action_type(ACTION_TYPE_CONTINUOUS);
  spec.set_action_size(1);
  ASSIGN_OR_RETURN(TransitionSchema schema, TransitionSchema::Create(spec));
  TransitionBatch batch;
  schema.Allocate(rows, &batch);
  for (const Column& column : schema.columns()) {
    std::string* data = MutableField(&batch, column.field)->mutable_data();
    std::fill(data->begin(), data->end(), 0);
  }

  ExperimentConfig config;
  FillDefaults(&config);
  config.mutable_replay()->set_address("127.0.0.1:0");
  config.mutable_replay()->set_offline_ratio(0);
  config.mutable_replay()->set_min_size_to_sample(1);
  config.mutable_replay()->set_online_capacity(args.GetInt("capacity"));
  ASSIGN_OR_RETURN(auto metrics, MetricsRegistry::Create(""));
  ASSIGN_OR_RETURN(auto server, ReplayServer::Start(config, metrics.get(), spec));
  auto channel = [&] {
    grpc::ChannelArguments arguments;
    arguments.SetMaxReceiveMessageSize(-1);
    // One TCP connection per client, as separate actor processes have.
    arguments.SetInt("grpc.use_local_subchannel_pool", 1);
    return grpc::CreateCustomChannel(absl::StrCat("127.0.0.1:", server->port()),
                                     grpc::InsecureChannelCredentials(), arguments);
  };

  out << "tandem bench soak: " << streams << " insert streams of " << rows << "-transition "
      << "messages (" << rows * schema.row_bytes() / 1024 << " KiB) and one sampler (batch 256), "
      << absl::FormatDuration(duration) << ", loopback TCP, capacity " << args.GetInt("capacity")
      << std::endl;
  const double rss_start = RssMiB();
  const absl::Time start = absl::Now();
  const absl::Time end = start + duration;
  std::atomic<bool> stop{false};
  std::vector<StreamResult> results(streams);
  std::vector<std::thread> threads;
  for (int s = 0; s < streams; ++s) {
    threads.emplace_back([&, s] {
      ReplayClient client(channel(), "");
      StreamResult& r = results[s];
      auto writer = client.NewWriter(1);
      while (absl::Now() < end) {
        const absl::Time sent = absl::Now();
        r.status = writer->Write(batch);
        if (!r.status.ok()) return;
        r.inserted += rows;
        // With one message in flight, Write returns once the previous one was acknowledged: the
        // time of a Write is one insert's round trip (validation, table, rate limiter included).
        r.latencies_ms.push_back(absl::ToDoubleMilliseconds(absl::Now() - sent));
      }
      r.status = writer->Finish();
      r.acknowledged = writer->acknowledged_transitions();
    });
  }
  int64_t sampled = 0;
  absl::Status sample_status;
  std::vector<std::pair<double, double>> rss_curve;  // (seconds, MiB)
  std::thread sampler([&] {
    ReplayClient client(channel(), "");
    SampleRequest request;
    request.set_batch_size(256);
    request.set_rate_limiter_timeout_ms(10000);
    auto stream = client.NewSampler(request);
    SampleResponse response;
    while (!stop.load()) {
      sample_status = stream->Next(&response);
      if (!sample_status.ok()) return;
      sampled += 256;
    }
    stream->Cancel();
  });
  absl::Time next_report = start + absl::Seconds(std::max(1.0, args.GetDouble("seconds") / 10));
  while (absl::Now() < end) {
    absl::SleepFor(absl::Milliseconds(200));
    if (absl::Now() >= next_report) {
      rss_curve.emplace_back(absl::ToDoubleSeconds(absl::Now() - start), RssMiB());
      next_report += absl::Seconds(std::max(1.0, args.GetDouble("seconds") / 10));
    }
  }
  // Every stream must finish within a grace period: a deadlock would hang here.
  const absl::Time deadline = absl::Now() + absl::Seconds(30);
  for (std::thread& t : threads) t.join();
  const bool in_time = absl::Now() < deadline;
  stop = true;
  sampler.join();
  const double seconds = absl::ToDoubleSeconds(absl::Now() - start);
  const double rss_end = RssMiB();

  int64_t inserted = 0, acknowledged = 0;
  std::vector<double> latencies;
  for (const StreamResult& r : results) {
    RETURN_IF_ERROR(r.status);
    inserted += r.inserted;
    acknowledged += r.acknowledged;
    latencies.insert(latencies.end(), r.latencies_ms.begin(), r.latencies_ms.end());
  }
  RETURN_IF_ERROR(sample_status);
  std::sort(latencies.begin(), latencies.end());
  auto percentile = [&](double p) {
    return latencies.empty() ? 0.0
                             : latencies[std::min(latencies.size() - 1,
                                                  static_cast<size_t>(p * latencies.size()))];
  };
  const int64_t stored = server->service().table_size("online");
  const int64_t capacity = args.GetInt("capacity");
  // The table is a FIFO ring: what it holds is min(inserted, capacity).
  const bool consistent = inserted == acknowledged && stored == std::min(inserted, capacity);
  server->Shutdown();

  out << std::fixed << std::setprecision(1);
  out << "  inserted " << inserted << ", acknowledged " << acknowledged << ", stored " << stored
      << " (capacity " << capacity << ")   " << (consistent ? "consistent" : "INCONSISTENT")
      << "\n";
  out << "  insert throughput " << std::setprecision(0) << inserted / seconds
      << " transitions/s; sampled " << sampled / seconds << " transitions/s\n";
  out << std::setprecision(2) << "  insert latency ms: p50 " << percentile(0.5) << ", p99 "
      << percentile(0.99) << ", max " << (latencies.empty() ? 0.0 : latencies.back()) << "\n";
  out << std::setprecision(1) << "  RSS " << rss_start << " MiB at start, " << rss_end
      << " MiB at the end (+" << rss_end - rss_start << ")";
  if (!rss_curve.empty()) {
    out << "; over time:";
    for (const auto& [t, mib] : rss_curve) out << " " << std::setprecision(0) << t << "s " << mib;
  }
  out << "\n  every stream finished " << (in_time ? "in time (no deadlock)" : "LATE") << "\n";
  if (!consistent || !in_time) {
    return absl::InternalError("the soak run lost, duplicated or stalled data (see above)");
  }
  return absl::OkStatus();
}

}  // namespace

cli::Command SoakBenchCommand() {
  cli::Command command("soak",
                       "Many insert streams and a sampler against one replay server for a long "
                       "time: RSS growth, insert latency, inserted = acknowledged = stored.");
  command.flags = {
      {"streams", cli::FlagKind::kInt, "Concurrent insert streams (actors).", "32", "N"},
      {"seconds", cli::FlagKind::kDouble, "Duration.", "600", "S"},
      {"rows", cli::FlagKind::kInt, "Transitions per insert message.", "100", "N"},
      {"capacity", cli::FlagKind::kInt, "Online table capacity (a FIFO ring).", "1000000", "N"},
  };
  command.run = cli::StatusHandler("tandem bench soak", RunSoak);
  return command;
}

}  // namespace tandem::replay
