// The combat simulation behind the SMAC-like env: units on a 32 x 32 map, orders, the enemy's
// attack-move AI, weapons, shields, healing, and collision-free movement.
//
// One `Tick` (one SC2 game loop, 1/16 game second) follows SMAClite's loop:
//   1. every unit re-checks its target (dead or, for attack-move, out of range and not attacking
//      it: dropped);
//   2. attack-moving units without a target acquire one (healers first, then the closest within
//      scan range, or whoever is shooting at them);
//   3. every unit computes a preferred velocity (toward its move point or out-of-range target;
//      zero when firing, stopped or idle);
//   4. ORCA turns preferred into collision-free velocities (units holding still are not pushed);
//   5. in a seeded random order, each live unit moves (positions are then projected out of other
//      units and blocked cells, so circles never overlap and ground units never enter walls),
//      cools down, regenerates, and fires or heals if it can;
//   6. units at zero health die.
// `Step` runs 8 ticks. Units [0, num_allies) are the allies (agent i is unit i), the rest enemies.
//
// Thread-safety: a World is used by one thread at a time.
#ifndef TANDEM_ENVS_SMAC_WORLD_H_
#define TANDEM_ENVS_SMAC_WORLD_H_

#include <cstdint>
#include <vector>

#include "common/rng.h"
#include "envs/smac/map.h"
#include "envs/smac/orca.h"
#include "envs/smac/unit_type.h"

namespace tandem::envs::smac {

// A unit's standing order.
struct Order {
  enum class Kind : uint8_t {
    kNone,        // idle (dead agents' no-op)
    kStop,        // hold still, drop the target
    kMove,        // walk to `point`
    kAttackUnit,  // walk into range of `target` and fire at it (heal it, for a medivac)
    kAttackMove,  // walk to `point`, fighting whatever comes within scan range
  };
  Kind kind = Kind::kNone;
  int target = -1;
  Vec2 point;
};

struct Unit {
  UnitType type = UnitType::kMarine;
  const UnitStats* stats = nullptr;
  bool ally = true;
  bool alive = true;
  Vec2 position, velocity;
  float health = 0, shield = 0, energy = 0;
  // Game seconds until the weapon is ready.
  float cooldown = 0;
  // Game seconds until shields start regenerating.
  float shield_delay = 0;
  Order order;
  // The unit being attacked or healed right now (-1: none).
  int target = -1;
  // Healers: the unit last healed (a new heal target needs some energy to start).
  int last_healed = -1;
  // Scratch for the current tick.
  Vec2 preferred;
  bool in_range = false;
};

class World {
 public:
  explicit World(const MapSpec& map);

  // Spawns both armies (deterministic placement) and seeds the per-tick unit order.
  void Reset(uint64_t seed);
  // One game loop (1/16 s).
  void Tick();
  // `kTicksPerStep` ticks.
  void Step();

  const MapSpec& map() const { return map_; }
  const Terrain& terrain() const { return terrain_; }
  const std::vector<Unit>& units() const { return units_; }
  int num_allies() const { return num_allies_; }
  int num_enemies() const { return static_cast<int>(units_.size()) - num_allies_; }
  Unit& unit(int i) { return units_[i]; }
  const Unit& unit(int i) const { return units_[i]; }
  int64_t ticks() const { return ticks_; }

  // Gives a unit an order (no validation: the env checks availability).
  void Command(int unit, const Order& order) { units_[unit].order = order; }

  // Applies one attack of `attacker` on `target` (damage, splash, suicide); public for tests.
  void Attack(int attacker, int target);
  // Adds `unit` at `position` (tests build custom scenes with these).
  int AddUnit(UnitType type, bool ally, Vec2 position);
  // Removes every unit (tests).
  void Clear();
  // True if a circle of `radius` at `p` overlaps a blocked cell or leaves the map.
  bool HitsTerrain(Vec2 p, float radius) const;
  // Centre distance at which `a` can fire at (or heal) `b`.
  float AttackReach(const Unit& a, const Unit& b) const;

 private:
  // Step 1 of the tick for one unit.
  void CleanUpTarget(int i);
  // Step 2: an attack-moving unit looks for a target.
  void AcquireTarget(int i);
  // Step 3.
  void PrepareVelocity(int i);
  // Step 4.
  void AvoidCollisions();
  // Step 5: movement with hard non-overlap constraints.
  void Move(int i);
  void Regenerate(Unit& u);
  void Execute(int i);
  // One hit of `damage` on `target`: shields first, then health less armour.
  static void DealHit(Unit& target, float damage);
  void Heal(Unit& healer, Unit& target);
  // Whether `a` is a healer / can hit `b` (air units only by anti-air weapons).
  static bool IsHealer(const Unit& u) { return u.stats->attack == AttackKind::kHeal; }
  static bool CanHit(const Unit& a, const Unit& b);
  // Whether ally/enemy `attacker` is attacking `victim` right now.
  bool IsAttacking(int attacker, int victim) const;
  // Projects `p` out of other units and (ground units) blocked cells; false if it cannot.
  bool Resolve(int i, Vec2* p) const;
  void SpawnGroup(const SpawnGroup& group, bool ally);

  const MapSpec& map_;
  Terrain terrain_;
  std::vector<Unit> units_;
  int num_allies_ = 0;
  bool allies_have_healer_ = false;
  float max_radius_ = 0;
  Rng rng_;
  int64_t ticks_ = 0;
  // Scratch buffers reused every tick.
  std::vector<int> order_;
  std::vector<OrcaNeighbour> neighbours_;
  std::vector<OrcaLine> lines_;
  std::vector<Vec2> new_velocity_;
};

}  // namespace tandem::envs::smac

#endif  // TANDEM_ENVS_SMAC_WORLD_H_
