// Combat mechanics of the SMAC-like simulation on hand-built scenes: damage with armour, shields
// and bonuses, melee double hits, cooldown timing, shield regeneration, healing, splash, attack
// reach, the enemy AI's target choice, and allies that never act on their own.
#include "envs/smac/world.h"

#include <vector>

#include "gtest/gtest.h"

namespace tandem::envs::smac {
namespace {

// An empty SIMPLE-terrain arena to place units in by hand.
const MapSpec& Arena() {
  static const MapSpec* map = [] {
    auto* m = new MapSpec();
    m->name = "arena";
    m->has_attack_point = false;
    m->episode_limit = 100;
    return m;
  }();
  return *map;
}

Order AttackUnit(int target) {
  Order order;
  order.kind = Order::Kind::kAttackUnit;
  order.target = target;
  return order;
}

TEST(Damage, ArmourReducesHealthDamageButNotShieldDamage) {
  World world(Arena());
  const int stalker = world.AddUnit(UnitType::kStalker, true, {10, 16});
  const int marine = world.AddUnit(UnitType::kMarine, false, {14, 16});
  const int marauder = world.AddUnit(UnitType::kMarauder, false, {14, 18});
  // A marine's 6 lands fully on the stalker's shield (no armour on shields).
  world.Attack(marine, stalker);
  EXPECT_FLOAT_EQ(world.unit(stalker).shield, 74);
  EXPECT_FLOAT_EQ(world.unit(stalker).health, 80);
  // A stalker's 13 on a light marine (armour 0): 45 - 13.
  world.Attack(stalker, marine);
  EXPECT_FLOAT_EQ(world.unit(marine).health, 32);
  // On an armoured marauder: 13 + 5 bonus - 1 armour.
  world.Attack(stalker, marauder);
  EXPECT_FLOAT_EQ(world.unit(marauder).health, 125 - 17);
  // A marauder's 10 + 10 vs armoured on a stalker with 3 shield left: the shield takes 3, the
  // remaining 17 loses 1 to armour.
  world.unit(stalker).shield = 3;
  world.Attack(marauder, stalker);
  EXPECT_FLOAT_EQ(world.unit(stalker).shield, 0);
  EXPECT_FLOAT_EQ(world.unit(stalker).health, 80 - 16);
}

TEST(Damage, ZealotsHitTwiceAndEachHitMeetsArmourSeparately) {
  World world(Arena());
  const int zealot = world.AddUnit(UnitType::kZealot, true, {10, 16});
  const int marine = world.AddUnit(UnitType::kMarine, false, {11, 16});
  const int stalker = world.AddUnit(UnitType::kStalker, false, {10, 17.2f});
  world.Attack(zealot, marine);
  EXPECT_FLOAT_EQ(world.unit(marine).health, 45 - 16);
  // Shield 5: the first 8 puts 5 into the shield and 3 - 1 into health; the second 8 - 1.
  world.unit(stalker).shield = 5;
  world.Attack(zealot, stalker);
  EXPECT_FLOAT_EQ(world.unit(stalker).health, 80 - 2 - 7);
}

TEST(Weapons, CooldownSetsTheTicksBetweenShots) {
  World world(Arena());
  const int marine = world.AddUnit(UnitType::kMarine, true, {10, 16});
  const int target = world.AddUnit(UnitType::kSpineCrawler, false, {14, 16});
  world.unit(target).order = Order{};  // a passive target
  world.Command(marine, AttackUnit(target));
  std::vector<int64_t> shots;
  float health = world.unit(target).health;
  for (int t = 0; t < 60; ++t) {
    world.Tick();
    if (world.unit(target).health < health - 1) shots.push_back(world.ticks());
    health = world.unit(target).health;
  }
  // 0.61 "faster" seconds = 0.854 game seconds = 13.66 game loops: a shot every 14th tick.
  ASSERT_GE(shots.size(), 4u);
  EXPECT_EQ(shots[0], 1);
  for (size_t i = 1; i < shots.size(); ++i) EXPECT_EQ(shots[i] - shots[i - 1], 14) << i;
}

TEST(Weapons, ReachIsWeaponRangePlusBothRadii) {
  World world(Arena());
  const int zealot = world.AddUnit(UnitType::kZealot, true, {10, 16});
  const float reach = 0.1f + 0.5f + 0.375f;
  const int near = world.AddUnit(UnitType::kMarine, false, {10 + reach - 0.01f, 16});
  const int far = world.AddUnit(UnitType::kMarine, false, {10, 16 + reach + 0.05f});
  EXPECT_FLOAT_EQ(world.AttackReach(world.unit(zealot), world.unit(near)), reach);
  world.unit(near).order = world.unit(far).order = Order{};
  // In reach: it strikes on the first tick without moving.
  world.Command(zealot, AttackUnit(near));
  world.Tick();
  EXPECT_FLOAT_EQ(world.unit(near).health, 45 - 16);
  // Out of reach: it walks first, so nothing lands on the first tick.
  world.Command(zealot, AttackUnit(far));
  world.unit(zealot).cooldown = 0;
  world.Tick();
  EXPECT_FLOAT_EQ(world.unit(far).health, 45);
  EXPECT_GT(world.unit(zealot).position.y, 16);
}

TEST(Shields, RegenerateOnlyAfterTenSecondsWithoutDamage) {
  World world(Arena());
  const int stalker = world.AddUnit(UnitType::kStalker, true, {10, 16});
  const int marine = world.AddUnit(UnitType::kMarine, false, {20, 16});
  world.unit(marine).order = Order{};
  world.Attack(marine, stalker);  // shield 74, regeneration delayed 10 s
  for (int t = 0; t < 160; ++t) world.Tick();
  EXPECT_FLOAT_EQ(world.unit(stalker).shield, 74);
  for (int t = 0; t < 16; ++t) world.Tick();  // one more second: +2 (the delay ends on tick 160)
  EXPECT_NEAR(world.unit(stalker).shield, 76, 0.2);
}

TEST(Healing, MedivacRestoresNineHealthPerSecondForEnergy) {
  World world(Arena());
  const int marine = world.AddUnit(UnitType::kMarine, true, {10, 16});
  const int medivac = world.AddUnit(UnitType::kMedivac, true, {11, 16});
  world.unit(marine).health = 20;
  world.Command(medivac, AttackUnit(marine));
  for (int t = 0; t < 16; ++t) world.Tick();
  EXPECT_NEAR(world.unit(marine).health, 29, 1e-3);
  // 9 health cost 3 energy; one second of regeneration gave back 0.5625.
  EXPECT_NEAR(world.unit(medivac).energy, 50 - 3 + 0.5625, 1e-3);
  // Healing stops at full health.
  for (int t = 0; t < 16 * 5; ++t) world.Tick();
  EXPECT_FLOAT_EQ(world.unit(marine).health, 45);
}

TEST(Healing, ANewTargetNeedsFiveEnergy) {
  World world(Arena());
  const int marine = world.AddUnit(UnitType::kMarine, true, {10, 16});
  const int medivac = world.AddUnit(UnitType::kMedivac, true, {11, 16});
  world.unit(marine).health = 20;
  world.unit(medivac).energy = 4;
  world.Command(medivac, AttackUnit(marine));
  for (int t = 0; t < 16; ++t) world.Tick();
  EXPECT_FLOAT_EQ(world.unit(marine).health, 20);
}

TEST(Splash, ColossusBeamHitsEveryEnemyAcrossTheTarget) {
  World world(Arena());
  const int colossus = world.AddUnit(UnitType::kColossus, true, {10, 16});
  // Targets in a line perpendicular to the shot (the beam is 2.8 long), one behind it.
  const int target = world.AddUnit(UnitType::kZealot, false, {15, 16});
  const int beside = world.AddUnit(UnitType::kZealot, false, {15, 17.2f});
  const int behind = world.AddUnit(UnitType::kZealot, false, {17, 16});
  world.Attack(colossus, target);
  // (10 + 5 vs light) x 2 hits, all into the 50 shield.
  EXPECT_FLOAT_EQ(world.unit(target).shield, 20);
  EXPECT_FLOAT_EQ(world.unit(beside).shield, 20);
  EXPECT_FLOAT_EQ(world.unit(behind).shield, 50);
}

TEST(Splash, BanelingExplodesOnEveryoneNearbyAndDies) {
  World world(Arena());
  const int marine_a = world.AddUnit(UnitType::kMarine, true, {10, 16});
  const int marine_b = world.AddUnit(UnitType::kMarine, true, {11.5f, 17});
  const int marine_far = world.AddUnit(UnitType::kMarine, true, {14, 16});
  const int baneling = world.AddUnit(UnitType::kBaneling, false, {10.8f, 16});
  world.Attack(baneling, marine_a);
  EXPECT_LE(world.unit(marine_a).health, 0);
  EXPECT_LE(world.unit(marine_b).health, 0);
  EXPECT_FLOAT_EQ(world.unit(marine_far).health, 45);
  EXPECT_LE(world.unit(baneling).health, 0);
}

TEST(Regeneration, ZergHealOverTime) {
  World world(Arena());
  const int hydralisk = world.AddUnit(UnitType::kHydralisk, true, {10, 16});
  world.unit(hydralisk).health = 40;
  for (int t = 0; t < 160; ++t) world.Tick();
  EXPECT_NEAR(world.unit(hydralisk).health, 40 + 2.734, 1e-3);
}

TEST(EnemyAi, AcquiresTheClosestTargetInScanRangeAndAlliesNeverActAlone) {
  World world(Arena());
  const int near = world.AddUnit(UnitType::kMarine, true, {10, 16});
  const int far = world.AddUnit(UnitType::kMarine, true, {10, 19});
  const int enemy = world.AddUnit(UnitType::kMarine, false, {14, 16});
  world.unit(enemy).order.kind = Order::Kind::kAttackMove;
  world.unit(enemy).order.point = {2, 16};
  for (int t = 0; t < 40; ++t) world.Tick();
  EXPECT_EQ(world.unit(enemy).target, near);
  EXPECT_LT(world.unit(near).health, 45);
  EXPECT_FLOAT_EQ(world.unit(far).health, 45);
  // The allies, fired upon, neither moved nor fired back: they only follow orders.
  EXPECT_FLOAT_EQ(world.unit(enemy).health, 45);
  EXPECT_FLOAT_EQ(world.unit(near).position.x, 10);
}

TEST(EnemyAi, PrefersHealersAndChasesWhoeverShootsIt) {
  World world(Arena());
  const int marine = world.AddUnit(UnitType::kMarine, true, {10, 16});
  const int medivac = world.AddUnit(UnitType::kMedivac, true, {10, 18.5f});
  const int enemy = world.AddUnit(UnitType::kMarine, false, {13, 16});
  world.unit(enemy).order.kind = Order::Kind::kAttackMove;
  world.unit(enemy).order.point = {13, 16};
  world.Tick();
  EXPECT_EQ(world.unit(enemy).target, medivac);  // farther, but a healer

  // A zealot attacked from beyond its scan range goes after the attacker.
  World other(Arena());
  const int stalker = other.AddUnit(UnitType::kStalker, true, {8, 16});
  const int zealot = other.AddUnit(UnitType::kZealot, false, {14.5f, 16});
  other.unit(zealot).order.kind = Order::Kind::kAttackMove;
  other.unit(zealot).order.point = {14.5f, 16};
  other.Command(stalker, AttackUnit(zealot));
  other.Tick();
  other.Tick();
  EXPECT_EQ(other.unit(zealot).target, stalker);
  EXPECT_LT(other.unit(zealot).position.x, 14.5f);
  (void)marine;
}

TEST(Movement, UnitsWalkAroundEachOtherWithoutOverlapping) {
  World world(Arena());
  // Two lines of marines marching through each other.
  std::vector<int> units;
  for (int k = 0; k < 5; ++k) {
    units.push_back(world.AddUnit(UnitType::kMarine, true, {6, 14 + k * 0.9f}));
    units.push_back(world.AddUnit(UnitType::kMarine, true, {20, 14.2f + k * 0.9f}));
  }
  for (int k = 0; k < static_cast<int>(units.size()); ++k) {
    Order order;
    order.kind = Order::Kind::kMove;
    order.point = {k % 2 == 0 ? 20.f : 6.f, world.unit(units[k]).position.y};
    world.Command(units[k], order);
  }
  float min_gap = 1e9f;
  for (int t = 0; t < 16 * 12; ++t) {
    world.Tick();
    for (size_t a = 0; a < units.size(); ++a) {
      for (size_t b = a + 1; b < units.size(); ++b) {
        const float gap =
            (world.unit(units[a]).position - world.unit(units[b]).position).Norm() - 0.75f;
        min_gap = std::min(min_gap, gap);
      }
    }
  }
  EXPECT_GE(min_gap, -1e-3f);
  // They got past each other: most of the eastbound marines made it most of the way.
  int arrived = 0;
  for (size_t k = 0; k < units.size(); k += 2) arrived += world.unit(units[k]).position.x > 17;
  EXPECT_GE(arrived, 4);
}

TEST(Movement, WallsStopGroundUnitsButNotAir) {
  World world(Arena());
  const int marine = world.AddUnit(UnitType::kMarine, true, {10, 9});
  const int medivac = world.AddUnit(UnitType::kMedivac, true, {14, 9});
  Order south;
  south.kind = Order::Kind::kMove;
  south.point = {10, 2};
  world.Command(marine, south);
  south.point = {14, 2};
  world.Command(medivac, south);
  for (int t = 0; t < 16 * 6; ++t) world.Tick();
  // SIMPLE terrain is walkable for y in [8, 24): the marine rests against the wall.
  EXPECT_NEAR(world.unit(marine).position.y, 8 + 0.375f, 1e-3);
  EXPECT_FALSE(world.HitsTerrain(world.unit(marine).position, 0.375f - 1e-3f));
  EXPECT_NEAR(world.unit(medivac).position.y, 2, 1e-3);
}

}  // namespace
}  // namespace tandem::envs::smac
