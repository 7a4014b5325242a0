#include "envs/smac/smac_env.h"

#include <algorithm>
#include <cmath>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/status_macros.h"

namespace tandem::envs {
namespace {

using smac::Unit;
using smac::Vec2;

constexpr float kDeathReward = 10.f;
constexpr float kWinReward = 200.f;
constexpr float kRewardScaleRate = 20.f;
// Move directions of actions 2..5: north, south, east, west.
constexpr Vec2 kDirections[4] = {{0, 1}, {0, -1}, {1, 0}, {-1, 0}};

float Distance(Vec2 a, Vec2 b) { return (a - b).Norm(); }

bool IsHealer(const Unit& u) { return u.stats->attack == smac::AttackKind::kHeal; }

}  // namespace

absl::StatusOr<std::unique_ptr<SmacEnv>> SmacEnv::Create(const std::string& task,
                                                         const EnvOptions& options) {
  const smac::MapSpec* map = smac::FindMap(task);
  if (map == nullptr) {
    std::vector<std::string> names;
    for (const smac::MapSpec& m : smac::AllMaps()) names.push_back(m.name);
    return absl::NotFoundError(
        absl::StrCat("smac: unknown map '", task, "'; smac has: ", absl::StrJoin(names, ", ")));
  }
  int episode_limit = map->episode_limit;
  bool timeout_terminal = false;
  for (const auto& [key, value] : options) {
    if (key == "episode_limit") {
      if (!absl::SimpleAtoi(value, &episode_limit) || episode_limit < 1) {
        return absl::InvalidArgumentError(
            absl::StrCat("smac: option episode_limit must be an integer >= 1, got '", value, "'"));
      }
    } else if (key == "timeout_terminal") {
      if (!absl::SimpleAtob(value, &timeout_terminal)) {
        return absl::InvalidArgumentError(
            absl::StrCat("smac: option timeout_terminal must be true or false, got '", value, "'"));
      }
    } else {
      return absl::InvalidArgumentError(absl::StrCat(
          "smac: unknown option '", key, "'; options are episode_limit, timeout_terminal"));
    }
  }
  std::unique_ptr<SmacEnv> env(new SmacEnv(*map, episode_limit, timeout_terminal));
  EnvSpec& spec = env->spec_;
  spec.name = absl::StrCat("smac/", task);
  if (!options.empty()) absl::StrAppend(&spec.name, "(", FormatEnvOptions(options), ")");
  return env;
}

SmacEnv::SmacEnv(const smac::MapSpec& map, int episode_limit, bool timeout_terminal)
    : map_(map), world_(map), timeout_terminal_(timeout_terminal) {
  const int n = map.num_allies(), m = map.num_enemies();
  const int type_bits = map.unit_type_bits();
  ally_shields_ = map.ally_race == smac::Race::kProtoss;
  enemy_shields_ = map.enemy_race == smac::Race::kProtoss;
  num_actions_ = kNumNonTargetActions + m;
  enemy_feat_size_ = 5 + (enemy_shields_ ? 1 : 0) + type_bits;
  ally_feat_size_ = 5 + (ally_shields_ ? 1 : 0) + type_bits;
  own_feat_size_ = 1 + (ally_shields_ ? 1 : 0) + type_bits;
  ally_state_size_ = 4 + (ally_shields_ ? 1 : 0) + type_bits;
  enemy_state_size_ = 3 + (enemy_shields_ ? 1 : 0) + type_bits;
  const int obs = 4 + m * enemy_feat_size_ + (n - 1) * ally_feat_size_ + own_feat_size_;
  spec_.num_agents = n;
  spec_.agent_obs_sizes.assign(n, obs);
  spec_.obs_size = obs;
  spec_.state_size = n * ally_state_size_ + m * enemy_state_size_ + n * num_actions_;
  spec_.action_type = ACTION_TYPE_DISCRETE;
  spec_.agent_action_sizes.assign(n, num_actions_);
  spec_.action_size = num_actions_;
  spec_.episode_limit = episode_limit;
  spec_.has_avail_actions = true;
  avail_.assign(static_cast<size_t>(n) * num_actions_, 0);
  last_actions_.assign(n, -1);
  enemy_previous_.assign(m, 0);
  enemy_counted_dead_.assign(m, 0);
  float max_reward = m * kDeathReward + kWinReward;
  for (const smac::SpawnGroup& group : map.enemies) {
    for (smac::UnitType type : group.units) {
      max_reward += smac::Stats(type).max_health + smac::Stats(type).max_shield;
    }
  }
  reward_scale_ = max_reward / kRewardScaleRate;
}

int SmacEnv::TypeColumn(smac::UnitType type, bool ally) const {
  const auto& order = ally ? map_.ally_type_order : map_.enemy_type_order;
  const auto it = std::find(order.begin(), order.end(), type);
  return it == order.end() ? -1 : static_cast<int>(it - order.begin());
}

bool SmacEnv::CanMove(const Unit& u, int direction) const {
  // SMAC's check: the cell half a move (1 cell) away must be on the map and walkable.
  const Vec2 p = u.position + kDirections[direction] * (kMoveAmount / 2);
  return world_.terrain().WalkableAt(p.x, p.y);
}

void SmacEnv::ComputeAvailability() {
  const int n = spec_.num_agents;
  std::fill(avail_.begin(), avail_.end(), 0);
  for (int i = 0; i < n; ++i) {
    uint8_t* a = avail_.data() + static_cast<size_t>(i) * num_actions_;
    const Unit& u = world_.unit(i);
    if (!u.alive) {
      a[0] = 1;
      continue;
    }
    a[1] = 1;
    for (int d = 0; d < 4; ++d) a[2 + d] = CanMove(u, d);
    if (IsHealer(u)) {
      for (int j = 0; j < n && kNumNonTargetActions + j < num_actions_; ++j) {
        const Unit& f = world_.unit(j);
        a[kNumNonTargetActions + j] =
            f.alive && !IsHealer(f) && Distance(u.position, f.position) <= kShootRange;
      }
    } else {
      for (int j = 0; j < world_.num_enemies(); ++j) {
        const Unit& e = world_.unit(n + j);
        a[kNumNonTargetActions + j] = e.alive && Distance(u.position, e.position) <= kShootRange;
      }
    }
  }
}

void SmacEnv::WriteObservation(TimeStepView out) const {
  const int n = spec_.num_agents, m = world_.num_enemies();
  std::fill(out.obs.begin(), out.obs.end(), 0.f);
  for (int i = 0; i < n; ++i) {
    const Unit& u = world_.unit(i);
    if (!u.alive) continue;
    float* o = out.obs.data() + static_cast<size_t>(i) * spec_.obs_size;
    const uint8_t* a = avail_.data() + static_cast<size_t>(i) * num_actions_;
    for (int d = 0; d < 4; ++d) o[d] = a[2 + d];
    float* enemy = o + 4;
    for (int j = 0; j < m; ++j, enemy += enemy_feat_size_) {
      const Unit& e = world_.unit(n + j);
      const Vec2 rel = e.position - u.position;
      const float dist = rel.Norm();
      if (!e.alive || dist >= kSightRange) continue;
      enemy[0] = a[kNumNonTargetActions + j];
      enemy[1] = dist / kSightRange;
      enemy[2] = rel.x / kSightRange;
      enemy[3] = rel.y / kSightRange;
      enemy[4] = e.health / e.stats->max_health;
      int c = 5;
      if (enemy_shields_) enemy[c++] = e.stats->max_shield > 0 ? e.shield / e.stats->max_shield : 0;
      if (const int t = TypeColumn(e.type, false); t >= 0) enemy[c + t] = 1;
    }
    float* ally = enemy;
    for (int j = 0; j < n; ++j) {
      if (j == i) continue;
      const Unit& f = world_.unit(j);
      const Vec2 rel = f.position - u.position;
      const float dist = rel.Norm();
      if (f.alive && dist < kSightRange) {
        ally[0] = 1;
        ally[1] = dist / kSightRange;
        ally[2] = rel.x / kSightRange;
        ally[3] = rel.y / kSightRange;
        ally[4] = f.health / f.stats->max_health;
        int c = 5;
        if (ally_shields_) ally[c++] = f.stats->max_shield > 0 ? f.shield / f.stats->max_shield : 0;
        if (const int t = TypeColumn(f.type, true); t >= 0) ally[c + t] = 1;
      }
      ally += ally_feat_size_;
    }
    float* own = ally;
    own[0] = u.health / u.stats->max_health;
    int c = 1;
    if (ally_shields_) own[c++] = u.stats->max_shield > 0 ? u.shield / u.stats->max_shield : 0;
    if (const int t = TypeColumn(u.type, true); t >= 0) own[c + t] = 1;
  }
  if (!out.state.empty()) WriteState(out.state);
  if (!out.avail_actions.empty())
    std::copy(avail_.begin(), avail_.end(), out.avail_actions.begin());
}

void SmacEnv::WriteState(absl::Span<float> state) const {
  const int n = spec_.num_agents, m = world_.num_enemies();
  std::fill(state.begin(), state.end(), 0.f);
  const float center = smac::kMapSize / 2.f, extent = smac::kMapSize;
  float* s = state.data();
  for (int i = 0; i < n; ++i, s += ally_state_size_) {
    const Unit& u = world_.unit(i);
    if (!u.alive) continue;
    s[0] = u.health / u.stats->max_health;
    // SMAC reports the weapon cooldown in game loops over a per-type maximum (energy for medivacs).
    s[1] = IsHealer(u) ? u.energy / smac::kMedivacMaxEnergy
                       : u.cooldown / smac::kTickSeconds / u.stats->state_cooldown_max;
    s[2] = (u.position.x - center) / extent;
    s[3] = (u.position.y - center) / extent;
    int c = 4;
    if (ally_shields_) s[c++] = u.stats->max_shield > 0 ? u.shield / u.stats->max_shield : 0;
    if (const int t = TypeColumn(u.type, true); t >= 0) s[c + t] = 1;
  }
  for (int j = 0; j < m; ++j, s += enemy_state_size_) {
    const Unit& e = world_.unit(n + j);
    if (!e.alive) continue;
    s[0] = e.health / e.stats->max_health;
    s[1] = (e.position.x - center) / extent;
    s[2] = (e.position.y - center) / extent;
    int c = 3;
    if (enemy_shields_) s[c++] = e.stats->max_shield > 0 ? e.shield / e.stats->max_shield : 0;
    if (const int t = TypeColumn(e.type, false); t >= 0) s[c + t] = 1;
  }
  for (int i = 0; i < n; ++i, s += num_actions_) {
    if (last_actions_[i] >= 0) s[last_actions_[i]] = 1;
  }
}

absl::Status SmacEnv::Reset(uint64_t seed, TimeStepView out) {
  world_.Reset(seed);
  step_ = 0;
  done_ = false;
  std::fill(last_actions_.begin(), last_actions_.end(), -1);
  const int n = spec_.num_agents;
  for (int j = 0; j < world_.num_enemies(); ++j) {
    const Unit& e = world_.unit(n + j);
    enemy_previous_[j] = e.health + e.shield;
    enemy_counted_dead_[j] = 0;
  }
  ComputeAvailability();
  WriteObservation(out);
  return absl::OkStatus();
}

int SmacEnv::GameEnd(bool* ended) const {
  // SMAC's update_units: on maps with medivacs a side with only medivacs left has lost.
  int allies = 0, enemies = 0, ally_fighters = 0, enemy_fighters = 0;
  bool ally_medivacs = false, enemy_medivacs = false;
  for (int i = 0; i < static_cast<int>(world_.units().size()); ++i) {
    const Unit& u = world_.unit(i);
    const bool ally = i < spec_.num_agents;
    (ally ? ally_medivacs : enemy_medivacs) |= IsHealer(u);
    if (!u.alive) continue;
    ++(ally ? allies : enemies);
    if (!IsHealer(u)) ++(ally ? ally_fighters : enemy_fighters);
  }
  *ended = true;
  if ((allies == 0 && enemies > 0) || (ally_medivacs && ally_fighters == 0)) return -1;
  if ((allies > 0 && enemies == 0) || (enemy_medivacs && enemy_fighters == 0)) return 1;
  if (allies == 0 && enemies == 0) return 0;
  *ended = false;
  return 0;
}

absl::Status SmacEnv::Step(const JointAction& action, TimeStepView out, StepOutcome* outcome) {
  if (done_) {
    return absl::FailedPreconditionError(
        absl::StrCat(spec_.name, ": the episode has ended (or never started); call Reset"));
  }
  const int n = spec_.num_agents;
  if (!action.continuous.empty() || static_cast<int>(action.discrete.size()) != n) {
    return absl::InvalidArgumentError(absl::StrCat(
        spec_.name, ": expected ", n, " discrete actions (one per agent), got ",
        action.discrete.size(), action.continuous.empty() ? "" : " and continuous values"));
  }
  for (int i = 0; i < n; ++i) {
    const int a = action.discrete[i];
    if (a < 0 || a >= num_actions_) {
      return absl::InvalidArgumentError(absl::StrCat(spec_.name, ": agent ", i, " action ", a,
                                                     " is out of range [0, ", num_actions_, ")"));
    }
    if (!avail_[static_cast<size_t>(i) * num_actions_ + a]) {
      return absl::InvalidArgumentError(
          absl::StrCat(spec_.name, ": agent ", i, " action ", a, " is not available",
                       world_.unit(i).alive ? "" : " (the agent is dead: only no-op, 0)"));
    }
  }
  for (int i = 0; i < n; ++i) {
    const int a = action.discrete[i];
    const Unit& u = world_.unit(i);
    smac::Order order;
    if (a == 0) {
      order.kind = smac::Order::Kind::kNone;
    } else if (a == 1) {
      order.kind = smac::Order::Kind::kStop;
    } else if (a < kNumNonTargetActions) {
      order.kind = smac::Order::Kind::kMove;
      order.point = u.position + kDirections[a - 2] * kMoveAmount;
    } else {
      order.kind = smac::Order::Kind::kAttackUnit;
      const int j = a - kNumNonTargetActions;
      order.target = IsHealer(u) ? j : n + j;
    }
    world_.Command(i, order);
    last_actions_[i] = a;
  }
  world_.Step();
  ++step_;

  // SMAC's reward_battle with reward_only_positive.
  float delta = 0;
  for (int j = 0; j < world_.num_enemies(); ++j) {
    if (enemy_counted_dead_[j]) continue;
    const Unit& e = world_.unit(n + j);
    if (!e.alive) {
      enemy_counted_dead_[j] = 1;
      delta += kDeathReward + enemy_previous_[j];
    } else {
      delta += enemy_previous_[j] - (e.health + e.shield);
      enemy_previous_[j] = e.health + e.shield;
    }
  }
  float reward = std::fabs(delta);
  bool ended = false;
  const int code = GameEnd(&ended);
  outcome->won = ended && code == 1;
  if (outcome->won) reward += kWinReward;
  outcome->reward = reward / reward_scale_;
  const bool timeout = !ended && step_ >= spec_.episode_limit;
  outcome->terminated = ended || (timeout && timeout_terminal_);
  outcome->truncated = timeout && !timeout_terminal_;
  done_ = ended || timeout;
  ComputeAvailability();
  WriteObservation(out);
  return absl::OkStatus();
}

namespace {

std::vector<std::string> SmacTasks() {
  std::vector<std::string> tasks;
  for (const smac::MapSpec& map : smac::AllMaps()) tasks.push_back(map.name);
  return tasks;
}

absl::StatusOr<std::unique_ptr<MultiAgentEnv>> CreateSmacEnv(const std::string& task,
                                                             const EnvOptions& options) {
  ASSIGN_OR_RETURN(std::unique_ptr<SmacEnv> env, SmacEnv::Create(task, options));
  return std::unique_ptr<MultiAgentEnv>(std::move(env));
}

}  // namespace

TANDEM_REGISTER(EnvFamilyRegistry, "smac", (EnvFamily{&CreateSmacEnv, &SmacTasks}));

}  // namespace tandem::envs
