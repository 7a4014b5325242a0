// The SMAC maps: armies, spawn points, the enemy's attack-move target, episode limits and the
// walkable terrain, from SMAC's map registry and map files (SMAClite's terrain presets where it
// has them). Every map is 32 x 32 cells; cell (x, y) covers [x, x+1) x [y, y+1), origin
// bottom-left.
#ifndef TANDEM_ENVS_SMAC_MAP_H_
#define TANDEM_ENVS_SMAC_MAP_H_

#include <array>
#include <string>
#include <vector>

#include "envs/smac/unit_type.h"

namespace tandem::envs::smac {

inline constexpr int kMapSize = 32;

// Which cells ground units may occupy.
class Terrain {
 public:
  enum class Preset { kSimple, kCorridor, kPentagon, kAllGreen, kHydraArena };
  static Terrain FromPreset(Preset preset);

  // False outside the map.
  bool Walkable(int x, int y) const {
    return x >= 0 && y >= 0 && x < kMapSize && y < kMapSize && walkable_[y * kMapSize + x];
  }
  bool WalkableAt(float x, float y) const {
    return x >= 0 && y >= 0 && Walkable(static_cast<int>(x), static_cast<int>(y));
  }

 private:
  // Cells with x in [lo, hi] on row y become walkable.
  void OpenRow(int y, int lo, int hi);
  std::array<bool, kMapSize * kMapSize> walkable_{};
};

// Units spawned around one point.
struct SpawnGroup {
  float x = 0, y = 0;
  // In spawn order (ally agent ids are re-sorted later; enemy ids keep this order).
  std::vector<UnitType> units;
};

struct MapSpec {
  std::string name;
  std::vector<SpawnGroup> allies, enemies;
  // Where the enemy attack-moves to at spawn; maps with static enemies have none.
  bool has_attack_point = true;
  float attack_x = 9, attack_y = 16;
  int episode_limit = 0;
  Terrain::Preset terrain = Terrain::Preset::kSimple;
  Race ally_race = Race::kTerran, enemy_race = Race::kTerran;
  // Unit-type one-hot in observations and state: position of each type in these lists (SMAC's
  // ordering, which for stalker/zealot maps differs between the sides). Empty: no type bits.
  std::vector<UnitType> ally_type_order, enemy_type_order;

  int num_allies() const;
  int num_enemies() const;
  int unit_type_bits() const { return static_cast<int>(ally_type_order.size()); }
};

// The maps SMAC's experiments use, by name ("3s5z").
const std::vector<MapSpec>& AllMaps();
const MapSpec* FindMap(const std::string& name);

}  // namespace tandem::envs::smac

#endif  // TANDEM_ENVS_SMAC_MAP_H_
