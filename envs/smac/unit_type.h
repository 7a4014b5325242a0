// The unit types of the SMAC-like combat env and their statistics.
//
// Time base: StarCraft II "normal" game speed, which is what SMAC runs. One tick is one game loop,
// 1/16 game second; one env step is 8 ticks (0.5 s). Speeds are in cells per game second and
// cooldowns in game seconds, so a marine moves 2.25 cells/s and fires every 0.854 s, exactly as
// on SC2's clock. Liquipedia's "faster" numbers (which SMAClite uses unconverted, making its units
// about 1.4x quicker per env step than SC2's) were converted: speed / 1.4, cooldown x 1.4.
#ifndef TANDEM_ENVS_SMAC_UNIT_TYPE_H_
#define TANDEM_ENVS_SMAC_UNIT_TYPE_H_

#include <cstdint>
#include <string>

namespace tandem::envs::smac {

// Game seconds per tick and ticks per env step.
inline constexpr float kTickSeconds = 1.f / 16.f;
inline constexpr int kTicksPerStep = 8;

enum class UnitType : uint8_t {
  kMarine,
  kMarauder,
  kMedivac,
  kStalker,
  kZealot,
  kHydralisk,
  kZergling,
  kColossus,
  kBaneling,
  kSpineCrawler,
};
inline constexpr int kNumUnitTypes = 10;

enum class Race : uint8_t { kTerran, kProtoss, kZerg };

// Attribute bits; bonus damage applies per attribute the target has.
enum Attribute : uint8_t {
  kLight = 1 << 0,
  kArmored = 1 << 1,
  kBiological = 1 << 2,
  kMechanical = 1 << 3,
  kMassive = 1 << 4,
  kStructure = 1 << 5,
};

// How a unit's attack lands.
enum class AttackKind : uint8_t {
  kSingle,       // one target
  kLineSplash,   // colossus: every enemy touching a 2.8 x 0.3 line across the target
  kSuicideArea,  // baneling: explodes, hitting every enemy within 2.2 + its radius
  kHeal,         // medivac: heals a friendly unit, spending energy
};

struct UnitStats {
  // Lower-case name ("marine").
  const char* name;
  Race race;
  float max_health;
  float max_shield;
  float armor;
  // Damage per hit, hits per attack, and the bonus added against targets with `bonus_vs`.
  float damage;
  int hits;
  float bonus_damage;
  uint8_t bonus_vs;
  AttackKind attack;
  // Weapon range (melee 0.1); "in range" is centre distance <= range + both radii.
  float range;
  // Game seconds between attacks.
  float cooldown;
  // Cells per game second (0: static).
  float speed;
  float radius;
  // Auto-acquire radius of an attack-moving unit (SMAClite: 5, spine crawler 10).
  float scan_range;
  uint8_t attributes;
  bool flying;
  // The weapon can hit air units.
  bool hits_air;
  // Health regenerated per game second (zerg).
  float health_regen;
  // SMAC's cooldown normaliser for the global state, in game loops (medivac: max energy).
  float state_cooldown_max;
};

const UnitStats& Stats(UnitType type);
// The type called `name` ("zealot"); false if there is none.
bool UnitTypeFromName(const std::string& name, UnitType* type);

// Shield regeneration (per game second) after this long without taking damage.
inline constexpr float kShieldRegenRate = 2.f;
inline constexpr float kShieldRegenDelay = 10.f;
// Medivac energy and healing.
inline constexpr float kMedivacStartEnergy = 50.f;
inline constexpr float kMedivacMaxEnergy = 200.f;
inline constexpr float kEnergyRegenRate = 0.5625f;
inline constexpr float kHealRate = 9.f;         // health per game second
inline constexpr float kHealthPerEnergy = 3.f;  // health restored per energy point
inline constexpr float kMinEnergyToStartHeal = 5.f;

}  // namespace tandem::envs::smac

#endif  // TANDEM_ENVS_SMAC_UNIT_TYPE_H_
