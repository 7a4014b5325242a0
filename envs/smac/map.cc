#include "envs/smac/map.h"

namespace tandem::envs::smac {
namespace {

using T = UnitType;

std::vector<UnitType> Repeat(UnitType type, int count) {
  return std::vector<UnitType>(count, type);
}

std::vector<UnitType> Concat(std::vector<UnitType> a, const std::vector<UnitType>& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

// Ally at (9, 16), enemy at (23, 16) attack-moving to (9, 16), SIMPLE terrain.
MapSpec Symmetric(std::string name, std::vector<UnitType> allies, std::vector<UnitType> enemies,
                  int limit, Race race) {
  MapSpec map;
  map.name = std::move(name);
  map.allies = {{9, 16, std::move(allies)}};
  map.enemies = {{23, 16, std::move(enemies)}};
  map.episode_limit = limit;
  map.ally_race = map.enemy_race = race;
  return map;
}

std::vector<MapSpec> BuildMaps() {
  std::vector<MapSpec> maps;
  maps.push_back(Symmetric("3m", Repeat(T::kMarine, 3), Repeat(T::kMarine, 3), 60, Race::kTerran));
  maps.push_back(Symmetric("8m", Repeat(T::kMarine, 8), Repeat(T::kMarine, 8), 120, Race::kTerran));
  maps.push_back(
      Symmetric("5m_vs_6m", Repeat(T::kMarine, 5), Repeat(T::kMarine, 6), 70, Race::kTerran));
  maps.push_back(
      Symmetric("27m_vs_30m", Repeat(T::kMarine, 27), Repeat(T::kMarine, 30), 180, Race::kTerran));
  // Stalkers and zealots: SMAC's ally one-hot is stalker 0, zealot 1; the enemy's is reversed.
  struct StalkersAndZealots {
    const char* name;
    int stalkers, zealots, limit;
  };
  for (const StalkersAndZealots& sz :
       {StalkersAndZealots{"2s3z", 2, 3, 120}, StalkersAndZealots{"3s5z", 3, 5, 150}}) {
    const auto army = Concat(Repeat(T::kStalker, sz.stalkers), Repeat(T::kZealot, sz.zealots));
    MapSpec map = Symmetric(sz.name, army, army, sz.limit, Race::kProtoss);
    map.ally_type_order = {T::kStalker, T::kZealot};
    map.enemy_type_order = {T::kZealot, T::kStalker};
    maps.push_back(map);
  }
  {
    const auto army = Concat(Concat(Repeat(T::kMarine, 7), Repeat(T::kMarauder, 2)), {T::kMedivac});
    MapSpec map = Symmetric("MMM", army, army, 150, Race::kTerran);
    map.ally_type_order = map.enemy_type_order = {T::kMarauder, T::kMarine, T::kMedivac};
    maps.push_back(map);
  }
  {
    MapSpec map =
        Symmetric("3s_vs_5z", Repeat(T::kStalker, 3), Repeat(T::kZealot, 5), 250, Race::kProtoss);
    map.terrain = Terrain::Preset::kAllGreen;
    maps.push_back(map);
  }
  {
    MapSpec map;
    map.name = "6h_vs_8z";
    map.allies = {{14.60f, 9.49f, Repeat(T::kHydralisk, 6)}};
    map.enemies = {{14.41f, 16.76f, Repeat(T::kZealot, 8)}};
    map.attack_x = 14.60f;
    map.attack_y = 9.49f;
    map.episode_limit = 150;
    map.terrain = Terrain::Preset::kHydraArena;
    map.ally_race = Race::kZerg;
    map.enemy_race = Race::kProtoss;
    maps.push_back(map);
  }
  {
    MapSpec map;
    map.name = "2s_vs_1sc";
    map.allies = {{11.12f, 10.34f, {T::kStalker}}, {16.98f, 10.37f, {T::kStalker}}};
    map.enemies = {{13.92f, 20.04f, {T::kSpineCrawler}}};
    map.has_attack_point = false;
    map.episode_limit = 300;
    map.terrain = Terrain::Preset::kPentagon;
    map.ally_race = Race::kProtoss;
    map.enemy_race = Race::kZerg;
    maps.push_back(map);
  }
  {
    MapSpec map;
    map.name = "corridor";
    map.allies = {{19.04f, 19.12f, Repeat(T::kZealot, 6)}};
    map.enemies = {{27.91f, 28.24f, Repeat(T::kZergling, 24)}};
    map.attack_x = 4.47f;
    map.attack_y = 4.33f;
    map.episode_limit = 400;
    map.terrain = Terrain::Preset::kCorridor;
    map.ally_race = Race::kProtoss;
    map.enemy_race = Race::kZerg;
    maps.push_back(map);
  }
  return maps;
}

}  // namespace

void Terrain::OpenRow(int y, int lo, int hi) {
  for (int x = lo; x <= hi; ++x) walkable_[y * kMapSize + x] = true;
}

Terrain Terrain::FromPreset(Preset preset) {
  Terrain t;
  switch (preset) {
    case Preset::kSimple:
      for (int y = 8; y <= 23; ++y) t.OpenRow(y, 0, kMapSize - 1);
      break;
    case Preset::kCorridor: {
      // Walkable x range per row y = 1..30 (SMAClite's CORRIDOR preset).
      static constexpr int kRows[30][2] = {
          {2, 13},  {1, 13},  {1, 12},  {1, 12},  {1, 12},  {1, 12},  {1, 12},  {1, 12},
          {1, 12},  {1, 12},  {1, 13},  {2, 14},  {11, 25}, {12, 26}, {13, 27}, {13, 28},
          {12, 29}, {11, 30}, {11, 30}, {11, 30}, {11, 30}, {12, 30}, {13, 30}, {14, 30},
          {15, 30}, {16, 30}, {17, 30}, {18, 30}, {19, 30}, {20, 29}};
      for (int y = 1; y <= 30; ++y) t.OpenRow(y, kRows[y - 1][0], kRows[y - 1][1]);
      break;
    }
    case Preset::kPentagon:
      t.OpenRow(7, 8, 19);
      for (int y = 8; y <= 19; ++y) t.OpenRow(y, 7, 20);
      t.OpenRow(20, 8, 19);
      t.OpenRow(21, 9, 18);
      t.OpenRow(22, 10, 17);
      t.OpenRow(23, 11, 16);
      t.OpenRow(24, 12, 15);
      break;
    case Preset::kAllGreen:
      // SMAClite's 26 x 26 arena (its outer ring is unreachable, so it is left closed).
      for (int y = 3; y <= 28; ++y) t.OpenRow(y, 3, 28);
      break;
    case Preset::kHydraArena:
      // 6h_vs_8z's enclosed area from the map's pathing flags.
      for (int y = 8; y <= 9; ++y) t.OpenRow(y, 10, 19);
      for (int y = 10; y <= 17; ++y) t.OpenRow(y, 8, 21);
      for (int y = 18; y <= 19; ++y) t.OpenRow(y, 10, 19);
      break;
  }
  return t;
}

int MapSpec::num_allies() const {
  int n = 0;
  for (const SpawnGroup& g : allies) n += static_cast<int>(g.units.size());
  return n;
}

int MapSpec::num_enemies() const {
  int n = 0;
  for (const SpawnGroup& g : enemies) n += static_cast<int>(g.units.size());
  return n;
}

const std::vector<MapSpec>& AllMaps() {
  static const std::vector<MapSpec>* maps = new std::vector<MapSpec>(BuildMaps());
  return *maps;
}

const MapSpec* FindMap(const std::string& name) {
  for (const MapSpec& map : AllMaps()) {
    if (map.name == name) return &map;
  }
  return nullptr;
}

}  // namespace tandem::envs::smac
