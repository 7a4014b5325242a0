#include "learner/otc/decentralized_algorithm.h"

#include "absl/strings/str_cat.h"

namespace tandem::learner::otc {

void DecentralizedAlgorithm::InitCorrector(const CorrectorOptions& options, bool state_input) {
  state_input_ = state_input;
  corrector_ = std::make_unique<Corrector>(options);
}

absl::StatusOr<UpdateStats> DecentralizedAlgorithm::Update(const TrainingBatch& batch) {
  if (batch.episodic()) {
    return absl::InvalidArgumentError(
        absl::StrCat("algorithm ", name(), ": got episode items, needs transitions"));
  }
  UpdateStats stats;
  const at::Tensor online = batch.offline.defined() ? batch.offline.logical_not() : at::Tensor();
  const AgentBatch train =
      corrector_->Select(ToAgentBatch(batch, state_input_), online, *this, &stats);
  for (const auto& [key, value] : UpdateOn(train)) stats[key] = value;
  return stats;
}

std::vector<std::pair<std::string, torch::nn::Module*>> DecentralizedAlgorithm::Modules() {
  std::vector<std::pair<std::string, torch::nn::Module*>> modules = AgentModules();
  modules.push_back({"otc_state", corrector_->state().get()});
  if (corrector_->cvae()) modules.push_back({"otc_cvae", corrector_->cvae().get()});
  if (corrector_->density_ratio()) {
    modules.push_back({"otc_density_ratio", corrector_->density_ratio().get()});
  }
  return modules;
}

std::vector<std::pair<std::string, FusedAdam*>> DecentralizedAlgorithm::Optimizers() {
  std::vector<std::pair<std::string, FusedAdam*>> optimizers = AgentOptimizers();
  if (corrector_->cvae_optimizer() != nullptr) {
    optimizers.push_back({"otc_cvae", corrector_->cvae_optimizer()});
  }
  if (corrector_->density_ratio_optimizer() != nullptr) {
    optimizers.push_back({"otc_density_ratio", corrector_->density_ratio_optimizer()});
  }
  return optimizers;
}

}  // namespace tandem::learner::otc
