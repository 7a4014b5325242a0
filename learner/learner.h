// The learner's update loop: batches from the replay server (through the prefetcher) feed the
// algorithm; every `publish_every_updates` the online networks are published as a new weights
// version; checkpoints are written every `checkpoint_every_updates` and at the end; progress and
// metrics are reported as it goes.
#ifndef TANDEM_LEARNER_LEARNER_H_
#define TANDEM_LEARNER_LEARNER_H_

#include <functional>
#include <map>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "common/metrics.h"
#include "common/replay_client.h"
#include "learner/algorithm.h"
#include "learner/checkpoint.h"
#include "learner/data_parallel.h"
#include "learner/parameter_service.h"
#include "learner/prefetcher.h"

namespace tandem::learner {

// "auto" picks CUDA when LibTorch has it and a GPU is visible; "cuda" without one is an error.
absl::StatusOr<c10::Device> ResolveDevice(const std::string& device);

struct LearnerOptions {
  ExperimentConfig config;
  // Shapes of the transitions (from the replay server).
  TransitionSpec spec;
  // "offline" (pretraining, rho = 1) or "online" (fine-tuning at the configured rho).
  std::string phase = "offline";
  // Checkpoint written periodically and at the end ("" = none).
  std::string checkpoint_path;
  // OTC's deployment-driven online phase: this learner trains after deployment `deployment` (>= 1)
  // on minibatches of the tables "merged" and "deployment-<k>" (0: the usual phases).
  int deployment = 0;
  // Where new weights versions go (may be null).
  ParameterServiceImpl* publisher = nullptr;
  MetricsRegistry* metrics = nullptr;
  // Data parallelism (may be null): gradients are averaged over ranks; only rank 0 writes
  // checkpoints (publishing follows `publisher`).
  DataParallel* data_parallel = nullptr;
};

struct LearnerProgress {
  int64_t updates = 0;
  double updates_per_second = 0;
  double batch_wait_fraction = 0;
  UpdateStats last;
};

class Learner {
 public:
  static absl::StatusOr<std::unique_ptr<Learner>> Create(const LearnerOptions& options,
                                                         replay::ReplayClient& client);

  // Trains until the algorithm has done `target_updates` updates or `stop()` returns true; with
  // data-parallel ranks, until that holds on any rank (all stop after the same update).
  // `report` (optional) is called about every `report_interval`.
  absl::Status Train(int64_t target_updates, const std::function<bool()>& stop,
                     const std::function<void(const LearnerProgress&)>& report,
                     absl::Duration report_interval = absl::Seconds(5));

  // Publishes the online networks as the next weights version.
  absl::Status Publish();
  absl::Status WriteCheckpoint();
  // With learner.keep_checkpoint_history: also keeps this checkpoint as <phase>-<updates>.pt.
  absl::Status WriteHistoryCheckpoint();
  // Restores the algorithm from `path`; an online checkpoint first re-creates the offline memory.
  absl::StatusOr<CheckpointInfo> Restore(const std::string& path);
  // Starts the online phase from an offline checkpoint: loads it, then freezes the offline copies.
  absl::Status StartOnlineFrom(const std::string& offline_checkpoint);
  // The unlearning probe (learner.probe_every_updates): draws one batch of the replay server's
  // offline table and hands it to the algorithm; Train then adds the algorithm's probe statistics
  // to the reported ones every probe_every_updates updates. Call after StartOnlineFrom.
  absl::Status SetUpProbe(replay::ReplayClient& client);

  Algorithm& algorithm() { return *algorithm_; }
  const c10::Device& device() const { return device_; }

 private:
  Learner() = default;

  LearnerOptions options_;
  c10::Device device_ = c10::Device(c10::kCPU);
  std::unique_ptr<Algorithm> algorithm_;
  std::unique_ptr<Prefetcher> prefetcher_;
  uint64_t version_ = 0;
  // Whether SetUpProbe gave the algorithm its probe batch.
  bool probing_ = false;
  Counter* updates_total_ = nullptr;
  // The gauge of each per-update value the algorithm reports, by its name (losses and statistics).
  std::map<std::string, Gauge*> statistics_;
  Histogram* update_seconds_ = nullptr;
  Histogram* publish_seconds_ = nullptr;
  Counter* nonfinite_updates_ = nullptr;
  // Updates in a row whose gradients were not finite (their optimizer steps were skipped).
  int64_t consecutive_nonfinite_ = 0;

  // Optimizer steps skipped so far for non-finite gradients, over every optimizer.
  int64_t SkippedSteps();
  // FAILED_PRECONDITION naming the first module parameter or buffer that is not finite.
  absl::Status CheckFinite(const std::string& what);
  // After an update: counts and logs one whose steps were skipped; fails after too many in a row.
  absl::Status AccountNonFinite(int64_t skipped_before, const TrainingBatch& batch);
};

}  // namespace tandem::learner

#endif  // TANDEM_LEARNER_LEARNER_H_
