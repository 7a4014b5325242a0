// Data-parallel training over LibTorch's own distributed engine (c10d): M learner processes train
// one model; each draws its own batches, and gradients are averaged with an all-reduce before
// every optimizer step, so every rank applies the same update. The backend is Gloo on the CPU and
// NCCL when the learners train on CUDA and LibTorch was built with NCCL (USE_C10D_NCCL; Gloo,
// which also handles CUDA tensors, otherwise). Rendezvous is a TCPStore served by rank 0. Rank 0
// alone publishes weights and writes checkpoints.
#ifndef TANDEM_LEARNER_DATA_PARALLEL_H_
#define TANDEM_LEARNER_DATA_PARALLEL_H_

#include <ATen/core/Tensor.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace tandem::learner {

struct DataParallelOptions {
  int rank = 0;
  int world_size = 1;
  // Rendezvous address: rank 0 listens on it, the others connect.
  std::string master_host = "127.0.0.1";
  int master_port = 29500;
  absl::Duration timeout = absl::Seconds(60);
  // The learners' tensors live on CUDA (NCCL when available; the agreement goes through it too).
  bool cuda = false;
};

class DataParallel {
 public:
  static absl::StatusOr<std::unique_ptr<DataParallel>> Create(const DataParallelOptions& options);
  ~DataParallel();

  int rank() const { return options_.rank; }
  int world_size() const { return options_.world_size; }

  // Replaces every tensor with its mean over the ranks (one flattened all-reduce).
  absl::Status AllReduceMean(const std::vector<at::Tensor>& tensors);
  // Copies rank 0's values into every rank's tensors.
  absl::Status Broadcast(const std::vector<at::Tensor>& tensors);

  // What the ranks agree on before every update, so that they stop at the same update (a rank
  // that stopped alone would leave the others waiting in an all-reduce) and anneal their
  // schedules from the same env-step count: stop if any rank wants to, and the largest env-step
  // count any rank has seen. One small all-reduce.
  struct Agreement {
    bool stop = false;
    int64_t env_steps = 0;
  };
  absl::StatusOr<Agreement> Agree(bool stop, int64_t env_steps);

 private:
  struct Impl;  // the c10d store and process group, kept out of this header
  explicit DataParallel(const DataParallelOptions& options);
  DataParallelOptions options_;
  std::unique_ptr<Impl> impl_;
};

}  // namespace tandem::learner

#endif  // TANDEM_LEARNER_DATA_PARALLEL_H_
