// What OTC's decentralized agents (bcq.h, td3_bc.h) share: the algorithm bookkeeping, each
// agent's view of a batch, and the corrector that picks the rows each agent trains on. A subclass
// builds its networks, then calls `InitCorrector`, and implements `UpdateOn` (one update on rows
// trained on as they are), `AgentModules`/`AgentOptimizers` and the value functions of d_q.
#ifndef TANDEM_LEARNER_OTC_DECENTRALIZED_ALGORITHM_H_
#define TANDEM_LEARNER_OTC_DECENTRALIZED_ALGORITHM_H_

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "learner/algorithm.h"
#include "learner/otc/agent_batch.h"
#include "learner/otc/corrector.h"

namespace tandem::learner::otc {

class DecentralizedAlgorithm : public Algorithm, public ValueFunction {
 public:
  // Refuses episode items; otherwise the corrector's rows of the batch go to `UpdateOn`.
  absl::StatusOr<UpdateStats> Update(const TrainingBatch& batch) final;
  int64_t updates() const final { return updates_; }
  void set_updates(int64_t updates) final { updates_ = updates; }
  int64_t env_steps() const final { return env_steps_; }
  void set_env_steps(int64_t env_steps) final { env_steps_ = env_steps; }
  void BeginDeployment() final { corrector_->BeginDeployment(); }
  // The subclass's modules and optimizers, then the corrector's (its state and, for d_e, the
  // cVAE).
  std::vector<std::pair<std::string, torch::nn::Module*>> Modules() final;
  std::vector<std::pair<std::string, FusedAdam*>> Optimizers() final;
  std::vector<std::string> OnlineOnlyModules() const final { return {"otc_density_ratio"}; }

  // One update on an agent-major batch trained on as it is (counts the update).
  virtual UpdateStats UpdateOn(const AgentBatch& batch) = 0;
  Corrector& corrector() { return *corrector_; }

 protected:
  explicit DecentralizedAlgorithm(const AlgorithmContext& context) : context_(context) {}
  virtual std::vector<std::pair<std::string, torch::nn::Module*>> AgentModules() = 0;
  virtual std::vector<std::pair<std::string, FusedAdam*>> AgentOptimizers() = 0;
  void InitCorrector(const CorrectorOptions& options, bool state_input);

  AlgorithmContext context_;
  int64_t updates_ = 0;

 private:
  bool state_input_ = true;
  std::unique_ptr<Corrector> corrector_;
  int64_t env_steps_ = 0;
};

}  // namespace tandem::learner::otc

#endif  // TANDEM_LEARNER_OTC_DECENTRALIZED_ALGORITHM_H_
