#include "actor/policy_set.h"

#include <utility>
#include <vector>

#include "common/networks/weights.h"
#include "common/status_macros.h"

namespace tandem::actor {

absl::StatusOr<PolicySet> PolicySet::Create(const envs::EnvSpec& spec,
                                            const AlgorithmConfig& algorithm,
                                            const std::string& offline_checkpoint) {
  const int64_t n = spec.num_agents, o = spec.obs_size, a = spec.action_size;
  const int64_t h = algorithm.hidden_size();
  PolicySet set;
  set.offline_policy =
      networks::TanhGaussianPolicy(networks::TanhGaussianPolicyOptions{o + n, a, h});
  set.online_policy =
      networks::TanhGaussianPolicy(networks::TanhGaussianPolicyOptions{o + n, a, h});
  set.q = networks::Mlp(networks::MlpOptions{o + a + n, {h, h}, 1, false});
  set.mixer = networks::OmigaMixer(
      networks::OmigaMixerOptions{spec.state_size, n, algorithm.mixer_hidden_size()});
  if (!offline_checkpoint.empty()) {
    RETURN_IF_ERROR(
        networks::LoadModuleFromCheckpoint(offline_checkpoint, "policy", *set.offline_policy));
    RETURN_IF_ERROR(set.LoadOnline(offline_checkpoint));
  }
  set.offline_policy->eval();
  set.online_policy->eval();
  set.q->eval();
  set.mixer->eval();
  return set;
}

absl::Status PolicySet::Update(const Weights& weights) {
  return networks::UnpackWeights(
      weights, {{"policy", online_policy.get()}, {"q", q.get()}, {"mixer", mixer.get()}});
}

absl::Status PolicySet::LoadOnline(const std::string& checkpoint) {
  // Load into fresh copies first so that a failure halfway leaves the current networks intact.
  PolicySet loaded;
  loaded.online_policy = networks::TanhGaussianPolicy(online_policy->options());
  loaded.q = networks::Mlp(q->options());
  loaded.mixer = networks::OmigaMixer(mixer->options());
  for (auto [name, module] : std::vector<std::pair<std::string, torch::nn::Module*>>{
           {"policy", loaded.online_policy.get()},
           {"q", loaded.q.get()},
           {"mixer", loaded.mixer.get()}}) {
    RETURN_IF_ERROR(networks::LoadModuleFromCheckpoint(checkpoint, name, *module));
  }
  loaded.online_policy->eval();
  loaded.q->eval();
  loaded.mixer->eval();
  online_policy = std::move(loaded.online_policy);
  q = std::move(loaded.q);
  mixer = std::move(loaded.mixer);
  return absl::OkStatus();
}

}  // namespace tandem::actor
