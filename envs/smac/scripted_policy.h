// Reference policies for the SMAC-like env: a scripted focus-fire team (a sanity baseline and a
// test fixture) and uniformly random available actions.
#ifndef TANDEM_ENVS_SMAC_SCRIPTED_POLICY_H_
#define TANDEM_ENVS_SMAC_SCRIPTED_POLICY_H_

#include <cstdint>

#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "common/rng.h"
#include "envs/smac/smac_env.h"

namespace tandem::envs::smac {

// Focus fire: every live agent attacks, among the enemies it may attack, the one with the least
// health + shield (melee units: the nearest, since walking past enemies to the weakest costs them
// dearly); a medivac heals the most damaged ally it may heal. With nothing in reach an agent walks
// toward the nearest live enemy (medivacs: the nearest ally), along the longer axis when that move
// is available. Dead agents no-op. Writes one action per agent into `actions`.
void ScriptedActions(const SmacEnv& env, absl::Span<int32_t> actions);

// A uniformly random available action per agent from a num_agents x num_actions mask.
void RandomAvailableActions(absl::Span<const uint8_t> avail, int num_agents, int num_actions,
                            Rng& rng, absl::Span<int32_t> actions);

enum class ReferencePolicy { kRandom, kScripted };

// Outcome of `PlayEpisodes`.
struct PlayStats {
  int episodes = 0;
  int wins = 0;
  double mean_return = 0, std_return = 0;
  double mean_length = 0;
  int64_t steps = 0;
  // Wall time of the whole run (env and policy).
  double seconds = 0;
};

// Plays `episodes` episodes of `policy`; episode e starts from a seed derived from (`seed`, e),
// so a run is reproducible.
absl::StatusOr<PlayStats> PlayEpisodes(SmacEnv& env, ReferencePolicy policy, int episodes,
                                       uint64_t seed);

}  // namespace tandem::envs::smac

#endif  // TANDEM_ENVS_SMAC_SCRIPTED_POLICY_H_
