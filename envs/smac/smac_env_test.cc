// The SMAC-like env's agent interface: SMAC's sizes per map, determinism, availability rules,
// observation and state layouts, reward bookkeeping, time limits, rejected actions, collision-free
// rollouts on every map, and outcome sanity for random and scripted teams.
#include "envs/smac/smac_env.h"

#include <cmath>
#include <cstring>
#include <vector>

#include "absl/strings/str_cat.h"
#include "envs/env_pool.h"
#include "envs/registry.h"
#include "envs/smac/scripted_policy.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace tandem::envs {
namespace {

using ::testing::HasSubstr;

struct Buffers {
  explicit Buffers(const EnvSpec& spec)
      : obs(spec.num_agents * spec.obs_size),
        state(spec.state_size),
        avail(spec.num_agents * spec.action_size) {}
  TimeStepView view() {
    return {absl::MakeSpan(obs), absl::MakeSpan(state), absl::MakeSpan(avail)};
  }
  std::vector<float> obs, state;
  std::vector<uint8_t> avail;
};

std::unique_ptr<SmacEnv> Make(const std::string& map, const EnvOptions& options = {}) {
  auto env = SmacEnv::Create(map, options);
  EXPECT_TRUE(env.ok()) << env.status();
  return std::move(env).value();
}

std::vector<std::string> MapNames() {
  std::vector<std::string> names;
  for (const smac::MapSpec& map : smac::AllMaps()) names.push_back(map.name);
  return names;
}

TEST(SmacEnv, SizesMatchSmacPerMap) {
  struct Case {
    const char* map;
    int agents, actions, obs, state;
  };
  for (const Case& c : std::vector<Case>{{"3m", 3, 9, 30, 48},
                                         {"8m", 8, 14, 80, 168},
                                         {"5m_vs_6m", 5, 12, 55, 98},
                                         {"27m_vs_30m", 27, 36, 285, 1170},
                                         {"2s3z", 5, 11, 80, 120},
                                         {"3s5z", 8, 14, 128, 216},
                                         {"MMM", 10, 16, 160, 290},
                                         {"3s_vs_5z", 3, 11, 48, 68},
                                         {"6h_vs_8z", 6, 14, 78, 140},
                                         {"2s_vs_1sc", 2, 7, 17, 27},
                                         {"corridor", 6, 30, 156, 282}}) {
    auto env = CreateEnv(std::string("smac/") + c.map);
    ASSERT_TRUE(env.ok()) << c.map << ": " << env.status();
    const EnvSpec& spec = (*env)->spec();
    EXPECT_EQ(spec.num_agents, c.agents) << c.map;
    EXPECT_EQ(spec.action_size, c.actions) << c.map;
    EXPECT_EQ(spec.obs_size, c.obs) << c.map;
    EXPECT_EQ(spec.state_size, c.state) << c.map;
    EXPECT_EQ(spec.action_type, ACTION_TYPE_DISCRETE);
    EXPECT_TRUE(spec.has_avail_actions);
  }
  EXPECT_EQ(MapNames().size(), 11u);
}

TEST(SmacEnv, UnknownMapsAndOptionsAreClearErrors) {
  EXPECT_THAT(CreateEnv("smac/4m").status().message(), HasSubstr("smac has: 3m, 8m"));
  EXPECT_THAT(SmacEnv::Create("4m", {}).status().message(), HasSubstr("unknown map '4m'"));
  EXPECT_THAT(CreateEnv("smac/3m(episode_limit=0)").status().message(),
              HasSubstr("episode_limit must be an integer >= 1"));
  EXPECT_THAT(CreateEnv("smac/3m(timeout_terminal=maybe)").status().message(),
              HasSubstr("timeout_terminal must be true or false"));
  EXPECT_THAT(CreateEnv("smac/3m(difficulty=7)").status().message(),
              HasSubstr("unknown option 'difficulty'"));
}

// Plays `steps` steps with random available actions; returns obs, state, avail and rewards.
std::vector<float> Trace(const std::string& map, uint64_t seed, int steps) {
  auto env = Make(map);
  Buffers b(env->spec());
  Rng rng(seed);
  std::vector<int32_t> actions(env->spec().num_agents);
  std::vector<float> trace;
  EXPECT_TRUE(env->Reset(seed, b.view()).ok());
  for (int t = 0; t < steps; ++t) {
    smac::RandomAvailableActions(b.avail, env->spec().num_agents, env->spec().action_size, rng,
                                 absl::MakeSpan(actions));
    JointAction joint;
    joint.discrete = actions;
    StepOutcome outcome;
    EXPECT_TRUE(env->Step(joint, b.view(), &outcome).ok());
    trace.insert(trace.end(), b.obs.begin(), b.obs.end());
    trace.insert(trace.end(), b.state.begin(), b.state.end());
    for (uint8_t a : b.avail) trace.push_back(a);
    trace.push_back(outcome.reward);
    if (outcome.terminated || outcome.truncated) {
      EXPECT_TRUE(env->Reset(seed + t, b.view()).ok());
    }
  }
  return trace;
}

TEST(SmacEnv, SameSeedGivesBitIdenticalEpisodesOnEveryMap) {
  for (const std::string& map : MapNames()) {
    const std::vector<float> a = Trace(map, 3, 150), b = Trace(map, 3, 150);
    ASSERT_EQ(a.size(), b.size());
    EXPECT_EQ(std::memcmp(a.data(), b.data(), a.size() * sizeof(float)), 0) << map;
  }
}

// Checks the invariants of one time step against the simulation: no overlapping units, no ground
// unit in a wall, availability per SMAC's rules.
void CheckStep(const SmacEnv& env, const Buffers& b, const std::string& where) {
  const smac::World& world = env.world();
  const auto& units = world.units();
  for (size_t i = 0; i < units.size(); ++i) {
    if (!units[i].alive) continue;
    if (!units[i].stats->flying) {
      ASSERT_FALSE(world.HitsTerrain(units[i].position, units[i].stats->radius - 1e-3f))
          << where << ": unit " << i << " (" << units[i].stats->name << ") in a wall at "
          << units[i].position.x << "," << units[i].position.y;
    }
    for (size_t j = i + 1; j < units.size(); ++j) {
      if (!units[j].alive || units[i].stats->flying != units[j].stats->flying) continue;
      const float gap = (units[i].position - units[j].position).Norm() - units[i].stats->radius -
                        units[j].stats->radius;
      ASSERT_GE(gap, -1e-3f) << where << ": units " << i << " and " << j << " overlap";
    }
  }
  const int n = env.spec().num_agents, k = env.spec().action_size;
  ASSERT_EQ(b.avail, env.avail_actions());
  for (int i = 0; i < n; ++i) {
    const uint8_t* a = b.avail.data() + i * k;
    const smac::Unit& u = world.unit(i);
    if (!u.alive) {
      EXPECT_EQ(a[0], 1) << where;
      for (int j = 1; j < k; ++j) ASSERT_EQ(a[j], 0) << where << ": dead agent " << i;
      continue;
    }
    ASSERT_EQ(a[0], 0) << where;
    ASSERT_EQ(a[1], 1) << where;
    const smac::Vec2 dirs[4] = {{0, 1}, {0, -1}, {1, 0}, {-1, 0}};
    for (int d = 0; d < 4; ++d) {
      const smac::Vec2 p = u.position + dirs[d];
      ASSERT_EQ(a[2 + d], world.terrain().WalkableAt(p.x, p.y)) << where << " move " << d;
    }
    if (u.stats->attack == smac::AttackKind::kHeal) continue;
    for (int j = 0; j < world.num_enemies(); ++j) {
      const smac::Unit& e = world.unit(n + j);
      const bool in_range = e.alive && (e.position - u.position).Norm() <= 6.f;
      ASSERT_EQ(a[6 + j], in_range) << where << ": agent " << i << " attack " << j;
    }
  }
}

TEST(SmacEnv, LongRandomRolloutsKeepUnitsApartAndOutOfWalls) {
  for (const std::string& map : MapNames()) {
    auto env = Make(map);
    Buffers b(env->spec());
    Rng rng(17);
    std::vector<int32_t> actions(env->spec().num_agents);
    for (int episode = 0; episode < 6; ++episode) {
      ASSERT_TRUE(env->Reset(episode, b.view()).ok());
      CheckStep(*env, b, map + " reset");
      StepOutcome outcome;
      do {
        // Mix random and scripted teams so fights happen as well as wandering.
        if (episode % 2 == 0) {
          smac::RandomAvailableActions(b.avail, env->spec().num_agents, env->spec().action_size,
                                       rng, absl::MakeSpan(actions));
        } else {
          smac::ScriptedActions(*env, absl::MakeSpan(actions));
        }
        JointAction joint;
        joint.discrete = actions;
        ASSERT_TRUE(env->Step(joint, b.view(), &outcome).ok());
        CheckStep(*env, b, absl::StrCat(map, " episode ", episode, " step ", env->episode_step()));
        if (HasFailure()) return;
      } while (!outcome.terminated && !outcome.truncated);
    }
  }
}

TEST(SmacEnv, ObservationAndStateFollowSmacsLayout) {
  auto env = Make("2s3z");
  Buffers b(env->spec());
  ASSERT_TRUE(env->Reset(1, b.view()).ok());
  // March everyone east until the armies see each other.
  std::vector<int32_t> east(5, 4);
  StepOutcome outcome;
  JointAction joint;
  joint.discrete = east;
  for (int t = 0; t < 3; ++t) ASSERT_TRUE(env->Step(joint, b.view(), &outcome).ok());
  const smac::World& w = env->world();
  const int n = 5, m = 5;
  const int enemy_feats = 4 + 1 + 1 + 2, ally_feats = 4 + 1 + 1 + 2;
  int seen_enemies = 0;
  for (int i = 0; i < n; ++i) {
    const float* o = b.obs.data() + i * env->spec().obs_size;
    const smac::Unit& u = w.unit(i);
    for (int j = 0; j < m; ++j) {
      const float* f = o + 4 + j * enemy_feats;
      const smac::Unit& e = w.unit(n + j);
      const smac::Vec2 rel = e.position - u.position;
      if (rel.Norm() >= 9) {
        for (int c = 0; c < enemy_feats; ++c) EXPECT_EQ(f[c], 0.f);
        continue;
      }
      ++seen_enemies;
      EXPECT_FLOAT_EQ(f[1], rel.Norm() / 9);
      EXPECT_FLOAT_EQ(f[2], rel.x / 9);
      EXPECT_FLOAT_EQ(f[3], rel.y / 9);
      EXPECT_FLOAT_EQ(f[4], e.health / e.stats->max_health);
      EXPECT_FLOAT_EQ(f[5], e.shield / e.stats->max_shield);
      // SMAC's enemy one-hot on stalker/zealot maps: zealot 0, stalker 1.
      EXPECT_EQ(f[6], e.type == smac::UnitType::kZealot ? 1.f : 0.f);
      EXPECT_EQ(f[7], e.type == smac::UnitType::kStalker ? 1.f : 0.f);
    }
    const float* own = o + 4 + m * enemy_feats + (n - 1) * ally_feats;
    EXPECT_FLOAT_EQ(own[0], u.health / 80.f * (u.type == smac::UnitType::kStalker ? 1 : 0.8f));
    // The ally one-hot: stalker 0, zealot 1; agents are sorted with stalkers first.
    EXPECT_EQ(own[2], i < 2 ? 1.f : 0.f);
    EXPECT_EQ(own[3], i < 2 ? 0.f : 1.f);
  }
  EXPECT_GT(seen_enemies, 0);
  // State: allies [health, cooldown, x, y, shield, type x2], enemies [health, x, y, shield,
  // type x2], last actions.
  const smac::Unit& a0 = w.unit(0);
  EXPECT_FLOAT_EQ(b.state[2], (a0.position.x - 16) / 32);
  EXPECT_FLOAT_EQ(b.state[3], (a0.position.y - 16) / 32);
  const smac::Unit& e0 = w.unit(n);
  EXPECT_FLOAT_EQ(b.state[n * 7 + 1], (e0.position.x - 16) / 32);
  const float* last = b.state.data() + n * 7 + m * 6;
  for (int i = 0; i < n; ++i) {
    for (int a = 0; a < 11; ++a) EXPECT_EQ(last[i * 11 + a], a == 4 ? 1.f : 0.f);
  }
}

TEST(SmacEnv, AWonEpisodeWithoutRegenerationReturnsTwenty) {
  for (const char* map : {"3m", "8m"}) {
    auto env = Make(map);
    Buffers b(env->spec());
    std::vector<int32_t> actions(env->spec().num_agents);
    int wins = 0;
    for (int episode = 0; episode < 20; ++episode) {
      ASSERT_TRUE(env->Reset(episode, b.view()).ok());
      double total = 0;
      StepOutcome outcome;
      do {
        smac::ScriptedActions(*env, absl::MakeSpan(actions));
        JointAction joint;
        joint.discrete = actions;
        ASSERT_TRUE(env->Step(joint, b.view(), &outcome).ok());
        total += outcome.reward;
        ASSERT_GE(outcome.reward, 0.f);
      } while (!outcome.terminated && !outcome.truncated);
      if (outcome.won) {
        ++wins;
        EXPECT_NEAR(total, 20.0, 1e-3) << map << " episode " << episode;
      }
    }
    EXPECT_GT(wins, 0) << map;
  }
}

TEST(SmacEnv, TimeoutIsTruncationOrTerminationByOption) {
  for (bool terminal : {false, true}) {
    auto env =
        Make("3m", {{"episode_limit", "4"}, {"timeout_terminal", terminal ? "true" : "false"}});
    Buffers b(env->spec());
    ASSERT_TRUE(env->Reset(1, b.view()).ok());
    std::vector<int32_t> stop(3, 1);
    JointAction joint;
    joint.discrete = stop;
    StepOutcome outcome;
    for (int t = 1; t <= 4; ++t) {
      ASSERT_TRUE(env->Step(joint, b.view(), &outcome).ok());
      EXPECT_EQ(outcome.truncated, t == 4 && !terminal) << t;
      EXPECT_EQ(outcome.terminated, t == 4 && terminal) << t;
      EXPECT_FALSE(outcome.won);
    }
    EXPECT_TRUE(absl::IsFailedPrecondition(env->Step(joint, b.view(), &outcome)));
  }
}

TEST(SmacEnv, BadActionsAreRejectedWithoutChangingTheEpisode) {
  auto env = Make("3m");
  Buffers b(env->spec());
  std::vector<int32_t> stop(3, 1);
  JointAction joint;
  joint.discrete = stop;
  StepOutcome outcome;
  EXPECT_TRUE(absl::IsFailedPrecondition(env->Step(joint, b.view(), &outcome)));
  ASSERT_TRUE(env->Reset(1, b.view()).ok());
  const std::vector<float> obs_before = b.obs;
  std::vector<int32_t> unavailable = {1, 6, 1};  // enemies are 14 cells away: no attack
  joint.discrete = unavailable;
  EXPECT_THAT(env->Step(joint, b.view(), &outcome).message(),
              HasSubstr("agent 1 action 6 is not available"));
  std::vector<int32_t> noop = {0, 1, 1};  // no-op is for dead agents only
  joint.discrete = noop;
  EXPECT_THAT(env->Step(joint, b.view(), &outcome).message(), HasSubstr("not available"));
  std::vector<int32_t> out_of_range = {1, 1, 9};
  joint.discrete = out_of_range;
  EXPECT_THAT(env->Step(joint, b.view(), &outcome).message(), HasSubstr("out of range"));
  std::vector<int32_t> short_action = {1, 1};
  joint.discrete = short_action;
  EXPECT_THAT(env->Step(joint, b.view(), &outcome).message(), HasSubstr("expected 3"));
  std::vector<float> continuous(27, 0.f);
  JointAction wrong_kind;
  wrong_kind.continuous = continuous;
  EXPECT_FALSE(env->Step(wrong_kind, b.view(), &outcome).ok());
  EXPECT_EQ(env->episode_step(), 0);
  EXPECT_EQ(env->world().ticks(), 0);
  EXPECT_EQ(b.obs, obs_before);
}

TEST(SmacEnv, MovesIntoWallsAreUnavailable) {
  auto env = Make("3m");
  Buffers b(env->spec());
  ASSERT_TRUE(env->Reset(1, b.view()).ok());
  // SIMPLE terrain is walkable for y in [8, 24): 1 cell south of y = 8.5 is a wall, north is not.
  env->mutable_world().unit(0).position = {5, 8.5f};
  env->mutable_world().unit(1).position = {5, 23.5f};
  std::vector<int32_t> stop(3, 1);
  JointAction joint;
  joint.discrete = stop;
  StepOutcome outcome;
  ASSERT_TRUE(env->Step(joint, b.view(), &outcome).ok());
  // Actions 2..5 = north, south, east, west.
  EXPECT_EQ(std::vector<uint8_t>(b.avail.begin() + 2, b.avail.begin() + 6),
            std::vector<uint8_t>({1, 0, 1, 1}));
  EXPECT_EQ(std::vector<uint8_t>(b.avail.begin() + 9 + 2, b.avail.begin() + 9 + 6),
            std::vector<uint8_t>({0, 1, 1, 1}));
  // The observation's move features repeat the mask.
  EXPECT_EQ(std::vector<float>(b.obs.begin(), b.obs.begin() + 4), std::vector<float>({1, 0, 1, 1}));
}

TEST(SmacEnv, DeadAgentsMayOnlyNoOp) {
  auto env = Make("3m");
  Buffers b(env->spec());
  ASSERT_TRUE(env->Reset(1, b.view()).ok());
  env->mutable_world().unit(2).health = 0;  // dies on the next tick
  std::vector<int32_t> stop(3, 1);
  JointAction joint;
  joint.discrete = stop;
  StepOutcome outcome;
  ASSERT_TRUE(env->Step(joint, b.view(), &outcome).ok());
  EXPECT_EQ(std::vector<uint8_t>(b.avail.begin() + 18, b.avail.end()),
            std::vector<uint8_t>({1, 0, 0, 0, 0, 0, 0, 0, 0}));
  for (int j = 0; j < 30; ++j) EXPECT_EQ(b.obs[2 * 30 + j], 0.f) << "dead agent's observation";
  joint.discrete = stop;
  EXPECT_THAT(env->Step(joint, b.view(), &outcome).message(), HasSubstr("the agent is dead"));
}

TEST(SmacEnv, RandomTeamsLoseAndScriptedFocusFireWins) {
  for (const char* map : {"3m", "2s3z"}) {
    auto env = Make(map);
    auto random = smac::PlayEpisodes(*env, smac::ReferencePolicy::kRandom, 200, 5);
    auto scripted = smac::PlayEpisodes(*env, smac::ReferencePolicy::kScripted, 200, 5);
    ASSERT_TRUE(random.ok() && scripted.ok());
    EXPECT_LE(random->wins, 4) << map << ": random wins " << random->wins << " of 200";
    EXPECT_GE(scripted->wins, 120) << map << ": scripted wins " << scripted->wins << " of 200";
  }
}

TEST(SmacEnv, RunsInTheVectorizedPoolWithMasksAndWins) {
  auto pool = EnvPool::Create("smac/3m", 4, /*seed=*/9, /*num_threads=*/2);
  ASSERT_TRUE(pool.ok()) << pool.status();
  ASSERT_TRUE((*pool)->ResetAll().ok());
  const EnvSpec& spec = (*pool)->spec();
  Rng rng(4);
  std::vector<int32_t> actions(4 * spec.num_agents);
  int episodes = 0;
  for (int t = 0; t < 400; ++t) {
    const auto avail = (*pool)->avail_actions();
    for (int e = 0; e < 4; ++e) {
      smac::RandomAvailableActions(
          avail.subspan(static_cast<size_t>(e) * spec.num_agents * spec.action_size,
                        static_cast<size_t>(spec.num_agents) * spec.action_size),
          spec.num_agents, spec.action_size, rng,
          absl::MakeSpan(actions).subspan(e * spec.num_agents, spec.num_agents));
    }
    ASSERT_TRUE((*pool)->Step({}, actions).ok());
    for (int e = 0; e < 4; ++e) {
      episodes += (*pool)->terminated()[e] || (*pool)->truncated()[e];
      EXPECT_FALSE((*pool)->won()[e]) << "a random team beat 3m's AI";
    }
    ASSERT_TRUE((*pool)->ResetFinished().ok());
  }
  EXPECT_GT(episodes, 20);
}

}  // namespace
}  // namespace tandem::envs
