// One conformance suite over every MA-MuJoCo task and observation mode and every MPE task under
// both dynamics: dims, determinism, finite observations, padding, time-limit truncation, bad
// actions rejected, no MuJoCo warnings. (The SMAC-like maps have theirs in smac/smac_env_test.cc.)
#include <cmath>
#include <cstring>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/rng.h"
#include "envs/mamujoco/mujoco_model.h"
#include "envs/registry.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace tandem::envs {
namespace {

// Buffers for one env's time step.
struct Buffers {
  explicit Buffers(const EnvSpec& spec)
      : obs(spec.num_agents * spec.obs_size),
        state(spec.state_size),
        avail(spec.has_avail_actions ? spec.num_agents * spec.action_size : 0) {}
  TimeStepView view() {
    return {absl::MakeSpan(obs), absl::MakeSpan(state), absl::MakeSpan(avail)};
  }
  std::vector<float> obs, state;
  std::vector<uint8_t> avail;
};

std::vector<float> RandomAction(const EnvSpec& spec, Rng& rng) {
  std::vector<float> action(spec.num_agents * spec.action_size, 0.f);
  for (size_t j = 0; j < action.size(); ++j) {
    action[j] = static_cast<float>(spec.action_low[j] +
                                   (spec.action_high[j] - spec.action_low[j]) * UniformUnit(rng));
  }
  return action;
}

// Runs `steps` random steps from `seed`; returns every obs, state and reward concatenated.
std::vector<float> Rollout(const std::string& name, uint64_t seed, int steps) {
  auto env = CreateEnv(name);
  EXPECT_TRUE(env.ok()) << env.status();
  const EnvSpec& spec = (*env)->spec();
  Buffers buffers(spec);
  Rng rng(99);
  std::vector<float> trace;
  EXPECT_TRUE((*env)->Reset(seed, buffers.view()).ok());
  for (int t = 0; t < steps; ++t) {
    std::vector<float> action = RandomAction(spec, rng);
    StepOutcome outcome;
    JointAction joint;
    joint.continuous = action;
    EXPECT_TRUE((*env)->Step(joint, buffers.view(), &outcome).ok());
    trace.insert(trace.end(), buffers.obs.begin(), buffers.obs.end());
    trace.insert(trace.end(), buffers.state.begin(), buffers.state.end());
    trace.push_back(outcome.reward);
    if (outcome.terminated || outcome.truncated) {
      EXPECT_TRUE((*env)->Reset(seed + t, buffers.view()).ok());
    }
  }
  return trace;
}

class Conformance : public ::testing::TestWithParam<std::string> {};

TEST_P(Conformance, SpecIsConsistent) {
  auto env = CreateEnv(GetParam());
  ASSERT_TRUE(env.ok()) << env.status();
  const EnvSpec& spec = (*env)->spec();
  EXPECT_GE(spec.num_agents, 1);
  ASSERT_EQ(static_cast<int>(spec.agent_obs_sizes.size()), spec.num_agents);
  EXPECT_EQ(spec.obs_size,
            *std::max_element(spec.agent_obs_sizes.begin(), spec.agent_obs_sizes.end()));
  EXPECT_GE(spec.state_size, 1);
  EXPECT_EQ(spec.episode_limit, absl::StartsWith(GetParam(), "mpe/") ? 25 : 1000);
  ASSERT_EQ(spec.action_low.size(), static_cast<size_t>(spec.num_agents * spec.action_size));
  TransitionSpec transition = spec.ToTransitionSpec();
  EXPECT_EQ(transition.num_agents(), spec.num_agents);
  EXPECT_EQ(transition.obs_size(), spec.obs_size);
}

TEST_P(Conformance, SameSeedGivesBitIdenticalEpisodes) {
  std::vector<float> a = Rollout(GetParam(), 5, 60);
  std::vector<float> b = Rollout(GetParam(), 5, 60);
  ASSERT_EQ(a.size(), b.size());
  EXPECT_EQ(std::memcmp(a.data(), b.data(), a.size() * sizeof(float)), 0);
  std::vector<float> c = Rollout(GetParam(), 6, 60);
  EXPECT_NE(std::memcmp(a.data(), c.data(), a.size() * sizeof(float)), 0);
}

TEST_P(Conformance, ObservationsAreFiniteAndPaddingIsZero) {
  auto env = CreateEnv(GetParam());
  ASSERT_TRUE(env.ok());
  const EnvSpec& spec = (*env)->spec();
  Buffers buffers(spec);
  Rng rng(3);
  ASSERT_TRUE((*env)->Reset(11, buffers.view()).ok());
  for (int t = 0; t < 100; ++t) {
    std::vector<float> action = RandomAction(spec, rng);
    StepOutcome outcome;
    JointAction joint;
    joint.continuous = action;
    ASSERT_TRUE((*env)->Step(joint, buffers.view(), &outcome).ok());
    ASSERT_TRUE(std::isfinite(outcome.reward));
    for (int i = 0; i < spec.num_agents; ++i) {
      for (int j = 0; j < spec.obs_size; ++j) {
        const float v = buffers.obs[i * spec.obs_size + j];
        ASSERT_TRUE(std::isfinite(v));
        if (j >= spec.agent_obs_sizes[i]) {
          ASSERT_EQ(v, 0.f) << "padding of agent " << i;
        }
      }
    }
    for (float v : buffers.state) ASSERT_TRUE(std::isfinite(v));
    if (outcome.terminated || outcome.truncated) {
      ASSERT_TRUE((*env)->Reset(t, buffers.view()).ok());
    }
  }
}

TEST_P(Conformance, TimeLimitTruncates) {
  auto env = CreateEnv(GetParam(), {{"episode_limit", "7"}});
  ASSERT_TRUE(env.ok());
  const EnvSpec& spec = (*env)->spec();
  Buffers buffers(spec);
  ASSERT_TRUE((*env)->Reset(1, buffers.view()).ok());
  std::vector<float> zero(spec.num_agents * spec.action_size, 0.f);
  JointAction joint;
  joint.continuous = zero;
  StepOutcome outcome;
  for (int t = 1; t <= 7; ++t) {
    ASSERT_TRUE((*env)->Step(joint, buffers.view(), &outcome).ok());
    ASSERT_FALSE(outcome.terminated) << "step " << t;
    EXPECT_EQ(outcome.truncated, t == 7) << "step " << t;
  }
  absl::Status after = (*env)->Step(joint, buffers.view(), &outcome);
  EXPECT_TRUE(absl::IsFailedPrecondition(after)) << after;
}

TEST_P(Conformance, BadActionsAreRejectedWithoutChangingTheState) {
  auto env = CreateEnv(GetParam());
  ASSERT_TRUE(env.ok());
  const EnvSpec& spec = (*env)->spec();
  Buffers buffers(spec);
  StepOutcome outcome;
  std::vector<float> zero(spec.num_agents * spec.action_size, 0.f);
  JointAction joint;
  joint.continuous = zero;
  EXPECT_TRUE(absl::IsFailedPrecondition((*env)->Step(joint, buffers.view(), &outcome)))
      << "stepping before Reset";
  ASSERT_TRUE((*env)->Reset(1, buffers.view()).ok());
  std::vector<float> short_action(zero.size() - 1, 0.f);
  joint.continuous = short_action;
  EXPECT_THAT((*env)->Step(joint, buffers.view(), &outcome).message(),
              ::testing::HasSubstr("expected"));
  for (float bad : {std::nanf(""), INFINITY, -INFINITY}) {
    std::vector<float> action = zero;
    action[0] = bad;
    joint.continuous = action;
    EXPECT_THAT((*env)->Step(joint, buffers.view(), &outcome).message(),
                ::testing::HasSubstr("not finite"));
  }
  EXPECT_EQ((*env)->episode_step(), 0);
  std::vector<int32_t> discrete(spec.num_agents, 0);
  JointAction wrong_kind;
  wrong_kind.discrete = discrete;
  EXPECT_FALSE((*env)->Step(wrong_kind, buffers.view(), &outcome).ok());
}

TEST_P(Conformance, NoMujocoWarnings) {
  const int64_t before = MujocoWarningCount();
  Rollout(GetParam(), 17, 300);
  EXPECT_EQ(MujocoWarningCount(), before);
}

std::vector<std::string> AllEnvs() {
  std::vector<std::string> names;
  for (const std::string& name : RegisteredEnvs()) {
    if (absl::StartsWith(name, "mpe/")) {
      names.push_back(absl::StrCat(name, "(dynamics=otc)"));
      names.push_back(absl::StrCat(name, "(dynamics=original)"));
    }
    if (!absl::StartsWith(name, "mamujoco/")) continue;  // smac/ has its own suite
    names.push_back(absl::StrCat(name, "(obs_mode=omiga)"));
    names.push_back(absl::StrCat(name, "(obs_mode=khop)"));
  }
  return names;
}

std::string TestName(const ::testing::TestParamInfo<std::string>& info) {
  std::string name;
  for (char c : info.param) name += std::isalnum(static_cast<unsigned char>(c)) ? c : '_';
  return name;
}

INSTANTIATE_TEST_SUITE_P(AllEnvs, Conformance, ::testing::ValuesIn(AllEnvs()), TestName);

// The dimension tables of the spec (OMIGA's wrapper; Gymnasium-Robotics mamujoco_v1, k = 1).
TEST(ConformanceDims, MatchThePublishedTables) {
  struct Case {
    const char* name;
    std::vector<int> obs;
    int state;
  };
  const std::vector<Case> cases = {
      {"mamujoco/HalfCheetah-6x1(obs_mode=omiga)", {23, 23, 23, 23, 23, 23}, 6 * 23},
      {"mamujoco/Ant-2x4(obs_mode=omiga)", {113, 113}, 2 * 113},
      {"mamujoco/Hopper-3x1(obs_mode=omiga)", {14, 14, 14}, 3 * 14},
      {"mamujoco/Walker2d-2x3(obs_mode=omiga)", {19, 19}, 2 * 19},
      {"mamujoco/Ant-2x4(obs_mode=khop)", {63, 63}, 111},
      {"mamujoco/Ant-2x4d(obs_mode=khop)", {63, 63}, 111},
      {"mamujoco/Ant-4x2(obs_mode=khop)", {42, 42, 42, 42}, 111},
      {"mamujoco/HalfCheetah-2x3(obs_mode=khop)", {12, 12}, 17},
      {"mamujoco/HalfCheetah-6x1(obs_mode=khop)", {9, 9, 8, 9, 9, 8}, 17},
      {"mamujoco/Hopper-3x1(obs_mode=khop)", {8, 9, 8}, 11},
      {"mamujoco/Walker2d-2x3(obs_mode=khop)", {12, 12}, 17},
      {"mamujoco/Ant-2x4(obs_mode=khop,agent_obsk=0)", {61, 61}, 111},
      {"mamujoco/Ant-4x2(obs_mode=khop,agent_obsk=0)", {39, 39, 39, 39}, 111},
      {"mamujoco/HalfCheetah-6x1(obs_mode=khop,agent_obsk=0)", {7, 7, 7, 7, 7, 7}, 17},
      {"mamujoco/Hopper-3x1(obs_mode=khop,agent_obsk=0)", {7, 7, 7}, 11},
      {"mamujoco/Ant-2x4(obs_mode=khop,rules=v5)", {63, 63}, 105},
  };
  for (const Case& c : cases) {
    auto env = CreateEnv(c.name);
    ASSERT_TRUE(env.ok()) << c.name << ": " << env.status();
    EXPECT_EQ((*env)->spec().agent_obs_sizes, c.obs) << c.name;
    EXPECT_EQ((*env)->spec().state_size, c.state) << c.name;
  }
}

}  // namespace
}  // namespace tandem::envs
