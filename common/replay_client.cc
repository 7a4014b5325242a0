#include "common/replay_client.h"

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/grpc_security.h"
#include "common/grpc_status.h"
#include "common/status_macros.h"
#include "common/transition_schema.h"
#include "grpcpp/create_channel.h"

namespace tandem::replay {

ReplayWriter::ReplayWriter(ReplayService::Stub* stub, const std::string& token, int max_in_flight,
                           const std::string& table)
    : max_in_flight_(std::max(1, max_in_flight)) {
  request_.set_table(table);
  AddAuthToken(&context_, token);
  stream_ = stub->Insert(&context_);
  reader_ = std::thread([this] { ReadAcks(); });
}

ReplayWriter::~ReplayWriter() {
  if (!finished_) {
    context_.TryCancel();
    Finish().IgnoreError();
  }
}

void ReplayWriter::ReadAcks() {
  InsertResponse ack;
  while (stream_->Read(&ack)) {
    absl::MutexLock lock(&mu_);
    acked_sequence_ = ack.acked_sequence();
    acked_transitions_ += ack.stored_transitions();
  }
  absl::MutexLock lock(&mu_);
  reader_done_ = true;
}

absl::Status ReplayWriter::Write(const TransitionBatch& batch) {
  if (finished_) return absl::FailedPreconditionError("writer already finished");
  bool broken = false;
  {
    absl::MutexLock lock(&mu_);
    auto room = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
      return reader_done_ || sent_ - acked_sequence_ < static_cast<uint64_t>(max_in_flight_);
    };
    mu_.Await(absl::Condition(&room));
    broken = reader_done_;
  }
  if (broken) {
    absl::Status status = Finish();
    return status.ok() ? absl::UnavailableError("insert stream closed by the server") : status;
  }
  request_.set_sequence(++sent_);
  *request_.mutable_batch() = batch;
  const bool ok = stream_->Write(request_);
  request_.clear_batch();
  if (!ok) {
    absl::Status status = Finish();
    return status.ok() ? absl::UnavailableError("insert stream closed by the server") : status;
  }
  return absl::OkStatus();
}

absl::Status ReplayWriter::Finish() {
  if (finished_) return final_status_;
  finished_ = true;
  stream_->WritesDone();
  if (reader_.joinable()) reader_.join();
  final_status_ = FromGrpcStatus(stream_->Finish());
  if (final_status_.ok()) {
    absl::MutexLock lock(&mu_);
    if (acked_sequence_ != sent_) {
      final_status_ = absl::DataLossError(absl::StrCat(
          "insert stream ended with ", sent_ - acked_sequence_, " batches unacknowledged"));
    }
  }
  return final_status_;
}

int64_t ReplayWriter::acknowledged_transitions() const {
  absl::MutexLock lock(&mu_);
  return acked_transitions_;
}

uint64_t ReplayWriter::acknowledged_sequence() const {
  absl::MutexLock lock(&mu_);
  return acked_sequence_;
}

ReplaySampler::ReplaySampler(ReplayService::Stub* stub, const std::string& token,
                             const SampleRequest& request) {
  AddAuthToken(&context_, token);
  reader_ = stub->Sample(&context_, request);
}

ReplaySampler::~ReplaySampler() {
  if (!done_) {
    context_.TryCancel();
    SampleResponse ignored;
    while (reader_->Read(&ignored)) {
    }
    reader_->Finish().ok();
  }
}

absl::Status ReplaySampler::Next(SampleResponse* response) {
  if (done_) return final_status_;
  if (reader_->Read(response)) return absl::OkStatus();
  done_ = true;
  final_status_ = FromGrpcStatus(reader_->Finish());
  if (final_status_.ok()) final_status_ = absl::OutOfRangeError("sample stream ended");
  return final_status_;
}

ReplayClient::ReplayClient(std::shared_ptr<grpc::Channel> channel, std::string token)
    : channel_(std::move(channel)),
      stub_(ReplayService::NewStub(channel_)),
      token_(std::move(token)) {}

absl::StatusOr<std::unique_ptr<ReplayClient>> ReplayClient::Connect(const std::string& address,
                                                                    const SecurityConfig& security,
                                                                    const std::string& token) {
  ASSIGN_OR_RETURN(auto credentials, MakeChannelCredentials(security));
  grpc::ChannelArguments arguments;
  arguments.SetMaxReceiveMessageSize(-1);
  arguments.SetMaxSendMessageSize(-1);
  return std::make_unique<ReplayClient>(grpc::CreateCustomChannel(address, credentials, arguments),
                                        token);
}

std::unique_ptr<ReplayWriter> ReplayClient::NewWriter(int max_in_flight, const std::string& table) {
  return std::unique_ptr<ReplayWriter>(new ReplayWriter(stub_.get(), token_, max_in_flight, table));
}

std::unique_ptr<ReplaySampler> ReplayClient::NewSampler(const SampleRequest& request) {
  return std::unique_ptr<ReplaySampler>(new ReplaySampler(stub_.get(), token_, request));
}

absl::StatusOr<ServerInfoResponse> ReplayClient::Info(absl::Duration timeout) {
  grpc::ClientContext context;
  AddAuthToken(&context, token_);
  context.set_deadline(absl::ToChronoTime(absl::Now() + timeout));
  ServerInfoResponse response;
  RETURN_IF_ERROR(FromGrpcStatus(stub_->ServerInfo(&context, ServerInfoRequest(), &response)));
  return response;
}

absl::StatusOr<UpdatePrioritiesResponse> ReplayClient::UpdatePriorities(
    const UpdatePrioritiesRequest& request, absl::Duration timeout) {
  grpc::ClientContext context;
  AddAuthToken(&context, token_);
  context.set_deadline(absl::ToChronoTime(absl::Now() + timeout));
  UpdatePrioritiesResponse response;
  RETURN_IF_ERROR(FromGrpcStatus(stub_->UpdatePriorities(&context, request, &response)));
  return response;
}

absl::Status ReplayClient::WaitUntilReady(absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  if (!channel_->WaitForConnected(absl::ToChronoTime(deadline))) {
    return absl::UnavailableError("replay server not reachable");
  }
  return Info(std::max(absl::Seconds(1), deadline - absl::Now())).status();
}

}  // namespace tandem::replay
