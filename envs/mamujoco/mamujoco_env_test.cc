#include "envs/mamujoco/mamujoco_env.h"

#include <cmath>
#include <iostream>
#include <numeric>
#include <vector>

#include "common/rng.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace tandem::envs {
namespace {

std::unique_ptr<MaMujocoEnv> Make(const std::string& task, EnvOptions options = {}) {
  auto env = MaMujocoEnv::Create(task, options);
  EXPECT_TRUE(env.ok()) << env.status();
  return std::move(*env);
}

struct Buffers {
  explicit Buffers(const EnvSpec& spec)
      : obs(spec.num_agents * spec.obs_size), state(spec.state_size) {}
  TimeStepView view() { return {absl::MakeSpan(obs), absl::MakeSpan(state), {}}; }
  std::vector<float> obs, state;
};

StepOutcome StepWith(MaMujocoEnv& env, Buffers& buffers, const std::vector<float>& action) {
  JointAction joint;
  joint.continuous = action;
  StepOutcome outcome;
  absl::Status status = env.Step(joint, buffers.view(), &outcome);
  EXPECT_TRUE(status.ok()) << status;
  return outcome;
}

TEST(MaMujoco, OmigaObservationsAreStandardizedWithOneHotIds) {
  auto env = Make("HalfCheetah-6x1");
  const EnvSpec& spec = env->spec();
  Buffers buffers(spec);
  ASSERT_TRUE(env->Reset(3, buffers.view()).ok());
  for (int i = 0; i < 6; ++i) {
    const float* agent = buffers.obs.data() + i * 23;
    double mean = std::accumulate(agent, agent + 23, 0.0) / 23;
    double var = 0;
    for (int j = 0; j < 23; ++j) var += (agent[j] - mean) * (agent[j] - mean);
    EXPECT_NEAR(mean, 0.0, 1e-5);
    EXPECT_NEAR(var / 23, 1.0, 1e-4);
    // The id entry is the largest of the six id entries.
    int argmax = 0;
    for (int j = 1; j < 6; ++j) {
      if (agent[17 + j] > agent[17 + argmax]) argmax = j;
    }
    EXPECT_EQ(argmax, i);
    // The state holds every agent's vector.
    EXPECT_EQ(
        std::vector<float>(agent, agent + 23),
        std::vector<float>(buffers.state.begin() + i * 23, buffers.state.begin() + (i + 1) * 23));
  }
}

TEST(MaMujoco, OmigaAgentsDriveContiguousActionSlices) {
  auto env = Make("Ant-2x4");  // agent 0: actuators 0-3 (hip_4 ankle_4 hip_1 ankle_1)
  Buffers buffers(env->spec());
  ASSERT_TRUE(env->Reset(1, buffers.view()).ok());
  StepWith(*env, buffers, {0.1f, 0.2f, 0.3f, 0.4f, 0.5f, 0.6f, 0.7f, 0.8f});
  EXPECT_THAT(env->last_flat_action(),
              ::testing::ElementsAre(0.1f, 0.2f, 0.3f, 0.4f, 0.5f, 0.6f, 0.7f, 0.8f));
}

TEST(MaMujoco, KhopAgentsDriveTheirJointsActuators) {
  auto env = Make("Ant-4x2", {{"obs_mode", "khop"}});  // agent 0 = (hip1, ankle1) = actuators 2, 3
  Buffers buffers(env->spec());
  ASSERT_TRUE(env->Reset(1, buffers.view()).ok());
  StepWith(*env, buffers, {0.1f, 0.2f, 0.3f, 0.4f, 0.5f, 0.6f, 0.7f, 0.8f});
  // Agents: (hip1, ankle1) -> 2, 3; (hip2, ankle2) -> 4, 5; (hip3, ankle3) -> 6, 7;
  // (hip4, ankle4) -> 0, 1.
  EXPECT_THAT(env->last_flat_action(),
              ::testing::ElementsAre(0.7f, 0.8f, 0.1f, 0.2f, 0.3f, 0.4f, 0.5f, 0.6f));
}

TEST(MaMujoco, KhopObservationReadsOwnJointsNeighboursAndRoot) {
  auto env = Make("HalfCheetah-6x1", {{"obs_mode", "khop"}});
  Buffers buffers(env->spec());
  ASSERT_TRUE(env->Reset(4, buffers.view()).ok());
  StepWith(*env, buffers, std::vector<float>(6, 0.3f));
  const mjData* d = env->data();
  // Agent 0 = bthigh (qpos 3): own qpos, qvel; neighbours bshin (4), fthigh (6) qpos;
  // globals: qpos rootz, rooty; qvel rootx, rootz, rooty.
  const std::vector<double> expected = {d->qpos[3], d->qvel[3], d->qpos[4], d->qpos[6], d->qpos[1],
                                        d->qpos[2], d->qvel[0], d->qvel[1], d->qvel[2]};
  for (size_t j = 0; j < expected.size(); ++j) {
    EXPECT_FLOAT_EQ(buffers.obs[j], static_cast<float>(expected[j])) << "entry " << j;
  }
  // The state is the single-agent observation: qpos[1:], qvel.
  EXPECT_FLOAT_EQ(buffers.state[0], static_cast<float>(d->qpos[1]));
  EXPECT_FLOAT_EQ(buffers.state[8], static_cast<float>(d->qvel[0]));
}

// Reward formulas restated independently of the robot classes, checked from qpos/qvel/xpos.
TEST(MaMujoco, RewardsMatchTheFormulasRecomputedFromTheState) {
  struct Case {
    const char* task;
    double ctrl_weight;
    double alive;
  };
  for (const Case& c : {Case{"HalfCheetah-6x1", 0.1, 0.0}, Case{"Hopper-3x1", 1e-3, 1.0},
                        Case{"Walker2d-2x3", 1e-3, 1.0}, Case{"Ant-4x2", 0.5, 1.0}}) {
    auto env = Make(c.task);
    const EnvSpec& spec = env->spec();
    Buffers buffers(spec);
    ASSERT_TRUE(env->Reset(8, buffers.view()).ok());
    const bool ant = std::string(c.task).rfind("Ant", 0) == 0;
    const double dt = env->model()->opt.timestep * env->frame_skip();
    Rng rng(1);
    for (int t = 0; t < 5; ++t) {
      const double before = ant ? env->data()->xpos[3] : env->data()->qpos[0];
      std::vector<float> action(spec.num_agents * spec.action_size);
      double norm = 0;
      for (float& a : action) {
        a = static_cast<float>(2 * UniformUnit(rng) - 1);
        norm += static_cast<double>(a) * a;
      }
      StepOutcome outcome = StepWith(*env, buffers, action);
      const double after = ant ? env->data()->xpos[3] : env->data()->qpos[0];
      const double expected = (after - before) / dt - c.ctrl_weight * norm + c.alive;
      EXPECT_NEAR(outcome.reward, expected, 1e-4 * std::max(1.0, std::abs(expected)))
          << c.task << " step " << t;
    }
  }
}

TEST(MaMujoco, HalfCheetahRunsForwardUnderAPeriodicGait) {
  auto env = Make("HalfCheetah-6x1");
  Buffers buffers(env->spec());
  ASSERT_TRUE(env->Reset(1, buffers.view()).ok());
  const double x0 = env->data()->qpos[0];
  double reward = 0;
  for (int t = 0; t < 300; ++t) {
    // Back and front legs in antiphase, thigh -> shin -> foot lagging: a bounding gait.
    std::vector<float> action(6);
    for (int j = 0; j < 6; ++j) {
      const double phase = 2 * M_PI * t / 12.0 + (j < 3 ? 0 : M_PI) + 0.6 * (j % 3);
      action[j] = static_cast<float>(std::sin(phase));
    }
    reward += StepWith(*env, buffers, action).reward;
  }
  const double distance = env->data()->qpos[0] - x0;
  std::cout << "periodic gait: " << distance << " m in 15 s, return " << reward << "\n";
  EXPECT_GT(distance, 1.0);
}

TEST(MaMujoco, HalfCheetahUnderZeroActionEarnsNearZeroForwardReward) {
  auto env = Make("HalfCheetah-6x1");
  Buffers buffers(env->spec());
  ASSERT_TRUE(env->Reset(2, buffers.view()).ok());
  double reward = 0;
  for (int t = 0; t < 200; ++t)
    reward += StepWith(*env, buffers, std::vector<float>(6, 0.f)).reward;
  EXPECT_LT(std::abs(reward / 200), 0.05);
}

TEST(MaMujoco, HopperFallsAndTerminatesUnderZeroAction) {
  auto env = Make("Hopper-3x1");
  Buffers buffers(env->spec());
  ASSERT_TRUE(env->Reset(5, buffers.view()).ok());
  int steps = 0;
  StepOutcome outcome;
  while (!outcome.terminated && !outcome.truncated) {
    outcome = StepWith(*env, buffers, std::vector<float>(3, 0.f));
    ++steps;
  }
  EXPECT_TRUE(outcome.terminated);
  // Falling from z = 1.25 below 0.7 or tipping past 0.2 rad takes more than a few steps and far
  // less than the 1000-step limit.
  EXPECT_GT(steps, 5);
  EXPECT_LT(steps, 500);
  const double z = env->data()->qpos[1], angle = env->data()->qpos[2];
  EXPECT_TRUE(z <= 0.7 || std::abs(angle) >= 0.2) << "z " << z << " angle " << angle;
}

TEST(MaMujoco, AntV2ContactDimsAreZeroAndV5ComputesThem) {
  auto v2 = Make("Ant-2x4");
  Buffers b2(v2->spec());
  ASSERT_TRUE(v2->Reset(1, b2.view()).ok());
  auto v5 = Make("Ant-2x4", {{"rules", "v5"}, {"obs_mode", "khop"}});
  Buffers b5(v5->spec());
  ASSERT_TRUE(v5->Reset(1, b5.view()).ok());
  for (int t = 0; t < 40; ++t) {
    StepWith(*v2, b2, std::vector<float>(8, 0.5f));
    StepWith(*v5, b5, std::vector<float>(8, 0.5f));
  }
  double v2_contacts = 0, v5_contacts = 0;
  for (int i = 0; i < 6 * v2->model()->nbody; ++i) v2_contacts += std::abs(v2->data()->cfrc_ext[i]);
  for (int i = 0; i < 6 * v5->model()->nbody; ++i) v5_contacts += std::abs(v5->data()->cfrc_ext[i]);
  EXPECT_EQ(v2_contacts, 0.0);
  EXPECT_GT(v5_contacts, 0.0);
}

TEST(MaMujoco, Walker2dV5GivesBothFeetTheSameFriction) {
  auto v2 = Make("Walker2d-2x3");
  auto v5 = Make("Walker2d-2x3", {{"rules", "v5"}});
  const int right = mj_name2id(v2->model(), mjOBJ_GEOM, "foot_geom");
  EXPECT_DOUBLE_EQ(v2->model()->geom_friction[3 * right], 0.9);
  EXPECT_DOUBLE_EQ(v5->model()->geom_friction[3 * right], 1.9);
}

TEST(MaMujoco, ModelsAreSharedBetweenEnvs) {
  auto a = Make("HalfCheetah-6x1");
  auto b = Make("HalfCheetah-2x3", {{"obs_mode", "khop"}});
  EXPECT_EQ(a->model(), b->model());
  EXPECT_NE(a->data(), b->data());
}

}  // namespace
}  // namespace tandem::envs
