// The C++ client of the replay server: a pipelined insert stream with acknowledgements, a sample
// stream, and server info.
//
//   ReplayClient client(channel, token);
//   auto writer = client.NewWriter(/*max_in_flight=*/8);
//   RETURN_IF_ERROR(writer->Write(batch));     // returns when at most 8 batches are unacknowledged
//   RETURN_IF_ERROR(writer->Finish());         // waits for every acknowledgement
//
//   auto sampler = client.NewSampler(request);
//   SampleResponse response;
//   while (sampler->Next(&response).ok()) Train(response.batch());
#ifndef TANDEM_COMMON_REPLAY_CLIENT_H_
#define TANDEM_COMMON_REPLAY_CLIENT_H_

#include <cstdint>
#include <memory>
#include <string>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "grpcpp/channel.h"
#include "grpcpp/client_context.h"
#include "proto/config.pb.h"
#include "proto/replay_service.grpc.pb.h"

namespace tandem::replay {

// One insert stream. Write() and Finish() must be called from one thread; acknowledgements are read
// on an internal thread.
class ReplayWriter {
 public:
  ~ReplayWriter();
  // Sends one batch; blocks while `max_in_flight` batches are unacknowledged. Fails (with the
  // server's status) once the stream has broken.
  absl::Status Write(const TransitionBatch& batch) ABSL_LOCKS_EXCLUDED(mu_);
  // Closes the sending side, waits for the remaining acknowledgements and returns the stream's
  // final status. Idempotent.
  absl::Status Finish() ABSL_LOCKS_EXCLUDED(mu_);
  // Cancels the stream from any thread: a blocked Write or Finish returns CANCELLED promptly
  // (used at shutdown when the server stopped acknowledging, e.g. its rate limiter is closed).
  void Cancel() { context_.TryCancel(); }
  // Transitions the server has acknowledged as stored.
  int64_t acknowledged_transitions() const ABSL_LOCKS_EXCLUDED(mu_);
  // Sequence number of the last acknowledged request (0 before the first).
  uint64_t acknowledged_sequence() const ABSL_LOCKS_EXCLUDED(mu_);

 private:
  friend class ReplayClient;
  ReplayWriter(ReplayService::Stub* stub, const std::string& token, int max_in_flight,
               const std::string& table);
  void ReadAcks();

  grpc::ClientContext context_;
  std::unique_ptr<grpc::ClientReaderWriter<InsertRequest, InsertResponse>> stream_;
  const int max_in_flight_;
  std::thread reader_;
  InsertRequest request_;
  uint64_t sent_ = 0;
  bool finished_ = false;
  absl::Status final_status_;
  mutable absl::Mutex mu_;
  uint64_t acked_sequence_ ABSL_GUARDED_BY(mu_) = 0;
  int64_t acked_transitions_ ABSL_GUARDED_BY(mu_) = 0;
  bool reader_done_ ABSL_GUARDED_BY(mu_) = false;
};

// One sample stream.
class ReplaySampler {
 public:
  ~ReplaySampler();
  // Receives the next batch; at the end of the stream returns its status (OUT_OF_RANGE when the
  // server ended it normally after num_batches).
  absl::Status Next(SampleResponse* response);
  // Ends the stream from the client side.
  void Cancel() { context_.TryCancel(); }

 private:
  friend class ReplayClient;
  ReplaySampler(ReplayService::Stub* stub, const std::string& token, const SampleRequest& request);
  grpc::ClientContext context_;
  std::unique_ptr<grpc::ClientReader<SampleResponse>> reader_;
  bool done_ = false;
  absl::Status final_status_;
};

class ReplayClient {
 public:
  ReplayClient(std::shared_ptr<grpc::Channel> channel, std::string token);

  // Connects to `address` with the credentials of `security` (large messages allowed).
  static absl::StatusOr<std::unique_ptr<ReplayClient>> Connect(const std::string& address,
                                                               const SecurityConfig& security,
                                                               const std::string& token);

  // An insert stream into the writable table `table` ("" = "online").
  std::unique_ptr<ReplayWriter> NewWriter(int max_in_flight = 8, const std::string& table = "");
  std::unique_ptr<ReplaySampler> NewSampler(const SampleRequest& request);
  absl::StatusOr<ServerInfoResponse> Info(absl::Duration timeout = absl::Seconds(10));
  // Sets new priorities of a prioritized table's items by key.
  absl::StatusOr<UpdatePrioritiesResponse> UpdatePriorities(
      const UpdatePrioritiesRequest& request, absl::Duration timeout = absl::Seconds(10));
  // Waits until the server answers ServerInfo or `timeout` passes.
  absl::Status WaitUntilReady(absl::Duration timeout);

 private:
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<ReplayService::Stub> stub_;
  std::string token_;
};

}  // namespace tandem::replay

#endif  // TANDEM_COMMON_REPLAY_CLIENT_H_
