// MPE dynamics and rewards against steps computed by hand.
#include "envs/mpe/mpe_env.h"

#include <cmath>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace tandem::envs {
namespace {

struct Buffers {
  explicit Buffers(const EnvSpec& spec)
      : obs(spec.num_agents * spec.obs_size), state(spec.state_size) {}
  TimeStepView view() { return {absl::MakeSpan(obs), absl::MakeSpan(state), {}}; }
  std::vector<float> obs, state;
};

std::unique_ptr<MpeEnv> Make(const std::string& task, const std::string& dynamics) {
  auto env = MpeEnv::Create(task, {{"dynamics", dynamics}});
  EXPECT_TRUE(env.ok()) << env.status();
  return std::move(env).value();
}

StepOutcome StepWith(MpeEnv& env, Buffers& buffers, std::vector<float> action) {
  JointAction joint;
  joint.continuous = action;
  StepOutcome outcome;
  EXPECT_TRUE(env.Step(joint, buffers.view(), &outcome).ok());
  return outcome;
}

void Place(MpeEnv& env, int e, double x, double y) {
  env.mutable_entities()[e].pos = {x, y};
  env.mutable_entities()[e].vel = {};
}

TEST(MpeOtc, NavigationMovesByTheClippedActionInsideTheArenaAndScoresCoverage) {
  auto env = Make("CooperativeNavigation-3", "otc");
  Buffers buffers(env->spec());
  ASSERT_TRUE(env->Reset(1, buffers.view()).ok());
  // Agents 0-2, landmarks 3-5.
  Place(*env, 0, 0.0, 0.0);
  Place(*env, 1, 0.95, 0.5);
  Place(*env, 2, -0.5, -0.5);
  Place(*env, 3, 0.3, 0.4);
  Place(*env, 4, 1.0, 0.5);
  Place(*env, 5, -0.5, 0.5);
  // Agent 0 asks for (5, -0.5): x is clipped to 1, a displacement of 0.1. Agent 1 asks for +0.1
  // in x at x = 0.95: the arena stops it at 1.0. Agent 2 stays.
  StepOutcome outcome = StepWith(*env, buffers, {5.f, -0.5f, 1.f, 0.f, 0.f, 0.f});
  const auto& e = env->entities();
  EXPECT_NEAR(e[0].pos.x, 0.1, 1e-12);
  EXPECT_NEAR(e[0].pos.y, -0.05, 1e-7);
  EXPECT_NEAR(e[1].pos.x, 1.0, 1e-12);
  EXPECT_NEAR(e[1].vel.x, 0.05, 1e-12);  // the displacement it really made
  // Landmark 3 (0.3, 0.4): nearest agent 0 at (0.1, -0.05) -> hypot(0.2, 0.45); landmark 4 is
  // covered by agent 1 (0); landmark 5 (-0.5, 0.5): agent 2 at distance 1.0 vs agent 0
  // hypot(0.6, 0.55).
  const double expected = -(std::hypot(0.2, 0.45) + 0.0 + std::hypot(0.6, 0.55));
  EXPECT_NEAR(outcome.reward, expected, 1e-6);
  // Agent 0's observation: vel, pos, landmarks relative, other agents relative.
  const std::vector<float> obs0(buffers.obs.begin(), buffers.obs.begin() + env->spec().obs_size);
  EXPECT_EQ(env->spec().obs_size, 2 + 2 + 6 + 4);
  EXPECT_NEAR(obs0[0], 0.1, 1e-6);
  EXPECT_NEAR(obs0[2], 0.1, 1e-6);
  EXPECT_NEAR(obs0[4], 0.3 - 0.1, 1e-6);
  EXPECT_NEAR(obs0[5], 0.4 + 0.05, 1e-6);
  EXPECT_NEAR(obs0[10], 1.0 - 0.1, 1e-6);   // agent 1 relative
  EXPECT_NEAR(obs0[12], -0.5 - 0.1, 1e-6);  // agent 2 relative
}

TEST(MpeOtc, PreyFleesAtItsSpeedAndEveryPredatorWithinReachScores) {
  auto env = Make("PredatorPrey", "otc");
  Buffers buffers(env->spec());
  ASSERT_TRUE(env->Reset(2, buffers.view()).ok());
  ASSERT_EQ(env->entities().size(), 4u);  // three predators and the prey, no landmarks
  // Predators at (0, 0) and far away at (-0.9, 0.9) and (-0.9, -0.9); prey at (0.3, 0).
  Place(*env, 0, 0.0, 0.0);
  Place(*env, 1, -0.9, 0.9);
  Place(*env, 2, -0.9, -0.9);
  Place(*env, 3, 0.3, 0.0);
  // The flee vector sums (prey - p) / |prey - p|^2 over predators.
  double fx = 0.3 / 0.09, fy = 0;
  for (double py : {0.9, -0.9}) {
    const double dx = 0.3 + 0.9, dy = -py, d2 = dx * dx + dy * dy;
    fx += dx / d2;
    fy += dy / d2;
  }
  const double norm = std::hypot(fx, fy);
  const Vec2 direction = env->PreyDirection();
  EXPECT_NEAR(direction.x, fx / norm, 1e-12);
  EXPECT_NEAR(direction.y, fy / norm, 1e-12);
  // Predator 0 moves +0.1 in x; the prey moves 0.13 along the flee direction (which stays (1, 0)
  // by symmetry): 0.43 - 0.1 = 0.33 apart, no capture.
  StepOutcome outcome = StepWith(*env, buffers, {1.f, 0.f, 0.f, 0.f, 0.f, 0.f});
  EXPECT_NEAR(env->entities()[3].pos.x, 0.3 + MpeEnv::kPreySpeed, 1e-12);
  EXPECT_EQ(outcome.reward, 0.f);
  // A cornered prey cannot leave the arena; two predators within 0.1 of it score 2.
  Place(*env, 3, 1.0, 1.0);
  Place(*env, 0, 0.93, 0.95);
  Place(*env, 1, 0.95, 0.93);
  Place(*env, 2, -0.5, -0.5);
  outcome = StepWith(*env, buffers, {0.f, 0.f, 0.f, 0.f, 0.f, 0.f});
  EXPECT_NEAR(env->entities()[3].pos.x, 1.0, 1e-12);
  EXPECT_NEAR(env->entities()[3].pos.y, 1.0, 1e-12);
  EXPECT_EQ(outcome.reward, 2.f);
}

TEST(MpeOriginal, ForceDampingAndIntegrationFollowCorePy) {
  auto env = Make("CooperativeNavigation-3", "original");
  Buffers buffers(env->spec());
  ASSERT_TRUE(env->Reset(3, buffers.view()).ok());
  // Agents far apart (no contact); action (0.5, -1) on agent 0 with sensitivity 5, mass 1.
  Place(*env, 0, 0.0, 0.0);
  Place(*env, 1, 2.0, 0.0);
  Place(*env, 2, -2.0, 0.0);
  StepWith(*env, buffers, {0.5f, -1.f, 0.f, 0.f, 0.f, 0.f});
  // v = 0 * 0.75 + 5 * (0.5, -1) * 0.1 = (0.25, -0.5); p = v * 0.1.
  EXPECT_NEAR(env->entities()[0].vel.x, 0.25, 1e-12);
  EXPECT_NEAR(env->entities()[0].vel.y, -0.5, 1e-12);
  EXPECT_NEAR(env->entities()[0].pos.x, 0.025, 1e-12);
  EXPECT_NEAR(env->entities()[0].pos.y, -0.05, 1e-12);
  // No action: damping only. v = 0.75 * (0.25, -0.5).
  StepWith(*env, buffers, {0.f, 0.f, 0.f, 0.f, 0.f, 0.f});
  EXPECT_NEAR(env->entities()[0].vel.x, 0.1875, 1e-12);
  EXPECT_NEAR(env->entities()[0].pos.x, 0.025 + 0.01875, 1e-12);
}

TEST(MpeOriginal, OverlappingAgentsArePushedApartBySoftContact) {
  auto env = Make("CooperativeNavigation-3", "original");
  Buffers buffers(env->spec());
  ASSERT_TRUE(env->Reset(4, buffers.view()).ok());
  // Agents 0 and 1 (size 0.15 each) 0.2 apart: penetration k*log(1+exp(0.1/k)) ~ 0.1.
  Place(*env, 0, 0.0, 0.0);
  Place(*env, 1, 0.2, 0.0);
  Place(*env, 2, -3.0, 0.0);
  // simple_spread's team reward: three agents each -sum_l min distance, each -1 for itself, and
  // agents 0 and 1 -1 more each for overlapping.
  const auto& e = env->entities();
  auto cover = [&] {
    double total = 0;
    for (int l = 3; l < 6; ++l) {
      double nearest = INFINITY;
      for (int i = 0; i < 3; ++i) {
        nearest = std::min(nearest, std::hypot(e[l].pos.x - e[i].pos.x, e[l].pos.y - e[i].pos.y));
      }
      total += nearest;
    }
    return total;
  };
  EXPECT_NEAR(env->TeamReward(), -3 * cover() - 3 - 2, 1e-9);
  StepOutcome outcome = StepWith(*env, buffers, {0.f, 0.f, 0.f, 0.f, 0.f, 0.f});
  const double k = MpeEnv::kContactMargin;
  const double penetration = k * std::log1p(std::exp(0.1 / k));
  const double force = MpeEnv::kContactForce * penetration;  // along -x on agent 0
  EXPECT_NEAR(e[0].vel.x, -force * MpeEnv::kDt, 1e-9);
  EXPECT_NEAR(e[1].vel.x, force * MpeEnv::kDt, 1e-9);
  EXPECT_NEAR(e[2].vel.x, 0.0, 1e-12);
  // Pushed 0.4 apart, they no longer overlap: only the constant -1 each remains.
  EXPECT_NEAR(e[1].pos.x - e[0].pos.x, 0.2 + 2 * force * MpeEnv::kDt * MpeEnv::kDt, 1e-9);
  EXPECT_NEAR(outcome.reward, -3 * cover() - 3, 1e-5);
}

TEST(MpeOriginal, SpeedsAreCappedAndCollisionsWithThePreyScoreTen) {
  auto env = Make("PredatorPrey", "original");
  Buffers buffers(env->spec());
  ASSERT_TRUE(env->Reset(5, buffers.view()).ok());
  ASSERT_EQ(env->entities().size(), 6u);  // three adversaries, the prey, two obstacles
  for (int e = 0; e < 6; ++e) Place(*env, e, 10.0 * e, 10.0);
  env->mutable_entities()[0].vel = {0.9, 0.0};
  StepWith(*env, buffers, {1.f, 1.f, 0.f, 0.f, 0.f, 0.f});
  // v = 0.9 * 0.75 + 3 * 0.1 = 0.975 in x, 0.3 in y: |v| = 1.02 > 1, rescaled to 1.
  const Vec2 v = env->entities()[0].vel;
  EXPECT_NEAR(std::hypot(v.x, v.y), 1.0, 1e-12);
  EXPECT_NEAR(v.x / v.y, 0.975 / 0.3, 1e-9);
  // Two adversaries within 0.075 + 0.05 of the prey.
  Place(*env, 3, 0.0, 0.0);
  Place(*env, 0, 0.1, 0.0);
  Place(*env, 1, 0.0, -0.1);
  Place(*env, 2, 0.5, 0.5);
  Place(*env, 4, -5.0, -5.0);
  Place(*env, 5, 5.0, -5.0);
  EXPECT_EQ(env->TeamReward(), 20.0);
}

TEST(MpeOriginal, TheRuleKeepsThePreyInsideTheBoundary) {
  auto env = Make("PredatorPrey", "original");
  Buffers buffers(env->spec());
  ASSERT_TRUE(env->Reset(6, buffers.view()).ok());
  // A predator right behind the prey pushes it toward x = 1; the wall term turns it back first.
  Place(*env, 3, 0.99, 0.0);
  Place(*env, 0, 0.7, 0.0);
  Place(*env, 1, -0.9, 0.9);
  Place(*env, 2, -0.9, -0.9);
  EXPECT_LT(env->PreyDirection().x, 0.0);
}

TEST(Mpe, OptionsAndTasksAreChecked) {
  EXPECT_THAT(MpeEnv::Create("PredatorPrey", {{"dynamics", "fast"}}).status().message(),
              ::testing::HasSubstr("otc or original"));
  EXPECT_THAT(MpeEnv::Create("PredatorPrey", {{"speed", "1"}}).status().message(),
              ::testing::HasSubstr("unknown option 'speed'"));
  EXPECT_THAT(MpeEnv::Create("CooperativeNavigation-x", {}).status().message(),
              ::testing::HasSubstr("agent count"));
  EXPECT_THAT(MpeEnv::Create("CooperativeNavigation-1", {}).status().message(),
              ::testing::HasSubstr("agent count"));
  EXPECT_TRUE(absl::IsNotFound(MpeEnv::Create("Tag", {}).status()));
  auto env = MpeEnv::Create("CooperativeNavigation-6", {{"episode_limit", "40"}});
  ASSERT_TRUE(env.ok());
  EXPECT_EQ((*env)->spec().num_agents, 6);
  EXPECT_EQ((*env)->spec().episode_limit, 40);
  EXPECT_EQ((*env)->spec().state_size, 4 * 6 + 2 * 6);
  EXPECT_EQ((*env)->spec().action_high[0], 1.f);
  EXPECT_EQ((*env)->spec().name, "mpe/CooperativeNavigation-6(episode_limit=40)");
}

}  // namespace
}  // namespace tandem::envs
