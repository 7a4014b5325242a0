#include "common/networks/architectures.h"

namespace tandem::networks {

TanhGaussianPolicyOptions OmigaPolicyOptions(const TransitionSpec& spec,
                                             const AlgorithmConfig& algorithm) {
  return TanhGaussianPolicyOptions{spec.obs_size() + spec.num_agents(), spec.action_size(),
                                   algorithm.hidden_size()};
}

MlpOptions OmigaCriticOptions(const TransitionSpec& spec, const AlgorithmConfig& algorithm) {
  const int64_t h = algorithm.hidden_size();
  return MlpOptions{spec.obs_size() + spec.action_size() + spec.num_agents(), {h, h}, 1, false};
}

MlpOptions OmigaValueOptions(const TransitionSpec& spec, const AlgorithmConfig& algorithm) {
  const int64_t h = algorithm.hidden_size();
  return MlpOptions{spec.obs_size() + spec.num_agents(), {h, h}, 1, false};
}

OmigaMixerOptions OmigaMixerOptionsFor(const TransitionSpec& spec,
                                       const AlgorithmConfig& algorithm) {
  return OmigaMixerOptions{spec.state_size(), spec.num_agents(), algorithm.mixer_hidden_size()};
}

GruAgentOptions GruAgentOptionsFor(const TransitionSpec& spec, const AlgorithmConfig& algorithm) {
  GruAgentOptions options;
  options.obs_size = spec.obs_size();
  options.num_agents = spec.num_agents();
  options.num_actions = spec.action_size();
  options.hidden_size = algorithm.qmix().rnn_hidden_size();
  return options;
}

QmixMixerOptions QmixMixerOptionsFor(const TransitionSpec& spec, const AlgorithmConfig& algorithm) {
  QmixMixerOptions options;
  options.num_agents = spec.num_agents();
  options.state_size = spec.state_size();
  options.embed_size = algorithm.qmix().mixing_embed_size();
  options.hypernet_hidden_size = algorithm.qmix().hypernet_hidden_size();
  return options;
}

}  // namespace tandem::networks
