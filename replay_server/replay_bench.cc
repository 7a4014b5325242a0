#include "replay_server/replay_bench.h"

#include <filesystem>
#include <iomanip>
#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/config.h"
#include "common/grpc_status.h"
#include "common/metrics.h"
#include "common/replay_client.h"
#include "common/status_macros.h"
#include "common/transition_schema.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/server_builder.h"
#include "proto/bench_service.grpc.pb.h"
#include "replay_server/replay_server.h"

namespace tandem::replay {
namespace {

namespace fs = std::filesystem;

// The raw service: same message types as the replay service, no logic.
class RawService final : public BenchService::Service {
 public:
  explicit RawService(SampleResponse canned) : canned_(std::move(canned)) {}

  grpc::Status Sink(grpc::ServerContext* context,
                    grpc::ServerReaderWriter<InsertResponse, InsertRequest>* stream) override {
    InsertRequest request;
    InsertResponse ack;
    while (stream->Read(&request)) {
      ack.set_acked_sequence(request.sequence());
      ack.set_stored_transitions(NumSteps(request.batch()));
      if (!stream->Write(ack)) break;
    }
    return grpc::Status::OK;
  }

  grpc::Status Source(grpc::ServerContext* context, const SampleRequest* request,
                      grpc::ServerWriter<SampleResponse>* writer) override {
    for (int64_t i = 0; request->num_batches() == 0 || i < request->num_batches(); ++i) {
      if (context->IsCancelled() || !writer->Write(canned_)) break;
    }
    return grpc::Status::OK;
  }

 private:
  const SampleResponse canned_;
};

std::shared_ptr<grpc::Channel> Connect(int port) {
  grpc::ChannelArguments arguments;
  arguments.SetMaxReceiveMessageSize(-1);
  arguments.SetMaxSendMessageSize(-1);
  return grpc::CreateCustomChannel(absl::StrCat("127.0.0.1:", port),
                                   grpc::InsecureChannelCredentials(), arguments);
}

struct Rate {
  double bytes_per_second = 0;
  double messages_per_second = 0;
};

// Streams `request` into `stream`-like writer for `seconds`, pipelined with `in_flight` messages.
absl::StatusOr<Rate> MeasureReplayInsert(ReplayClient& client, const TransitionBatch& batch,
                                         int64_t payload_bytes, absl::Duration duration) {
  auto writer = client.NewWriter(8);
  const absl::Time start = absl::Now();
  int64_t messages = 0;
  while (absl::Now() - start < duration) {
    RETURN_IF_ERROR(writer->Write(batch));
    ++messages;
  }
  RETURN_IF_ERROR(writer->Finish());
  const double seconds = absl::ToDoubleSeconds(absl::Now() - start);
  return Rate{static_cast<double>(messages * payload_bytes) / seconds, messages / seconds};
}

absl::StatusOr<Rate> MeasureReplaySample(ReplayClient& client, int rows, int64_t payload_bytes,
                                         absl::Duration duration) {
  SampleRequest request;
  request.set_batch_size(rows);
  auto sampler = client.NewSampler(request);
  SampleResponse response;
  RETURN_IF_ERROR(sampler->Next(&response));  // first batch: connection warm-up
  const absl::Time start = absl::Now();
  int64_t messages = 0;
  while (absl::Now() - start < duration) {
    RETURN_IF_ERROR(sampler->Next(&response));
    ++messages;
  }
  const double seconds = absl::ToDoubleSeconds(absl::Now() - start);
  sampler->Cancel();
  return Rate{static_cast<double>(messages * payload_bytes) / seconds, messages / seconds};
}

absl::StatusOr<Rate> MeasureRawInsert(BenchService::Stub& stub, const TransitionBatch& batch,
                                      int64_t payload_bytes, absl::Duration duration) {
  grpc::ClientContext context;
  auto stream = stub.Sink(&context);
  InsertRequest request;
  *request.mutable_batch() = batch;
  InsertResponse ack;
  const absl::Time start = absl::Now();
  int64_t sent = 0, acked = 0;
  constexpr int kInFlight = 8;
  while (absl::Now() - start < duration) {
    if (sent - acked >= kInFlight) {
      if (!stream->Read(&ack)) break;
      ++acked;
    }
    request.set_sequence(++sent);
    if (!stream->Write(request)) break;
  }
  stream->WritesDone();
  while (stream->Read(&ack)) ++acked;
  RETURN_IF_ERROR(FromGrpcStatus(stream->Finish()));
  const double seconds = absl::ToDoubleSeconds(absl::Now() - start);
  return Rate{static_cast<double>(acked * payload_bytes) / seconds, acked / seconds};
}

absl::StatusOr<Rate> MeasureRawSample(BenchService::Stub& stub, int64_t payload_bytes,
                                      absl::Duration duration) {
  grpc::ClientContext context;
  SampleRequest request;
  auto reader = stub.Source(&context, request);
  SampleResponse response;
  if (!reader->Read(&response)) return absl::UnavailableError("raw source ended");
  const absl::Time start = absl::Now();
  int64_t messages = 0;
  while (absl::Now() - start < duration && reader->Read(&response)) ++messages;
  const double seconds = absl::ToDoubleSeconds(absl::Now() - start);
  context.TryCancel();
  while (reader->Read(&response)) {
  }
  reader->Finish().ok();
  return Rate{static_cast<double>(messages * payload_bytes) / seconds, messages / seconds};
}

ExperimentConfig BenchConfig(const std::string& wal_dir, ReplayConfig::FsyncPolicy policy) {
  ExperimentConfig config;
  FillDefaults(&config);
  config.mutable_replay()->set_address("127.0.0.1:0");
  config.mutable_replay()->set_offline_ratio(0);
  config.mutable_replay()->set_min_size_to_sample(1);
  config.mutable_replay()->set_online_capacity(200000);
  config.mutable_replay()->set_wal_dir(wal_dir);
  config.mutable_replay()->set_fsync_policy(policy);
  return config;
}

absl::StatusOr<Rate> InsertIntoFreshServer(const std::string& wal_dir,
                                           ReplayConfig::FsyncPolicy policy,
                                           const TransitionBatch& batch, int64_t payload_bytes,
                                           absl::Duration duration) {
  ASSIGN_OR_RETURN(auto metrics, MetricsRegistry::Create(""));
  if (!wal_dir.empty()) fs::remove_all(wal_dir);
  ASSIGN_OR_RETURN(auto server, ReplayServer::Start(BenchConfig(wal_dir, policy), metrics.get()));
  ReplayClient client(Connect(server->port()), "");
  RETURN_IF_ERROR(client.WaitUntilReady(absl::Seconds(10)));
  auto rate = MeasureReplayInsert(client, batch, payload_bytes, duration);
  server->Shutdown();
  if (!wal_dir.empty()) fs::remove_all(wal_dir);
  return rate;
}

void PrintRow(std::ostream& out, const std::string& name, const Rate& rate, double ratio,
              const std::string& ratio_name) {
  out << "  " << std::left << std::setw(38) << name << std::right << std::fixed
      << std::setprecision(1) << std::setw(10) << rate.bytes_per_second / 1e6 << " MB/s"
      << std::setw(10) << std::setprecision(0) << rate.messages_per_second << " msg/s";
  if (ratio > 0) out << "   " << std::setprecision(2) << ratio << " x " << ratio_name;
  out << "\n";
}

absl::Status RunBench(const cli::Args& args, std::ostream& out) {
  const int64_t target_bytes = args.GetInt("message_kb") * 1024;
  const absl::Duration duration = absl::Seconds(args.GetDouble("seconds"));
  // HalfCheetah-6x1 in OMIGA's observation mode: 6 agents, obs 23, state 23, 1 action each.
  TransitionSpec spec;
  spec.set_num_agents(6);
  spec.set_obs_size(23);
  spec.set_state_size(23);
  spec.set_action_type(ACTION_TYPE_CONTINUOUS);
  spec.set_action_size(1);
  ASSIGN_OR_RETURN(TransitionSchema schema, TransitionSchema::Create(spec));
  const int rows = static_cast<int>(std::max<int64_t>(1, target_bytes / schema.row_bytes()));
  const int64_t payload = rows * schema.row_bytes();
  TransitionBatch batch;
  schema.Allocate(rows, &batch);
  for (const Column& column : schema.columns()) {
    std::string* data = MutableField(&batch, column.field)->mutable_data();
    std::fill(data->begin(), data->end(), 0);
  }

  out << "tandem bench replay: " << rows << " transitions of " << schema.row_bytes()
      << " B per message (" << std::fixed << std::setprecision(1) << payload / 1024.0
      << " KiB payload), " << absl::FormatDuration(duration) << " per measurement, loopback TCP\n";

  // Raw gRPC with the same messages.
  SampleResponse canned;
  schema.Allocate(rows, canned.mutable_batch()->mutable_transitions());
  RawService raw_service(canned);
  grpc::ServerBuilder builder;
  int raw_port = 0;
  builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &raw_port);
  builder.SetMaxReceiveMessageSize(std::numeric_limits<int>::max());
  builder.RegisterService(&raw_service);
  std::unique_ptr<grpc::Server> raw_server = builder.BuildAndStart();
  if (raw_server == nullptr) return absl::UnavailableError("cannot start the raw gRPC server");
  auto raw_stub = BenchService::NewStub(Connect(raw_port));
  ASSIGN_OR_RETURN(Rate raw_insert, MeasureRawInsert(*raw_stub, batch, payload, duration));
  ASSIGN_OR_RETURN(Rate raw_sample, MeasureRawSample(*raw_stub, payload, duration));
  raw_server->Shutdown();

  // The replay server, in memory.
  ASSIGN_OR_RETURN(auto metrics, MetricsRegistry::Create(""));
  ASSIGN_OR_RETURN(auto server,
                   ReplayServer::Start(BenchConfig("", ReplayConfig::FSYNC_NEVER), metrics.get()));
  ReplayClient client(Connect(server->port()), "");
  RETURN_IF_ERROR(client.WaitUntilReady(absl::Seconds(10)));
  ASSIGN_OR_RETURN(Rate insert, MeasureReplayInsert(client, batch, payload, duration));
  ASSIGN_OR_RETURN(Rate sample, MeasureReplaySample(client, rows, payload, duration));
  server->Shutdown();

  out << "\n";
  PrintRow(out, "raw gRPC client stream (no logic)", raw_insert, 0, "");
  PrintRow(out, "replay insert (memory only)", insert,
           insert.bytes_per_second / raw_insert.bytes_per_second, "raw");
  PrintRow(out, "raw gRPC server stream (no logic)", raw_sample, 0, "");
  PrintRow(out, "replay sample (rho = 0)", sample,
           sample.bytes_per_second / raw_sample.bytes_per_second, "raw");

  if (!args.GetBool("skip_wal")) {
    const std::string wal_dir = args.GetString("wal_dir");
    out << "\n  write-ahead log in " << wal_dir << " (insert throughput, ratio to memory only):\n";
    for (auto [policy, name] :
         {std::pair{ReplayConfig::FSYNC_NEVER, "replay insert, WAL fsync never"},
          std::pair{ReplayConfig::FSYNC_INTERVAL, "replay insert, WAL fsync every 100 ms"},
          std::pair{ReplayConfig::FSYNC_EVERY_BATCH, "replay insert, WAL fsync every batch"}}) {
      ASSIGN_OR_RETURN(Rate rate, InsertIntoFreshServer(wal_dir, policy, batch, payload, duration));
      PrintRow(out, name, rate, rate.bytes_per_second / insert.bytes_per_second, "memory");
    }
  }
  return absl::OkStatus();
}

}  // namespace

cli::Command ReplayBenchCommand() {
  cli::Command command("replay",
                       "Replay insert/sample throughput over loopback gRPC vs raw gRPC streaming "
                       "of the same messages, and the cost of each fsync policy.");
  command.flags = {
      {"message_kb", cli::FlagKind::kInt, "Target payload per message, KiB.", "64", "N"},
      {"seconds", cli::FlagKind::kDouble, "Duration of each measurement.", "3", "S"},
      {"wal_dir", cli::FlagKind::kString, "Scratch directory for the write-ahead-log runs.",
       "/tmp/tandem-bench-wal", "DIR"},
      {"skip_wal", cli::FlagKind::kBool, "Skip the write-ahead-log measurements.", "false"},
  };
  command.run = cli::StatusHandler("tandem bench replay", RunBench);
  return command;
}

}  // namespace tandem::replay
