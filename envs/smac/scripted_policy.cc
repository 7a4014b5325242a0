#include "envs/smac/scripted_policy.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "absl/time/clock.h"
#include "common/status_macros.h"

namespace tandem::envs::smac {
namespace {

// The available move that best heads along `direction` (1 = stop if none helps).
int MoveToward(const uint8_t* avail, Vec2 direction) {
  const int along_x = direction.x >= 0 ? 4 : 5;  // east / west
  const int along_y = direction.y >= 0 ? 2 : 3;  // north / south
  const bool x_first = std::fabs(direction.x) >= std::fabs(direction.y);
  const int first = x_first ? along_x : along_y, second = x_first ? along_y : along_x;
  if (avail[first]) return first;
  if (avail[second]) return second;
  return 1;
}

}  // namespace

void ScriptedActions(const SmacEnv& env, absl::Span<int32_t> actions) {
  const World& world = env.world();
  const int n = world.num_allies(), m = world.num_enemies();
  const int k = env.spec().action_size;
  constexpr int kFirstTarget = SmacEnv::kNumNonTargetActions;
  auto is_healer = [](const Unit& u) { return u.stats->attack == AttackKind::kHeal; };
  for (int i = 0; i < n; ++i) {
    const uint8_t* avail = env.avail_actions().data() + static_cast<size_t>(i) * k;
    const Unit& u = world.unit(i);
    if (!u.alive) {
      actions[i] = 0;
      continue;
    }
    const bool healer = is_healer(u);
    const bool melee = u.stats->range < 1.f;
    int best = -1;
    float best_key = std::numeric_limits<float>::infinity();
    float best_distance = best_key;
    for (int j = 0; kFirstTarget + j < k; ++j) {
      if (!avail[kFirstTarget + j]) continue;
      const Unit& t = world.unit(healer ? j : n + j);
      const float distance = (t.position - u.position).Norm();
      float key;
      if (healer) {
        key = t.health / t.stats->max_health;
        if (key >= 1.f) continue;  // nothing to heal
      } else {
        key = melee ? distance : t.health + t.shield;
      }
      if (key < best_key || (key == best_key && distance < best_distance)) {
        best = j;
        best_key = key;
        best_distance = distance;
      }
    }
    if (best >= 0) {
      actions[i] = kFirstTarget + best;
      continue;
    }
    // Nothing in reach: walk toward the nearest live enemy (healers: the nearest live fighter,
    // stopping close to it).
    const int begin = healer ? 0 : n, end = healer ? n : n + m;
    float nearest = std::numeric_limits<float>::infinity();
    Vec2 heading;
    for (int j = begin; j < end; ++j) {
      const Unit& t = world.unit(j);
      if (j == i || !t.alive || is_healer(t)) continue;
      const float d = (t.position - u.position).Norm();
      if (d < nearest) {
        nearest = d;
        heading = t.position - u.position;
      }
    }
    const bool close_enough = healer && nearest < 2.f;
    actions[i] = std::isinf(nearest) || close_enough ? 1 : MoveToward(avail, heading);
  }
}

void RandomAvailableActions(absl::Span<const uint8_t> avail, int num_agents, int num_actions,
                            Rng& rng, absl::Span<int32_t> actions) {
  for (int i = 0; i < num_agents; ++i) {
    const uint8_t* a = avail.data() + static_cast<size_t>(i) * num_actions;
    int count = 0;
    for (int j = 0; j < num_actions; ++j) count += a[j];
    int pick = static_cast<int>(UniformUnit(rng) * count);
    for (int j = 0; j < num_actions; ++j) {
      if (a[j] && pick-- == 0) {
        actions[i] = j;
        break;
      }
    }
  }
}

absl::StatusOr<PlayStats> PlayEpisodes(SmacEnv& env, ReferencePolicy policy, int episodes,
                                       uint64_t seed) {
  const EnvSpec& spec = env.spec();
  std::vector<float> obs(static_cast<size_t>(spec.num_agents) * spec.obs_size);
  std::vector<float> state(spec.state_size);
  std::vector<uint8_t> avail(static_cast<size_t>(spec.num_agents) * spec.action_size);
  TimeStepView view{absl::MakeSpan(obs), absl::MakeSpan(state), absl::MakeSpan(avail)};
  std::vector<int32_t> actions(spec.num_agents);
  Rng rng(DeriveSeed(seed, {SeedStream::kActor}));
  PlayStats stats;
  double sum = 0, sum_sq = 0, length = 0;
  const absl::Time start = absl::Now();
  for (int e = 0; e < episodes; ++e) {
    RETURN_IF_ERROR(
        env.Reset(DeriveSeed(seed, {SeedStream::kEvaluation, static_cast<uint64_t>(e)}), view));
    double episode_return = 0;
    StepOutcome outcome;
    do {
      if (policy == ReferencePolicy::kScripted) {
        ScriptedActions(env, absl::MakeSpan(actions));
      } else {
        RandomAvailableActions(avail, spec.num_agents, spec.action_size, rng,
                               absl::MakeSpan(actions));
      }
      JointAction joint;
      joint.discrete = actions;
      RETURN_IF_ERROR(env.Step(joint, view, &outcome));
      episode_return += outcome.reward;
      ++stats.steps;
    } while (!outcome.terminated && !outcome.truncated);
    ++stats.episodes;
    stats.wins += outcome.won;
    sum += episode_return;
    sum_sq += episode_return * episode_return;
    length += env.episode_step();
  }
  stats.seconds = absl::ToDoubleSeconds(absl::Now() - start);
  if (episodes > 0) {
    stats.mean_return = sum / episodes;
    stats.std_return =
        std::sqrt(std::max(0.0, sum_sq / episodes - stats.mean_return * stats.mean_return));
    stats.mean_length = length / episodes;
  }
  return stats;
}

}  // namespace tandem::envs::smac
