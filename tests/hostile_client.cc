// An outside gRPC client for hostile-input tests: it speaks the replay service's wire protocol
// with the generated stubs only (none of Tandem's client code), the way any local process could.
//
//   hostile_client ADDRESS ACTION [TOKEN]
//
// ACTION is one of
//   insert-absurd   64 finite but absurd rows (reward 3e38, observations 1e30, actions 1e30) in the
//                   shapes the server reports
//   insert-valid    64 rows of zeros in those shapes
//   sample-huge     Sample with batch_size 2^20
//   sample          Sample with batch_size 8
//   garbage         an Insert stream whose message bytes are not an InsertRequest
// It prints the final status as "CODE: message" (OK, INVALID_ARGUMENT, ...) and exits 0 once a
// call completed, whatever its status; 2 when the arguments are wrong.
#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/grpcpp.h>

#include <cstdint>
#include <cstring>
#include <iostream>
#include <string>
#include <vector>

#include "proto/replay_service.grpc.pb.h"

namespace {

const char* CodeName(grpc::StatusCode code) {
  switch (code) {
    case grpc::StatusCode::OK:
      return "OK";
    case grpc::StatusCode::INVALID_ARGUMENT:
      return "INVALID_ARGUMENT";
    case grpc::StatusCode::RESOURCE_EXHAUSTED:
      return "RESOURCE_EXHAUSTED";
    case grpc::StatusCode::UNAUTHENTICATED:
      return "UNAUTHENTICATED";
    case grpc::StatusCode::UNAVAILABLE:
      return "UNAVAILABLE";
    case grpc::StatusCode::FAILED_PRECONDITION:
      return "FAILED_PRECONDITION";
    case grpc::StatusCode::INTERNAL:
      return "INTERNAL";
    case grpc::StatusCode::UNKNOWN:
      return "UNKNOWN";
    default:
      return "OTHER";
  }
}

int Report(const grpc::Status& status) {
  std::cout << CodeName(status.error_code()) << ": " << status.error_message() << std::endl;
  return 0;
}

void Authorize(grpc::ClientContext& context, const std::string& token) {
  if (!token.empty()) context.AddMetadata("authorization", "Bearer " + token);
}

// A float32 or uint8/int32 tensor of `rows` x `row_shape` filled with `value`.
void Fill(tandem::Tensor* tensor, tandem::DType dtype, std::vector<int64_t> shape, float value) {
  tensor->set_dtype(dtype);
  int64_t elements = 1;
  for (int64_t d : shape) {
    tensor->add_shape(d);
    elements *= d;
  }
  std::string* data = tensor->mutable_data();
  if (dtype == tandem::DTYPE_FLOAT32) {
    std::vector<float> values(elements, value);
    data->assign(reinterpret_cast<const char*>(values.data()), elements * sizeof(float));
  } else if (dtype == tandem::DTYPE_INT32) {
    std::vector<int32_t> values(elements, static_cast<int32_t>(value));
    data->assign(reinterpret_cast<const char*>(values.data()), elements * sizeof(int32_t));
  } else {
    data->assign(elements, static_cast<char>(value));
  }
}

// Transitions in the shapes `spec` describes, every float set to `big` and rewards to `reward`.
tandem::TransitionBatch Rows(const tandem::TransitionSpec& spec, int64_t rows, float big,
                             float reward) {
  const int64_t n = spec.num_agents(), o = spec.obs_size(), s = spec.state_size();
  const int64_t a = spec.action_size();
  const bool discrete = spec.action_type() == tandem::ACTION_TYPE_DISCRETE;
  tandem::TransitionBatch batch;
  Fill(batch.mutable_obs(), tandem::DTYPE_FLOAT32, {rows, n, o}, big);
  Fill(batch.mutable_next_obs(), tandem::DTYPE_FLOAT32, {rows, n, o}, big);
  Fill(batch.mutable_state(), tandem::DTYPE_FLOAT32, {rows, s}, big);
  Fill(batch.mutable_next_state(), tandem::DTYPE_FLOAT32, {rows, s}, big);
  if (discrete) {
    Fill(batch.mutable_actions(), tandem::DTYPE_INT32, {rows, n}, 0);
  } else {
    Fill(batch.mutable_actions(), tandem::DTYPE_FLOAT32, {rows, n, a}, big);
  }
  if (spec.has_avail_actions()) {
    Fill(batch.mutable_avail_actions(), tandem::DTYPE_UINT8, {rows, n, a}, 1);
    Fill(batch.mutable_next_avail_actions(), tandem::DTYPE_UINT8, {rows, n, a}, 1);
  }
  Fill(batch.mutable_reward(), tandem::DTYPE_FLOAT32, {rows}, reward);
  Fill(batch.mutable_terminated(), tandem::DTYPE_UINT8, {rows}, 0);
  Fill(batch.mutable_truncated(), tandem::DTYPE_UINT8, {rows}, 0);
  return batch;
}

int Insert(tandem::ReplayService::Stub& stub, const std::string& token, float big, float reward) {
  tandem::ServerInfoResponse info;
  {
    grpc::ClientContext context;
    Authorize(context, token);
    grpc::Status status = stub.ServerInfo(&context, tandem::ServerInfoRequest(), &info);
    if (!status.ok()) return Report(status);
  }
  grpc::ClientContext context;
  Authorize(context, token);
  auto stream = stub.Insert(&context);
  tandem::InsertRequest request;
  request.set_sequence(1);
  *request.mutable_batch() = Rows(info.spec(), 64, big, reward);
  stream->Write(request);
  stream->WritesDone();
  tandem::InsertResponse ack;
  while (stream->Read(&ack)) {
  }
  return Report(stream->Finish());
}

int Sample(tandem::ReplayService::Stub& stub, const std::string& token, int batch_size) {
  grpc::ClientContext context;
  Authorize(context, token);
  tandem::SampleRequest request;
  request.set_batch_size(batch_size);
  request.set_num_batches(1);
  request.set_rate_limiter_timeout_ms(5000);
  auto reader = stub.Sample(&context, request);
  tandem::SampleResponse response;
  while (reader->Read(&response)) {
  }
  return Report(reader->Finish());
}

int Garbage(const std::shared_ptr<grpc::Channel>& channel, const std::string& token) {
  grpc::GenericStub stub(channel);
  grpc::ClientContext context;
  Authorize(context, token);
  grpc::CompletionQueue cq;
  auto call = stub.PrepareCall(&context, "/tandem.ReplayService/Insert", &cq);
  void* tag = nullptr;
  bool ok = false;
  auto await = [&](intptr_t wanted) {
    while (cq.Next(&tag, &ok) && reinterpret_cast<intptr_t>(tag) != wanted) {
    }
  };
  call->StartCall(reinterpret_cast<void*>(1));
  await(1);
  const std::string bytes = "\xff\xff\xff\xff\x0f this is not a protocol buffer";
  grpc::Slice slice(bytes);
  grpc::ByteBuffer buffer(&slice, 1);
  call->Write(buffer, reinterpret_cast<void*>(2));
  await(2);
  call->WritesDone(reinterpret_cast<void*>(3));
  await(3);
  grpc::Status status;
  call->Finish(&status, reinterpret_cast<void*>(4));
  await(4);
  cq.Shutdown();
  while (cq.Next(&tag, &ok)) {
  }
  return Report(status);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) {
    std::cerr << "usage: hostile_client ADDRESS ACTION [TOKEN]" << std::endl;
    return 2;
  }
  const std::string address = argv[1], action = argv[2];
  const std::string token = argc > 3 ? argv[3] : "";
  grpc::ChannelArguments arguments;
  arguments.SetMaxReceiveMessageSize(-1);
  arguments.SetMaxSendMessageSize(-1);
  auto channel = grpc::CreateCustomChannel(address, grpc::InsecureChannelCredentials(), arguments);
  tandem::ReplayService::Stub stub(channel);
  if (action == "insert-absurd") return Insert(stub, token, 1e30f, 3e38f);
  if (action == "insert-valid") return Insert(stub, token, 0.0f, 0.0f);
  if (action == "sample-huge") return Sample(stub, token, 1 << 20);
  if (action == "sample") return Sample(stub, token, 8);
  if (action == "garbage") return Garbage(channel, token);
  std::cerr << "hostile_client: unknown action " << action << std::endl;
  return 2;
}
