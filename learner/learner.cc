#include "learner/learner.h"

#include <ATen/Parallel.h>
#include <torch/cuda.h>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/logging.h"
#include "common/networks/weights.h"
#include "common/rng.h"
#include "common/status_macros.h"
#include "learner/checkpoint.h"
#include "learner/stream_probe.h"

namespace tandem::learner {

absl::StatusOr<c10::Device> ResolveDevice(const std::string& device) {
  const bool cuda = torch::cuda::is_available();
  if (device == "cpu") return c10::Device(c10::kCPU);
  if (device == "cuda") {
    if (!cuda) {
      return absl::FailedPreconditionError(
          "learner.device is cuda but LibTorch has no CUDA or no GPU is visible");
    }
    return c10::Device(c10::kCUDA, 0);
  }
  if (device == "auto") return cuda ? c10::Device(c10::kCUDA, 0) : c10::Device(c10::kCPU);
  return absl::InvalidArgumentError(
      absl::StrCat("learner.device must be auto, cpu or cuda, got '", device, "'"));
}

absl::StatusOr<std::unique_ptr<Learner>> Learner::Create(const LearnerOptions& options,
                                                         replay::ReplayClient& client) {
  std::unique_ptr<Learner> learner(new Learner());
  learner->options_ = options;
  ASSIGN_OR_RETURN(learner->device_, ResolveDevice(options.config.learner().device()));
  AlgorithmContext context;
  context.spec = options.spec;
  context.config = options.config.algorithm();
  context.device = learner->device_;
  context.seed = DeriveSeed(options.config.seed(), {SeedStream::kLearner});
  context.batch_size = options.config.learner().batch_size();
  context.update_streams = options.config.learner().update_streams();
  if (context.update_streams == 0) {
    // Auto: measure both ways of using the cores on this machine (CPU, one learner) or take two
    // streams (data-parallel ranks must agree; on CUDA the choice does not apply).
    context.update_streams = 2;
    if (learner->device_.is_cpu() && options.data_parallel == nullptr &&
        at::get_num_threads() >= 2) {
      const int threads = options.config.learner().torch_threads() > 0
                              ? options.config.learner().torch_threads()
                              : at::get_num_threads();
      ASSIGN_OR_RETURN(StreamProbeResult probe,
                       ProbeUpdateStreams(context, options.config.learner().batch_size(), threads,
                                          absl::Milliseconds(300)));
      context.update_streams = probe.streams;
      if (probe.two_streams_rate > 0) {
        LOG(INFO) << "learner: CPU update in " << probe.streams << " stream(s) (probe: 2 streams "
                  << probe.two_streams_rate << " updates/s, 1 stream x " << threads << " threads "
                  << probe.one_stream_rate << " updates/s)";
      }
    }
  }
  if (DataParallel* dp = options.data_parallel) {
    context.reduce_gradients = [dp](const std::vector<at::Tensor>& gradients) {
      return dp->AllReduceMean(gradients);
    };
  }
  ASSIGN_OR_RETURN(learner->algorithm_, CreateAlgorithm(context));
  if (learner->device_.is_cpu()) {
    // The process's intra-op threads: one per stream when the update runs in several streams
    // (more would fight the streams for the cores), else learner.torch_threads (0: LibTorch's).
    if (learner->algorithm_->update_streams() > 1) {
      at::set_num_threads(1);
    } else if (options.config.learner().torch_threads() > 0) {
      at::set_num_threads(options.config.learner().torch_threads());
    }
  }
  if (DataParallel* dp = options.data_parallel) {
    // Every rank starts from rank 0's parameters.
    std::vector<at::Tensor> parameters;
    for (auto& [name, module] : learner->algorithm_->Modules()) {
      for (const at::Tensor& p : module->parameters()) parameters.push_back(p);
    }
    RETURN_IF_ERROR(dp->Broadcast(parameters));
  }

  PrefetcherOptions prefetch;
  prefetch.batch_size = options.config.learner().batch_size();
  prefetch.queue_size = options.config.learner().prefetch_batches();
  prefetch.device = learner->device_;
  prefetch.metrics = options.metrics;
  if (options.phase == "offline") prefetch.offline_ratio = 1.0;
  if (options.deployment > 0) {
    // One sampled batch holds |B| merged-set and |D| deployment transitions; the algorithm draws
    // its training rows from them (learner/otc/corrector.h).
    const OtcConfig& otc = options.config.algorithm().otc();
    const int64_t merged = otc.merged_minibatch(), online = otc.online_minibatch();
    prefetch.batch_size = static_cast<int32_t>(merged + online);
    prefetch.offline_ratio = static_cast<double>(merged) / static_cast<double>(merged + online);
    prefetch.offline_table = "merged";
    prefetch.online_table = absl::StrCat("deployment-", options.deployment);
  }
  // A replay server restarted by `tandem run` (or a compose/Kubernetes restart policy) is waited
  // for as long as a process may take to start serving.
  prefetch.reconnect_timeout = absl::Seconds(options.config.run().health_timeout_seconds());
  learner->prefetcher_ = std::make_unique<Prefetcher>(client, prefetch);

  if (MetricsRegistry* m = options.metrics) {
    learner->updates_total_ = &m->GetCounter("tandem_learner_updates_total", "Gradient updates");
    learner->update_seconds_ = &m->GetHistogram("tandem_learner_update_seconds",
                                                "Time of one gradient update", LatencyBuckets());
    learner->publish_seconds_ =
        &m->GetHistogram("tandem_learner_publish_seconds",
                         "Time to pack and publish one weights version", LatencyBuckets());
    learner->nonfinite_updates_ =
        &m->GetCounter("tandem_learner_nonfinite_updates_total",
                       "Updates skipped because their gradients were not finite");
  }
  return learner;
}

int64_t Learner::SkippedSteps() {
  int64_t skipped = 0;
  for (const auto& [name, optimizer] : algorithm_->Optimizers()) {
    skipped += optimizer->skipped_steps();
  }
  return skipped;
}

absl::Status Learner::CheckFinite(const std::string& what) {
  at::NoGradGuard no_grad;
  for (const auto& [module_name, module] : algorithm_->Modules()) {
    std::vector<at::Tensor> flags;
    std::vector<std::string> names;
    for (const auto& item : module->named_parameters()) {
      flags.push_back(at::isfinite(item.value()).all());
      names.push_back(item.key());
    }
    for (const auto& item : module->named_buffers()) {
      if (!item.value().is_floating_point()) continue;
      flags.push_back(at::isfinite(item.value()).all());
      names.push_back(item.key());
    }
    if (flags.empty()) continue;
    const at::Tensor all = at::stack(flags).cpu();
    if (all.all().item<bool>()) continue;
    const auto* ok = all.data_ptr<bool>();
    for (size_t i = 0; i < names.size(); ++i) {
      if (!ok[i]) {
        return absl::FailedPreconditionError(
            absl::StrCat("refusing to ", what, ": parameter '", module_name, ".", names[i],
                         "' holds non-finite values after ", algorithm_->updates(), " updates"));
      }
    }
  }
  return absl::OkStatus();
}

absl::Status Learner::AccountNonFinite(int64_t skipped_before, const TrainingBatch& batch) {
  if (SkippedSteps() == skipped_before) {
    consecutive_nonfinite_ = 0;
    return absl::OkStatus();
  }
  ++consecutive_nonfinite_;
  if (nonfinite_updates_ != nullptr) nonfinite_updates_->Increment();
  // The batch's replay keys (offline rows are dataset rows) name the data to look at.
  std::string keys = "unknown";
  if (batch.keys.defined() && batch.keys.numel() > 0) {
    const at::Tensor k = batch.keys.to(at::kCPU, at::kLong).flatten();
    const at::Tensor src =
        batch.source.defined() ? batch.source.to(at::kCPU, at::kByte).flatten() : at::Tensor();
    keys.clear();
    const int64_t shown = std::min<int64_t>(k.numel(), 16);
    for (int64_t i = 0; i < shown; ++i) {
      const bool offline =
          src.defined() && src.numel() > i && src[i].item<uint8_t>() == SOURCE_OFFLINE;
      absl::StrAppend(&keys, i > 0 ? " " : "",
                      offline ? "offline:" : "online:", k[i].item<int64_t>());
    }
    if (k.numel() > shown) absl::StrAppend(&keys, " ... (", k.numel(), " items)");
  }
  const int limit = options_.config.learner().max_nonfinite_updates();
  LOG(WARNING) << "learner: update " << algorithm_->updates()
               << " had non-finite gradients and was skipped (" << consecutive_nonfinite_
               << " in a row, limit " << limit << "); batch keys: " << keys;
  if (consecutive_nonfinite_ >= limit) {
    return absl::FailedPreconditionError(absl::StrCat(
        consecutive_nonfinite_,
        " updates in a row had non-finite gradients (learner.max_nonfinite_updates = ", limit,
        "); the data or the hyperparameters make training diverge. Last batch keys: ", keys));
  }
  return absl::OkStatus();
}

absl::Status Learner::Publish() {
  if (options_.publisher == nullptr) return absl::OkStatus();
  RETURN_IF_ERROR(CheckFinite("publish weights"));
  const absl::Time start = absl::Now();
  ASSIGN_OR_RETURN(Weights weights,
                   networks::PackWeights(algorithm_->PublishedModules(), algorithm_->name(),
                                         ++version_, algorithm_->updates()));
  weights.set_env_steps(algorithm_->env_steps());
  RETURN_IF_ERROR(options_.publisher->Publish(std::move(weights)));
  if (publish_seconds_ != nullptr)
    publish_seconds_->Observe(absl::ToDoubleSeconds(absl::Now() - start));
  return absl::OkStatus();
}

absl::StatusOr<CheckpointInfo> Learner::Restore(const std::string& path) {
  ASSIGN_OR_RETURN(CheckpointInfo info, ReadCheckpointInfo(path));
  if (info.phase == "online") algorithm_->BeginOnlinePhase();
  return LoadCheckpoint(path, *algorithm_);
}

absl::Status Learner::StartOnlineFrom(const std::string& offline_checkpoint) {
  ASSIGN_OR_RETURN(CheckpointInfo info, LoadCheckpoint(offline_checkpoint, *algorithm_));
  if (info.phase != "offline") {
    return absl::FailedPreconditionError(absl::StrCat(
        offline_checkpoint, ": is a checkpoint of the ", info.phase, " phase, not an offline one"));
  }
  if (!options_.config.learner().keep_offline_optimizer_state()) {
    at::NoGradGuard no_grad;
    for (auto& [name, optimizer] : algorithm_->Optimizers()) {
      optimizer->set_step(0);
      for (at::Tensor& m : optimizer->exp_avg()) m.zero_();
      for (at::Tensor& v : optimizer->exp_avg_sq()) v.zero_();
    }
  }
  algorithm_->set_env_steps(0);
  algorithm_->BeginOnlinePhase();
  return absl::OkStatus();
}

absl::Status Learner::SetUpProbe(replay::ReplayClient& client) {
  SampleRequest request;
  request.set_batch_size(options_.config.learner().batch_size());
  request.set_num_batches(1);
  // The dataset alone: a read-only table, so no rate limiter holds the request.
  request.set_offline_ratio(1);
  request.set_offline_table("offline");
  request.set_online_table("offline");
  std::unique_ptr<replay::ReplaySampler> sampler = client.NewSampler(request);
  SampleResponse response;
  if (absl::Status status = sampler->Next(&response); !status.ok()) {
    return absl::Status(status.code(), absl::StrCat("unlearning probe: drawing a batch of the "
                                                    "replay server's offline table: ",
                                                    status.message()));
  }
  ASSIGN_OR_RETURN(TrainingBatch batch, ToTrainingBatch(response.batch(), device_));
  RETURN_IF_ERROR(algorithm_->SetProbe(batch));
  probing_ = true;
  return absl::OkStatus();
}

absl::Status Learner::WriteCheckpoint() {
  if (options_.checkpoint_path.empty()) return absl::OkStatus();
  if (options_.data_parallel != nullptr && options_.data_parallel->rank() != 0) {
    return absl::OkStatus();
  }
  RETURN_IF_ERROR(CheckFinite(absl::StrCat("write checkpoint ", options_.checkpoint_path)));
  CheckpointInfo info;
  info.algorithm = algorithm_->name();
  info.spec = options_.spec;
  info.phase = options_.phase;
  return SaveCheckpoint(options_.checkpoint_path, *algorithm_, info);
}

absl::Status Learner::WriteHistoryCheckpoint() {
  if (options_.checkpoint_path.empty()) return absl::OkStatus();
  if (options_.data_parallel != nullptr && options_.data_parallel->rank() != 0) {
    return absl::OkStatus();
  }
  // <dir>/<phase>.pt -> <dir>/<phase>-<updates>.pt, a copy of what WriteCheckpoint just wrote.
  std::string path = options_.checkpoint_path;
  if (absl::EndsWith(path, ".pt")) path.resize(path.size() - 3);
  absl::StrAppend(&path, "-", algorithm_->updates(), ".pt");
  CheckpointInfo info;
  info.algorithm = algorithm_->name();
  info.spec = options_.spec;
  info.phase = options_.phase;
  return SaveCheckpoint(path, *algorithm_, info);
}

absl::Status Learner::Train(int64_t target_updates, const std::function<bool()>& stop,
                            const std::function<void(const LearnerProgress&)>& report,
                            absl::Duration report_interval) {
  const LearnerConfig& config = options_.config.learner();
  absl::Time last_report = absl::Now();
  int64_t updates_at_report = algorithm_->updates();
  LearnerProgress progress;
  TrainingBatch batch;
  // A restarted learner resumes from the latest checkpoint: bound what it can lose in time too.
  const absl::Duration checkpoint_interval = absl::Seconds(config.checkpoint_every_seconds());
  absl::Time last_checkpoint = absl::Now();
  while (true) {
    bool done = algorithm_->updates() >= target_updates || (stop && stop());
    if (DataParallel* dp = options_.data_parallel) {
      ASSIGN_OR_RETURN(const DataParallel::Agreement agreed,
                       dp->Agree(done, algorithm_->env_steps()));
      done = agreed.stop;
      algorithm_->set_env_steps(agreed.env_steps);
    }
    if (done) break;
    RETURN_IF_ERROR(prefetcher_->Next(&batch));
    const absl::Time start = absl::Now();
    const int64_t skipped_before = SkippedSteps();
    ASSIGN_OR_RETURN(progress.last, algorithm_->Update(batch));
    RETURN_IF_ERROR(AccountNonFinite(skipped_before, batch));
    if (probing_ && algorithm_->updates() % config.probe_every_updates() == 0) {
      for (const auto& [key, value] : algorithm_->Probe()) progress.last[key] = value;
    }
    if (update_seconds_ != nullptr) {
      update_seconds_->Observe(absl::ToDoubleSeconds(absl::Now() - start));
      updates_total_->Increment();
      // Whatever the algorithm reports, by name: "<term>_loss" as tandem_learner_loss{term},
      // every other statistic (Q_tot, V and mixer values, gradient norms, MASAC's temperature...)
      // as tandem_learner_statistic{name}.
      for (const auto& [key, value] : progress.last) {
        Gauge*& gauge = statistics_[key];
        if (gauge == nullptr) {
          constexpr absl::string_view kLoss = "_loss";
          gauge = absl::EndsWith(key, kLoss)
                      ? &options_.metrics->GetGauge(
                            "tandem_learner_loss", "Latest loss per term",
                            {{"term", key.substr(0, key.size() - kLoss.size())}})
                      : &options_.metrics->GetGauge(
                            "tandem_learner_statistic",
                            "Latest value of a per-update statistic of the algorithm (means of "
                            "Q_tot, V, z and the mixer's w and b over the batch, gradient norms "
                            "before clipping, ...)",
                            {{"name", key}});
        }
        gauge->Set(value);
      }
    }
    const int64_t updates = algorithm_->updates();
    if (updates % config.publish_every_updates() == 0) RETURN_IF_ERROR(Publish());
    if (updates % config.checkpoint_every_updates() == 0) {
      RETURN_IF_ERROR(WriteCheckpoint());
      last_checkpoint = absl::Now();
      if (config.keep_checkpoint_history()) RETURN_IF_ERROR(WriteHistoryCheckpoint());
    } else if (checkpoint_interval > absl::ZeroDuration() &&
               absl::Now() - last_checkpoint >= checkpoint_interval) {
      RETURN_IF_ERROR(WriteCheckpoint());
      last_checkpoint = absl::Now();
    }
    const absl::Time now = absl::Now();
    if (report && now - last_report >= report_interval) {
      progress.updates = updates;
      progress.updates_per_second =
          (updates - updates_at_report) / absl::ToDoubleSeconds(now - last_report);
      progress.batch_wait_fraction = prefetcher_->wait_fraction();
      report(progress);
      last_report = now;
      updates_at_report = updates;
    }
  }
  RETURN_IF_ERROR(Publish());
  return WriteCheckpoint();
}

}  // namespace tandem::learner
