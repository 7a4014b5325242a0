#include "envs/smac/world.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace tandem::envs::smac {
namespace {

// Gap between neighbouring units in a spawn grid (SMAClite's GROUP_BUFFER).
constexpr float kSpawnGap = 0.05f;
// ORCA: look-ahead (game seconds) and how far beyond touching a unit considers its neighbours.
constexpr float kTimeHorizon = 1.f;
constexpr float kNeighbourMargin = 1.f;
// Positions projected out of an overlap are left this far apart.
constexpr float kSkin = 1e-4f;
constexpr int kResolveIterations = 4;
// Colossus beam: a rectangle across the target, 2.8 long and 0.3 deep.
constexpr float kBeamHalfLength = 1.4f;
constexpr float kBeamHalfDepth = 0.15f;
// Baneling explosion radius (plus the victim's radius).
constexpr float kBanelingSplash = 2.2f;

float Distance(Vec2 a, Vec2 b) { return (a - b).Norm(); }

}  // namespace

World::World(const MapSpec& map) : map_(map), terrain_(Terrain::FromPreset(map.terrain)) {
  for (int i = 0; i < kNumUnitTypes; ++i) {
    max_radius_ = std::max(max_radius_, Stats(static_cast<UnitType>(i)).radius);
  }
}

int World::AddUnit(UnitType type, bool ally, Vec2 position) {
  Unit u;
  u.type = type;
  u.stats = &Stats(type);
  u.ally = ally;
  u.position = position;
  u.health = u.stats->max_health;
  u.shield = u.stats->max_shield;
  u.energy = IsHealer(u) ? kMedivacStartEnergy : 0;
  units_.push_back(u);
  if (ally) {
    // Allies stay in front of enemies.
    const int index = num_allies_++;
    std::rotate(units_.begin() + index, units_.end() - 1, units_.end());
    allies_have_healer_ |= IsHealer(u);
    return index;
  }
  return static_cast<int>(units_.size()) - 1;
}

void World::Clear() {
  units_.clear();
  num_allies_ = 0;
  allies_have_healer_ = false;
  ticks_ = 0;
}

void World::SpawnGroup(const struct SpawnGroup& group, bool ally) {
  // SMAClite's layout: a ceil(sqrt(n))-wide grid of touching circles centred on the spawn point,
  // mirrored for the enemy so the two armies are point-symmetric.
  const int n = static_cast<int>(group.units.size());
  const int cols = static_cast<int>(std::ceil(std::sqrt(static_cast<double>(n))));
  const int rows = (n + cols - 1) / cols;
  float radius = 0;
  for (UnitType type : group.units) radius = std::max(radius, Stats(type).radius);
  const float cell = 2 * radius + kSpawnGap;
  const float mirror = ally ? 1.f : -1.f;
  for (int k = 0; k < n; ++k) {
    const float dx = (k % cols - (cols - 1) * 0.5f) * cell;
    const float dy = (k / cols - (rows - 1) * 0.5f) * cell;
    AddUnit(group.units[k], ally, {group.x + mirror * dx, group.y + mirror * dy});
  }
}

void World::Reset(uint64_t seed) {
  Clear();
  rng_.seed(seed);
  for (const struct SpawnGroup& group : map_.allies) SpawnGroup(group, /*ally=*/true);
  // Agent ids follow SMAC: allies sorted by (unit type, x, y) at the start of the episode.
  auto type_rank = [this](UnitType type) {
    const auto& order = map_.ally_type_order;
    return static_cast<int>(std::find(order.begin(), order.end(), type) - order.begin());
  };
  std::stable_sort(units_.begin(), units_.begin() + num_allies_, [&](const Unit& a, const Unit& b) {
    const int ra = type_rank(a.type), rb = type_rank(b.type);
    if (ra != rb) return ra < rb;
    if (a.position.x != b.position.x) return a.position.x < b.position.x;
    return a.position.y < b.position.y;
  });
  for (const struct SpawnGroup& group : map_.enemies) SpawnGroup(group, /*ally=*/false);
  for (int i = num_allies_; i < static_cast<int>(units_.size()); ++i) {
    Unit& u = units_[i];
    u.order.kind = Order::Kind::kAttackMove;
    u.order.point = map_.has_attack_point ? Vec2{map_.attack_x, map_.attack_y} : u.position;
  }
}

void World::Step() {
  for (int t = 0; t < kTicksPerStep; ++t) Tick();
}

void World::Tick() {
  ++ticks_;
  const int n = static_cast<int>(units_.size());
  for (int i = 0; i < n; ++i) {
    if (units_[i].alive) CleanUpTarget(i);
  }
  for (int i = 0; i < n; ++i) {
    if (units_[i].alive && units_[i].order.kind == Order::Kind::kAttackMove) AcquireTarget(i);
  }
  for (int i = 0; i < n; ++i) {
    units_[i].preferred = {};
    units_[i].in_range = false;
    if (units_[i].alive) PrepareVelocity(i);
  }
  AvoidCollisions();
  // A seeded Fisher-Yates shuffle (written out so every platform draws the same order).
  order_.resize(n);
  for (int i = 0; i < n; ++i) order_[i] = i;
  for (int i = n - 1; i > 0; --i) {
    const int j = static_cast<int>(UniformUnit(rng_) * (i + 1));
    std::swap(order_[i], order_[j]);
  }
  for (int i : order_) {
    Unit& u = units_[i];
    if (!u.alive || u.health <= 0) continue;  // dead, or killed earlier in this tick
    Move(i);
    u.cooldown = std::max(0.f, u.cooldown - kTickSeconds);
    Regenerate(u);
    Execute(i);
  }
  for (Unit& u : units_) {
    if (u.alive && u.health <= 0) {
      u.alive = false;
      u.health = u.shield = 0;
      u.velocity = {};
      u.target = -1;
    }
  }
}

float World::AttackReach(const Unit& a, const Unit& b) const {
  return a.stats->range + a.stats->radius + b.stats->radius;
}

bool World::CanHit(const Unit& a, const Unit& b) {
  if (a.stats->attack == AttackKind::kHeal) return false;
  return !b.stats->flying || a.stats->hits_air;
}

bool World::IsAttacking(int attacker, int victim) const {
  const Unit& a = units_[attacker];
  return a.alive && a.target == victim && !IsHealer(a);
}

void World::CleanUpTarget(int i) {
  Unit& u = units_[i];
  switch (u.order.kind) {
    case Order::Kind::kNone:
    case Order::Kind::kStop:
    case Order::Kind::kMove:
      u.target = -1;
      return;
    case Order::Kind::kAttackUnit: {
      // Healers take friendly targets; a weapon that cannot reach the air ignores air targets.
      const int t = u.order.target;
      const bool valid = t >= 0 && units_[t].alive &&
                         (IsHealer(u) ? units_[t].ally == u.ally : CanHit(u, units_[t]));
      u.target = valid ? t : -1;
      return;
    }
    case Order::Kind::kAttackMove: {
      if (u.target < 0) return;
      const Unit& t = units_[u.target];
      if (!t.alive) {
        u.target = -1;
      } else if (IsHealer(u)) {
        if (t.health >= t.stats->max_health) u.target = -1;
      } else if (!IsAttacking(u.target, i) &&
                 Distance(u.position, t.position) > AttackReach(u, t)) {
        u.target = -1;
      }
      return;
    }
  }
}

void World::AcquireTarget(int i) {
  Unit& u = units_[i];
  const int n = static_cast<int>(units_.size());
  if (IsHealer(u)) {
    // Heal the most damaged friendly fighter within scan range.
    if (u.target >= 0) return;
    float lowest = std::numeric_limits<float>::infinity();
    for (int j = 0; j < n; ++j) {
      const Unit& f = units_[j];
      if (j == i || !f.alive || f.ally != u.ally || IsHealer(f) ||
          f.health >= f.stats->max_health) {
        continue;
      }
      if (Distance(u.position, f.position) >= u.stats->scan_range + f.stats->radius) continue;
      if (f.health < lowest) {
        lowest = f.health;
        u.target = j;
      }
    }
    return;
  }
  // Locked on already: only a healer can pull the unit away (when the other side has one).
  const bool healers_around = u.ally ? false : allies_have_healer_;
  if (u.target >= 0 && !healers_around) return;
  int best = -1;
  int best_priority = 2;
  float best_distance = std::numeric_limits<float>::infinity();
  for (int j = 0; j < n; ++j) {
    const Unit& t = units_[j];
    if (!t.alive || t.ally == u.ally || !CanHit(u, t)) continue;
    const float d = Distance(u.position, t.position);
    const bool in_scan = d < u.stats->scan_range + t.stats->radius;
    const bool attacking_me = IsAttacking(j, i);
    if (!in_scan && !attacking_me) continue;
    const int priority = IsHealer(t) ? 0 : 1;
    // Attackers beyond scan range rank after everything in it.
    const float key = in_scan ? d : 1e6f + d;
    if (priority < best_priority || (priority == best_priority && key < best_distance)) {
      best = j;
      best_priority = priority;
      best_distance = key;
    }
  }
  if (best < 0) return;
  if (u.target < 0 || best_priority == 0) u.target = best;
}

void World::PrepareVelocity(int i) {
  Unit& u = units_[i];
  bool has_goal = false;
  Vec2 goal;
  float speed = u.stats->speed;
  switch (u.order.kind) {
    case Order::Kind::kNone:
    case Order::Kind::kStop:
      break;
    case Order::Kind::kMove:
      has_goal = true;
      goal = u.order.point;
      break;
    case Order::Kind::kAttackUnit:
    case Order::Kind::kAttackMove:
      if (u.target >= 0) {
        const Unit& t = units_[u.target];
        if (Distance(u.position, t.position) <= AttackReach(u, t)) {
          u.in_range = true;
        } else {
          has_goal = true;
          goal = t.position;
        }
      } else if (u.order.kind == Order::Kind::kAttackMove) {
        has_goal = true;
        goal = u.order.point;
        if (IsHealer(u)) {
          // An idle healer keeps pace with the slowest fighter it escorts.
          for (const Unit& f : units_) {
            if (f.alive && f.ally == u.ally && !IsHealer(f))
              speed = std::min(speed, f.stats->speed);
          }
        }
      }
      break;
  }
  if (!has_goal || speed <= 0) return;
  const Vec2 d = goal - u.position;
  const float dist = d.Norm();
  if (dist < 1e-6f) return;
  const float step = speed * kTickSeconds;
  u.preferred = dist <= step ? d * (1.f / kTickSeconds) : d * (speed / dist);
}

void World::AvoidCollisions() {
  const int n = static_cast<int>(units_.size());
  new_velocity_.assign(n, Vec2{});
  for (int i = 0; i < n; ++i) {
    const Unit& u = units_[i];
    if (!u.alive || (u.preferred.x == 0 && u.preferred.y == 0)) continue;
    neighbours_.clear();
    for (int j = 0; j < n; ++j) {
      const Unit& o = units_[j];
      if (j == i || !o.alive || o.stats->flying != u.stats->flying) continue;
      const Vec2 rel = o.position - u.position;
      const float reach = u.stats->radius + o.stats->radius + kNeighbourMargin;
      if (rel.NormSq() >= reach * reach) continue;
      const bool moving = o.preferred.x != 0 || o.preferred.y != 0;
      neighbours_.push_back(
          {rel, moving ? o.velocity : Vec2{}, o.stats->radius, moving ? 0.5f : 1.f});
    }
    const float max_speed = std::max(u.preferred.Norm(), 1e-6f);
    new_velocity_[i] = neighbours_.empty()
                           ? u.preferred
                           : OrcaVelocity(u.velocity, u.preferred, u.stats->radius, max_speed,
                                          neighbours_, kTimeHorizon, kTickSeconds, &lines_);
  }
}

bool World::HitsTerrain(Vec2 p, float r) const {
  const int x0 = static_cast<int>(std::floor(p.x - r)), x1 = static_cast<int>(std::floor(p.x + r));
  const int y0 = static_cast<int>(std::floor(p.y - r)), y1 = static_cast<int>(std::floor(p.y + r));
  for (int cy = y0; cy <= y1; ++cy) {
    for (int cx = x0; cx <= x1; ++cx) {
      if (terrain_.Walkable(cx, cy)) continue;
      const Vec2 q{std::clamp(p.x, static_cast<float>(cx), static_cast<float>(cx + 1)),
                   std::clamp(p.y, static_cast<float>(cy), static_cast<float>(cy + 1))};
      if ((p - q).NormSq() < r * r) return true;
    }
  }
  return false;
}

bool World::Resolve(int i, Vec2* p) const {
  const Unit& u = units_[i];
  const float r = u.stats->radius;
  const int n = static_cast<int>(units_.size());
  for (int iteration = 0; iteration < kResolveIterations; ++iteration) {
    bool clean = true;
    for (int j = 0; j < n; ++j) {
      const Unit& o = units_[j];
      if (j == i || !o.alive || o.stats->flying != u.stats->flying) continue;
      const float min = r + o.stats->radius;
      Vec2 d = *p - o.position;
      const float dist_sq = d.NormSq();
      if (dist_sq >= min * min) continue;
      clean = false;
      float dist = std::sqrt(dist_sq);
      if (dist < 1e-6f) {
        d = u.position - o.position;  // fall back to where the unit came from
        dist = d.Norm();
        if (dist < 1e-6f) d = {1, 0}, dist = 1;
      }
      *p = o.position + d * ((min + kSkin) / dist);
    }
    if (u.stats->flying) {
      p->x = std::clamp(p->x, r, kMapSize - r);
      p->y = std::clamp(p->y, r, kMapSize - r);
    } else {
      const int x0 = static_cast<int>(std::floor(p->x - r));
      const int x1 = static_cast<int>(std::floor(p->x + r));
      const int y0 = static_cast<int>(std::floor(p->y - r));
      const int y1 = static_cast<int>(std::floor(p->y + r));
      for (int cy = y0; cy <= y1; ++cy) {
        for (int cx = x0; cx <= x1; ++cx) {
          if (terrain_.Walkable(cx, cy)) continue;
          const Vec2 q{std::clamp(p->x, static_cast<float>(cx), static_cast<float>(cx + 1)),
                       std::clamp(p->y, static_cast<float>(cy), static_cast<float>(cy + 1))};
          const Vec2 d = *p - q;
          const float dist_sq = d.NormSq();
          if (dist_sq >= r * r) continue;
          clean = false;
          if (dist_sq > 1e-12f) {
            *p = q + d * ((r + kSkin) / std::sqrt(dist_sq));
          } else {
            *p = u.position;  // the centre reached the cell: give up this move
          }
        }
      }
    }
    if (clean) return true;
  }
  // Still touching something after the projections: accept only a clean position.
  for (int j = 0; j < n; ++j) {
    const Unit& o = units_[j];
    if (j == i || !o.alive || o.stats->flying != u.stats->flying) continue;
    const float min = r + o.stats->radius;
    if ((*p - o.position).NormSq() < min * min) return false;
  }
  return u.stats->flying || !HitsTerrain(*p, r);
}

void World::Move(int i) {
  Unit& u = units_[i];
  const Vec2 v = new_velocity_[i];
  if (v.x == 0 && v.y == 0) {
    u.velocity = {};
    return;
  }
  Vec2 p = u.position + v * kTickSeconds;
  if (!Resolve(i, &p)) p = u.position;
  u.velocity = (p - u.position) * (1.f / kTickSeconds);
  u.position = p;
}

void World::Regenerate(Unit& u) {
  const UnitStats& s = *u.stats;
  if (s.max_shield > 0) {
    if (u.shield_delay > 0) {
      u.shield_delay = std::max(0.f, u.shield_delay - kTickSeconds);
    } else {
      u.shield = std::min(s.max_shield, u.shield + kShieldRegenRate * kTickSeconds);
    }
  }
  if (IsHealer(u))
    u.energy = std::min(kMedivacMaxEnergy, u.energy + kEnergyRegenRate * kTickSeconds);
  if (s.health_regen > 0)
    u.health = std::min(s.max_health, u.health + s.health_regen * kTickSeconds);
}

void World::Execute(int i) {
  Unit& u = units_[i];
  if (!u.in_range || u.target < 0) return;
  Unit& t = units_[u.target];
  if (t.health <= 0) return;  // killed earlier in this tick
  // The target may have stepped away during this tick.
  if (Distance(u.position, t.position) > AttackReach(u, t)) return;
  if (IsHealer(u)) {
    Heal(u, t);
    return;
  }
  if (u.cooldown > 0) return;
  u.cooldown = u.stats->cooldown;
  Attack(i, u.target);
}

void World::DealHit(Unit& target, float damage) {
  if (target.health <= 0) return;
  if (target.stats->max_shield > 0) target.shield_delay = kShieldRegenDelay;
  const float absorbed = std::min(target.shield, damage);
  target.shield -= absorbed;
  const float rest = damage - absorbed;
  if (rest > 0) target.health -= std::max(0.f, std::min(rest - target.stats->armor, target.health));
}

void World::Attack(int attacker, int target) {
  Unit& a = units_[attacker];
  const Unit& t = units_[target];
  auto damage_to = [&a](const Unit& v) {
    return a.stats->damage +
           ((v.stats->attributes & a.stats->bonus_vs) ? a.stats->bonus_damage : 0);
  };
  switch (a.stats->attack) {
    case AttackKind::kSingle:
      for (int h = 0; h < a.stats->hits; ++h) DealHit(units_[target], damage_to(t));
      break;
    case AttackKind::kLineSplash: {
      Vec2 dir = t.position - a.position;
      const float len = dir.Norm();
      dir = len > 1e-6f ? dir * (1.f / len) : Vec2{1, 0};
      const Vec2 across{-dir.y, dir.x};
      for (Unit& v : units_) {
        if (!v.alive || v.health <= 0 || v.ally == a.ally || v.stats->flying) continue;
        const Vec2 rel = v.position - t.position;
        const float along = rel.Dot(dir), side = rel.Dot(across);
        const float ca = std::clamp(along, -kBeamHalfDepth, kBeamHalfDepth);
        const float cs = std::clamp(side, -kBeamHalfLength, kBeamHalfLength);
        const float r = v.stats->radius;
        if ((along - ca) * (along - ca) + (side - cs) * (side - cs) > r * r) continue;
        const float dmg = damage_to(v);
        for (int h = 0; h < a.stats->hits; ++h) DealHit(v, dmg);
      }
      break;
    }
    case AttackKind::kSuicideArea:
      for (Unit& v : units_) {
        if (!v.alive || v.health <= 0 || v.ally == a.ally || v.stats->flying) continue;
        if (Distance(a.position, v.position) > kBanelingSplash + v.stats->radius) continue;
        DealHit(v, damage_to(v));
      }
      a.health = 0;  // the baneling is spent
      break;
    case AttackKind::kHeal:
      break;
  }
}

void World::Heal(Unit& healer, Unit& target) {
  if (target.health >= target.stats->max_health) return;
  const int index = static_cast<int>(&target - units_.data());
  if (healer.last_healed != index && healer.energy < kMinEnergyToStartHeal) return;
  const float amount = std::min({kHealRate * kTickSeconds, target.stats->max_health - target.health,
                                 healer.energy * kHealthPerEnergy});
  if (amount <= 0) return;
  healer.energy -= amount / kHealthPerEnergy;
  target.health += amount;
  healer.last_healed = index;
}

}  // namespace tandem::envs::smac
