#include "learner/data_parallel.h"

#include <ATen/ATen.h>
#include <torch/version.h>
#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>
#ifdef USE_C10D_NCCL
#include <torch/csrc/distributed/c10d/ProcessGroupNCCL.hpp>
#endif

#include <exception>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace tandem::learner {

struct DataParallel::Impl {
  // LibTorch 2 split process groups into backends; a backend has the collectives used here.
#if TORCH_VERSION_MAJOR >= 2
  using Group = c10d::Backend;
#else
  using Group = c10d::ProcessGroup;
#endif
  c10::intrusive_ptr<c10d::Store> store;
  c10::intrusive_ptr<Group> group;
};

namespace {

bool IsLoopback(const std::string& host) {
  return host == "localhost" || host == "::1" || absl::StartsWith(host, "127.");
}

}  // namespace

DataParallel::DataParallel(const DataParallelOptions& options)
    : options_(options), impl_(std::make_unique<Impl>()) {}

absl::StatusOr<std::unique_ptr<DataParallel>> DataParallel::Create(
    const DataParallelOptions& options) {
  if (options.world_size < 1 || options.rank < 0 || options.rank >= options.world_size) {
    return absl::InvalidArgumentError(absl::StrCat("data parallel: rank ", options.rank,
                                                   " outside world of ", options.world_size));
  }
  std::unique_ptr<DataParallel> dp(new DataParallel(options));
  try {
    c10d::TCPStoreOptions store_options;
    store_options.port = static_cast<uint16_t>(options.master_port);
    store_options.isServer = options.rank == 0;
    store_options.numWorkers = options.world_size;
    store_options.timeout = absl::ToChronoMilliseconds(options.timeout);
    dp->impl_->store = c10::make_intrusive<c10d::TCPStore>(options.master_host, store_options);
#ifdef USE_C10D_NCCL
    if (options.cuda) {
      auto nccl_options = c10d::ProcessGroupNCCL::Options::create();
      nccl_options->timeout = absl::ToChronoMilliseconds(options.timeout);
      dp->impl_->group = c10::make_intrusive<c10d::ProcessGroupNCCL>(
          dp->impl_->store, options.rank, options.world_size, nccl_options);
      return dp;
    }
#endif
    auto group_options =
        c10d::ProcessGroupGloo::Options::create(absl::ToChronoMilliseconds(options.timeout));
    // Gloo's transport binds a local address. When the rendezvous is on loopback every rank is on
    // this machine: bind loopback too. Otherwise the master's address belongs to rank 0's machine,
    // so bind this machine's own: the interface named by GLOO_SOCKET_IFNAME, else the address its
    // hostname resolves to (LibTorch's default device).
    group_options->devices.push_back(
        IsLoopback(options.master_host)
            ? c10d::ProcessGroupGloo::createDeviceForHostname(options.master_host)
            : c10d::ProcessGroupGloo::createDefaultDevice());
    group_options->threads = 1;
    dp->impl_->group = c10::make_intrusive<c10d::ProcessGroupGloo>(
        dp->impl_->store, options.rank, options.world_size, group_options);
  } catch (const std::exception& e) {
    return absl::UnavailableError(absl::StrCat("data parallel rendezvous at ", options.master_host,
                                               ":", options.master_port, " failed: ", e.what()));
  }
  return dp;
}

DataParallel::~DataParallel() = default;

absl::Status DataParallel::AllReduceMean(const std::vector<at::Tensor>& tensors) {
  if (options_.world_size == 1 || tensors.empty()) return absl::OkStatus();
  at::NoGradGuard no_grad;
  std::vector<at::Tensor> flat_parts;
  flat_parts.reserve(tensors.size());
  for (const at::Tensor& t : tensors) flat_parts.push_back(t.reshape({-1}));
  std::vector<at::Tensor> buffer = {at::cat(flat_parts)};
  try {
    impl_->group->allreduce(buffer)->wait();
  } catch (const std::exception& e) {
    return absl::UnavailableError(absl::StrCat("gradient all-reduce failed: ", e.what()));
  }
  buffer[0].div_(options_.world_size);
  int64_t offset = 0;
  for (const at::Tensor& t : tensors) {
    const int64_t n = t.numel();
    t.copy_(buffer[0].slice(0, offset, offset + n).view_as(t));
    offset += n;
  }
  return absl::OkStatus();
}

absl::StatusOr<DataParallel::Agreement> DataParallel::Agree(bool stop, int64_t env_steps) {
  if (options_.world_size == 1) return Agreement{stop, env_steps};
  at::Tensor votes = at::tensor(std::vector<int64_t>{stop ? 1 : 0, env_steps}, at::kLong);
  if (options_.cuda) votes = votes.to(at::kCUDA);
  std::vector<at::Tensor> buffer = {votes};
  c10d::AllreduceOptions max;
  max.reduceOp = c10d::ReduceOp::MAX;
  try {
    impl_->group->allreduce(buffer, max)->wait();
  } catch (const std::exception& e) {
    return absl::UnavailableError(absl::StrCat("learner ranks' stop agreement failed: ", e.what()));
  }
  const at::Tensor result = buffer[0].to(at::kCPU);
  const int64_t* agreed = result.data_ptr<int64_t>();
  return Agreement{agreed[0] != 0, agreed[1]};
}

absl::Status DataParallel::Broadcast(const std::vector<at::Tensor>& tensors) {
  if (options_.world_size == 1 || tensors.empty()) return absl::OkStatus();
  at::NoGradGuard no_grad;
  std::vector<at::Tensor> flat_parts;
  for (const at::Tensor& t : tensors) flat_parts.push_back(t.reshape({-1}));
  std::vector<at::Tensor> buffer = {at::cat(flat_parts)};
  try {
    impl_->group->broadcast(buffer)->wait();
  } catch (const std::exception& e) {
    return absl::UnavailableError(absl::StrCat("parameter broadcast failed: ", e.what()));
  }
  int64_t offset = 0;
  for (const at::Tensor& t : tensors) {
    const int64_t n = t.numel();
    t.copy_(buffer[0].slice(0, offset, offset + n).view_as(t));
    offset += n;
  }
  return absl::OkStatus();
}

}  // namespace tandem::learner
