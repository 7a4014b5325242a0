#include "envs/registry.h"

#include <algorithm>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace tandem::envs {
namespace {

using ::testing::HasSubstr;

TEST(Registry, ParsesFamilyTaskAndOptions) {
  std::string family, task;
  EnvOptions options;
  ASSERT_TRUE(
      ParseEnvName("mamujoco/Ant-2x4(obs_mode=khop, agent_obsk=2)", &family, &task, &options).ok());
  EXPECT_EQ(family, "mamujoco");
  EXPECT_EQ(task, "Ant-2x4");
  EXPECT_EQ(options.at("obs_mode"), "khop");
  EXPECT_EQ(options.at("agent_obsk"), "2");
}

TEST(Registry, ListValuedOptionsKeepTheirCommas) {
  std::string family, task;
  EnvOptions options;
  ASSERT_TRUE(ParseEnvName("mamujoco/Ant-2x4(local_categories=qpos,qvel|qpos,agent_obsk=0)",
                           &family, &task, &options)
                  .ok());
  EXPECT_EQ(options.at("local_categories"), "qpos,qvel|qpos");
  EXPECT_EQ(options.at("agent_obsk"), "0");
  auto env = CreateEnv("mamujoco/Ant-2x4(obs_mode=khop,local_categories=qpos,qvel|qpos)");
  ASSERT_TRUE(env.ok()) << env.status();
  EXPECT_EQ((*env)->spec().obs_size, 8 + 2 + 11);  // no contact forces: own 8, hops 2, root 11
}

TEST(Registry, MalformedNamesAreRejected) {
  std::string family, task;
  EnvOptions options;
  EXPECT_THAT(ParseEnvName("HalfCheetah", &family, &task, &options).message(),
              HasSubstr("must be family/task"));
  EXPECT_THAT(ParseEnvName("mamujoco/Ant-2x4(obs_mode", &family, &task, &options).message(),
              HasSubstr("must end with ')'"));
  EXPECT_THAT(ParseEnvName("mamujoco/Ant-2x4(khop)", &family, &task, &options).message(),
              HasSubstr("is not key=value"));
}

TEST(Registry, ListsEveryFactorizationAndMap) {
  std::vector<std::string> names = RegisteredEnvs();
  for (const char* expected : {"mamujoco/Ant-2x4",
                               "mamujoco/Ant-2x4d",
                               "mamujoco/Ant-4x2",
                               "mamujoco/Ant-8x1",
                               "mamujoco/HalfCheetah-2x3",
                               "mamujoco/HalfCheetah-6x1",
                               "mamujoco/HalfCheetah-3x2",
                               "mamujoco/Hopper-3x1",
                               "mamujoco/Walker2d-2x3",
                               "mamujoco/Walker2d-6x1",
                               "mamujoco/Walker2d-3x2",
                               "smac/3m",
                               "smac/8m",
                               "smac/5m_vs_6m",
                               "smac/27m_vs_30m",
                               "smac/2s3z",
                               "smac/3s5z",
                               "smac/MMM",
                               "smac/3s_vs_5z",
                               "smac/6h_vs_8z",
                               "smac/2s_vs_1sc",
                               "smac/corridor"}) {
    EXPECT_NE(std::find(names.begin(), names.end(), expected), names.end()) << expected;
  }
}

TEST(Registry, UnknownNamesAndOptionsAreClearErrors) {
  EXPECT_THAT(CreateEnv("gym/CartPole").status().message(), HasSubstr("unknown env family 'gym'"));
  EXPECT_THAT(CreateEnv("mamujoco/HalfCheetah-7x1").status().message(),
              HasSubstr("mamujoco has: "));
  EXPECT_THAT(CreateEnv("mamujoco/HalfCheetah-6x1(obs_mod=khop)").status().message(),
              HasSubstr("unknown option 'obs_mod'"));
  EXPECT_THAT(CreateEnv("mamujoco/HalfCheetah-6x1", {{"obs_mode", "full"}}).status().message(),
              HasSubstr("obs_mode must be omiga or khop"));
  EXPECT_THAT(CreateEnv("mamujoco/HalfCheetah-6x1(agent_obsk=-1)").status().message(),
              HasSubstr("agent_obsk"));
  EXPECT_THAT(CreateEnv("mamujoco/HalfCheetah-6x1(obs_mode=khop,local_categories=qpos,torque)")
                  .status()
                  .message(),
              HasSubstr("unknown category"));
}

TEST(Registry, ExtraOptionsOverrideThoseInTheName) {
  auto env = CreateEnv("mamujoco/HalfCheetah-6x1(obs_mode=omiga)", {{"obs_mode", "khop"}});
  ASSERT_TRUE(env.ok()) << env.status();
  EXPECT_EQ((*env)->spec().obs_size, 9);
}

}  // namespace
}  // namespace tandem::envs
