#include "envs/multi_agent_env.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace tandem::envs {

TransitionSpec EnvSpec::ToTransitionSpec() const {
  TransitionSpec spec;
  spec.set_num_agents(num_agents);
  spec.set_obs_size(obs_size);
  bool padded = false;
  for (int size : agent_obs_sizes) padded |= size != obs_size;
  if (padded)
    spec.mutable_agent_obs_sizes()->Assign(agent_obs_sizes.begin(), agent_obs_sizes.end());
  spec.set_state_size(state_size);
  spec.set_action_type(action_type);
  spec.set_action_size(action_size);
  spec.set_has_avail_actions(has_avail_actions);
  spec.set_env_name(name);
  return spec;
}

TransitionSpec EnvSpec::ToEpisodeSpec() const {
  TransitionSpec spec = ToTransitionSpec();
  spec.set_episode_steps(episode_limit + 1);
  return spec;
}

std::string EnvSpec::Describe() const {
  std::string text = absl::StrCat(name, "\n");
  absl::StrAppend(&text, "  agents            ", num_agents, "\n");
  absl::StrAppend(&text, "  observation sizes ", absl::StrJoin(agent_obs_sizes, ", "),
                  " (padded to ", obs_size, ")\n");
  absl::StrAppend(&text, "  state size        ", state_size, "\n");
  if (action_type == ACTION_TYPE_CONTINUOUS) {
    absl::StrAppend(&text, "  actions           continuous, sizes ",
                    absl::StrJoin(agent_action_sizes, ", "));
    if (!action_low.empty()) {
      absl::StrAppend(&text, ", box [", action_low.front(), ", ", action_high.front(), "]");
    }
    absl::StrAppend(&text, "\n");
  } else {
    absl::StrAppend(&text, "  actions           discrete, ", action_size, " per agent",
                    has_avail_actions ? " with availability masks" : "", "\n");
  }
  absl::StrAppend(&text, "  episode limit     ", episode_limit, " steps\n");
  return text;
}

}  // namespace tandem::envs
