// The learner's algorithm interface. Each algorithm (OMIGA, MASAC; QMIX, CQL, OTC and baselines
// later) is one class that registers itself by name in its own .cc:
//   TANDEM_REGISTER(AlgorithmRegistry, "omiga", AlgorithmFactory(&CreateOmiga));
// so a new one is one new file pair and one line in learner/CMakeLists.txt.
#ifndef TANDEM_LEARNER_ALGORITHM_H_
#define TANDEM_LEARNER_ALGORITHM_H_

#include <torch/nn/module.h>

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "common/registry.h"
#include "learner/fused_adam.h"
#include "learner/training_batch.h"
#include "proto/config.pb.h"
#include "proto/transition.pb.h"

namespace tandem::learner {

// Named scalar results of one update (losses, value statistics).
using UpdateStats = std::map<std::string, double>;

// What an algorithm is built from.
struct AlgorithmContext {
  // Shapes of the transitions it trains on.
  TransitionSpec spec;
  // Hyperparameters.
  AlgorithmConfig config;
  // Where parameters live.
  c10::Device device = c10::Device(c10::kCPU);
  // Seed for parameter initialisation.
  uint64_t seed = 1;
  // Transitions each update trains on (learner.batch_size); an algorithm that draws its training
  // rows from a larger sampled batch (OTC) draws this many.
  int64_t batch_size = 128;
  // Called with every trainable parameter's gradient between backward and the optimizer steps
  // (data-parallel gradient averaging); empty for a single learner.
  std::function<absl::Status(const std::vector<at::Tensor>& gradients)> reduce_gradients;
  // On the CPU, how many concurrent streams an update may use (learner.update_streams). Algorithms
  // without a multi-stream update ignore it.
  int update_streams = 1;
};

class Algorithm {
 public:
  virtual ~Algorithm() = default;
  virtual std::string name() const = 0;
  // One gradient update on `batch`.
  virtual absl::StatusOr<UpdateStats> Update(const TrainingBatch& batch) = 0;
  // Updates done so far.
  virtual int64_t updates() const = 0;
  // Concurrent streams one update runs in (1 unless the algorithm took context.update_streams).
  virtual int update_streams() const { return 1; }
  // Every module with a stable name (checkpoint keys), including targets and frozen copies.
  virtual std::vector<std::pair<std::string, torch::nn::Module*>> Modules() = 0;
  // The modules actors need: the online policy and critic, by name.
  virtual std::vector<std::pair<std::string, torch::nn::Module*>> PublishedModules() = 0;
  // Every optimizer by a stable name (checkpoints).
  virtual std::vector<std::pair<std::string, FusedAdam*>> Optimizers() = 0;
  // Modules (and optimizers of the same name) that only the online phase trains: an offline
  // checkpoint without them still loads, leaving them as initialised (e.g. Balanced Replay's
  // density-ratio network, which needs online data).
  virtual std::vector<std::string> OnlineOnlyModules() const { return {}; }
  // Restores the update counter (checkpoints).
  virtual void set_updates(int64_t updates) = 0;
  // Online env steps so far (schedules such as OVM's lambda depend on it).
  virtual int64_t env_steps() const = 0;
  virtual void set_env_steps(int64_t env_steps) = 0;
  // Called once when the online phase starts (freezes offline copies where the algorithm has any).
  virtual void BeginOnlinePhase() {}
  // Called when a new deployment's data starts arriving (deployment-driven runs such as OTC's).
  virtual void BeginDeployment() {}
  // The unlearning probe (learner.probe_every_updates): `batch` is a fixed batch of offline data
  // drawn at the offline-to-online switch; Probe() then reports statistics of the current networks
  // on it. Algorithms without a probe report nothing.
  virtual absl::Status SetProbe(const TrainingBatch& /*batch*/) { return absl::OkStatus(); }
  virtual UpdateStats Probe() { return {}; }
};

using AlgorithmFactory =
    std::function<absl::StatusOr<std::unique_ptr<Algorithm>>(const AlgorithmContext&)>;

struct AlgorithmKind {
  using Entry = AlgorithmFactory;
  static constexpr const char* kKind = "algorithm";
  static constexpr const char* kConfigField = "algorithm.name";
};
using AlgorithmRegistry = Registry<AlgorithmKind>;

// Wraps T::Create (returning StatusOr<unique_ptr<T>>) as a factory.
template <typename T>
AlgorithmFactory FactoryOf() {
  return [](const AlgorithmContext& context) -> absl::StatusOr<std::unique_ptr<Algorithm>> {
    auto created = T::Create(context);
    if (!created.ok()) return created.status();
    return std::unique_ptr<Algorithm>(std::move(*created));
  };
}
// Builds the algorithm `context.config.name()`; NOT_FOUND lists the registered names.
absl::StatusOr<std::unique_ptr<Algorithm>> CreateAlgorithm(const AlgorithmContext& context);
std::vector<std::string> RegisteredAlgorithms();

}  // namespace tandem::learner

#endif  // TANDEM_LEARNER_ALGORITHM_H_
