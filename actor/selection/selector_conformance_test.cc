// Conformance of every registered selector with every env family it declares it handles: acting
// through the shared step loop with that family's acting policy (with a frozen offline policy),
// every chosen action is valid (inside the box and finite, or an available discrete action), and
// a selector that does not fit an env or a policy is refused at creation, naming itself.
#include <ATen/ATen.h>
#include <torch/serialize/output-archive.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <string>
#include <vector>

#include "actor/selection/selector.h"
#include "actor/step_loop.h"
#include "common/networks/architectures.h"
#include "common/networks/decentralized_networks.h"
#include "common/networks/weights.h"
#include "envs/env_pool.h"
#include "envs/registry.h"
#include "gtest/gtest.h"

namespace tandem::actor {
namespace {

struct Family {
  std::string env;
  std::string algorithm;
};

const std::vector<Family>& Families() {
  static const auto* families = new std::vector<Family>{
      {"mamujoco/HalfCheetah-2x3(episode_limit=25)", "omiga"},
      {"smac/3m(episode_limit=25)", "qmix"},
      {"mpe/CooperativeNavigation-3", "dec_bcq"},
      {"mpe/PredatorPrey", "dec_td3_bc"},
      {"mpe/CooperativeNavigation-4", "dec_awac"},
      {"mpe/PredatorPrey", "dec_cql"},
  };
  return *families;
}

AlgorithmConfig Algorithm(const std::string& name) {
  AlgorithmConfig config;
  config.set_name(name);
  config.set_hidden_size(16);
  config.set_mixer_hidden_size(8);
  return config;
}

// A checkpoint holding freshly initialised networks of the family, as the offline policy. The
// file is this process's own: CTest runs each test of this binary as a process of its own, in
// parallel, and they write checkpoints of different shapes.
std::string WriteOfflineCheckpoint(const TransitionSpec& spec, const AlgorithmConfig& algorithm) {
  const std::string path = ::testing::TempDir() + "/conformance-" + algorithm.name() + "-" +
                           std::to_string(getpid()) + ".pt";
  torch::serialize::OutputArchive archive;
  if (algorithm.name() == "qmix") {
    networks::GruAgent agent(networks::GruAgentOptionsFor(spec, algorithm));
    networks::WriteModules({{"agent", agent.get()}}, archive);
  } else if (algorithm.name() == "dec_bcq") {
    const networks::BcqShapes shapes = networks::BcqShapesFor(spec, algorithm).value();
    networks::ConditionalVae vae(networks::BcqVaeOptions(shapes));
    networks::AgentMlp actor(networks::BcqActorOptions(shapes));
    networks::AgentMlp q1(networks::BcqCriticOptions(shapes));
    networks::WriteModules({{"vae", vae.get()}, {"actor", actor.get()}, {"q1", q1.get()}}, archive);
  } else if (algorithm.name() == "dec_td3_bc") {
    const networks::BcqShapes shapes = networks::Td3BcShapesFor(spec, algorithm).value();
    networks::AgentMlp actor(networks::Td3BcActorOptions(shapes));
    networks::WriteModules({{"actor", actor.get()}}, archive);
  } else if (algorithm.name() == "dec_awac" || algorithm.name() == "dec_cql") {
    const networks::BcqShapes shapes =
        (algorithm.name() == "dec_awac" ? networks::BcqShapesFor(spec, algorithm)
                                        : networks::Td3BcShapesFor(spec, algorithm))
            .value();
    networks::AgentMlp actor(networks::GaussianActorOptions(shapes));
    networks::WriteModules({{"actor", actor.get()}}, archive);
  } else {
    networks::TanhGaussianPolicy policy(networks::OmigaPolicyOptions(spec, algorithm));
    networks::Mlp q(networks::OmigaCriticOptions(spec, algorithm));
    networks::OmigaMixer mixer(networks::OmigaMixerOptionsFor(spec, algorithm));
    networks::WriteModules({{"policy", policy.get()}, {"q", q.get()}, {"mixer", mixer.get()}},
                           archive);
  }
  archive.save_to(path);
  return path;
}

TEST(SelectorConformance, EverySelectorActsValidlyOnEveryFamilyItHandles) {
  const std::vector<std::string> selectors = SelectorRegistry::Global().Names();
  ASSERT_GE(selectors.size(), 12u);
  std::vector<std::string> never_ran = selectors;
  for (const Family& family : Families()) {
    auto probe = envs::EnvPool::Create(family.env, 1, 1);
    ASSERT_TRUE(probe.ok()) << probe.status();
    const envs::EnvSpec spec = (*probe)->spec();
    const AlgorithmConfig algorithm = Algorithm(family.algorithm);
    const std::string checkpoint = WriteOfflineCheckpoint(spec.ToTransitionSpec(), algorithm);
    for (const std::string& name : selectors) {
      SCOPED_TRACE(name + " on " + family.env);
      auto policy = policies::CreateActingPolicy(
          policies::PolicyContext{spec.ToTransitionSpec(), algorithm, checkpoint});
      ASSERT_TRUE(policy.ok()) << policy.status();
      SelectorConfig config;
      config.set_name(name);
      config.set_temperature(1.0);
      config.set_epsilon_start(0.5);
      auto selector =
          CreateSelector(config, spec.action_type, spec.name, (*policy)->capabilities());
      if (!selector.ok()) {
        EXPECT_EQ(selector.status().code(), absl::StatusCode::kInvalidArgument);
        EXPECT_NE(selector.status().message().find("'" + name + "'"), std::string::npos);
        continue;
      }
      never_ran.erase(std::remove(never_ran.begin(), never_ran.end(), name), never_ran.end());
      auto pool = envs::EnvPool::Create(family.env, 3, 7);
      ASSERT_TRUE(pool.ok());
      StepLoopOptions options;
      options.seed = 11;
      auto loop = StepLoop::Create(std::move(*pool), policy->get(), std::move(*selector), options);
      ASSERT_TRUE(loop.ok()) << loop.status();
      ASSERT_TRUE((*loop)->Begin().ok());
      const int64_t n = spec.num_agents, a = spec.action_size;
      for (int step = 0; step < 40; ++step) {
        ASSERT_TRUE((*loop)->Act(step * 3).ok());
        if (spec.action_type == ACTION_TYPE_DISCRETE) {
          const auto avail = (*loop)->pool().avail_actions();
          const auto actions = (*loop)->discrete_actions();
          for (int64_t j = 0; j < 3 * n; ++j) {
            ASSERT_GE(actions[j], 0);
            ASSERT_LT(actions[j], a);
            ASSERT_EQ(avail[j * a + actions[j]], 1) << "unavailable action chosen";
          }
        } else {
          const auto actions = (*loop)->continuous_actions();
          for (size_t j = 0; j < actions.size(); ++j) {
            const size_t k = j % spec.action_low.size();
            ASSERT_TRUE(std::isfinite(actions[j]));
            ASSERT_GE(actions[j], spec.action_low[k]);
            ASSERT_LE(actions[j], spec.action_high[k]);
          }
        }
        ASSERT_TRUE((*loop)->Step().ok());
        ASSERT_TRUE((*loop)->ResetFinished().ok());
      }
    }
  }
  EXPECT_TRUE(never_ran.empty()) << never_ran.front();
}

// Property: on every SMAC-like map, the recurrent Q agent's greedy choice, epsilon-greedy (with
// epsilon 1: uniform random) and both sequential-epsilon rules never pick an action the mask marks
// unavailable, over hundreds of steps through deaths and episode restarts.
TEST(SelectorConformance, MaskedActionsAreNeverChosenOnAnySmacMap) {
  const AlgorithmConfig algorithm = Algorithm("qmix");
  int maps = 0;
  for (const std::string& env : envs::RegisteredEnvs()) {
    if (env.rfind("smac/", 0) != 0) continue;
    ++maps;
    auto probe = envs::EnvPool::Create(env, 1, 1);
    ASSERT_TRUE(probe.ok()) << probe.status();
    const envs::EnvSpec spec = (*probe)->spec();
    const std::string checkpoint = WriteOfflineCheckpoint(spec.ToTransitionSpec(), algorithm);
    for (const char* name : {"greedy", "epsilon", "sequential-epsilon", "sequential-epsilon-d"}) {
      SCOPED_TRACE(std::string(name) + " on " + env);
      auto policy = policies::CreateActingPolicy(
          policies::PolicyContext{spec.ToTransitionSpec(), algorithm, checkpoint});
      ASSERT_TRUE(policy.ok()) << policy.status();
      SelectorConfig config;
      const bool decentralized = std::string(name) == "sequential-epsilon-d";
      config.set_name(decentralized ? "sequential-epsilon" : name);
      config.set_decentralized(decentralized);
      config.set_epsilon_start(1.0);
      config.set_epsilon_end(0.0);
      config.set_epsilon_anneal_env_steps(600);
      auto selector =
          CreateSelector(config, spec.action_type, spec.name, (*policy)->capabilities());
      ASSERT_TRUE(selector.ok()) << selector.status();
      auto pool = envs::EnvPool::Create(env, 4, 3, 1, {{"episode_limit", "40"}});
      ASSERT_TRUE(pool.ok());
      auto loop = StepLoop::Create(std::move(*pool), policy->get(), std::move(*selector), {});
      ASSERT_TRUE(loop.ok()) << loop.status();
      ASSERT_TRUE((*loop)->Begin().ok());
      const int64_t n = spec.num_agents, a = spec.action_size;
      for (int step = 0; step < 150; ++step) {
        ASSERT_TRUE((*loop)->Act(step * 4).ok());
        const auto avail = (*loop)->pool().avail_actions();
        const auto actions = (*loop)->discrete_actions();
        for (int64_t j = 0; j < 4 * n; ++j) {
          ASSERT_EQ(avail[j * a + actions[j]], 1) << "step " << step << " env " << j / n
                                                  << " agent " << j % n << " action " << actions[j];
        }
        ASSERT_TRUE((*loop)->Step().ok());
        ASSERT_TRUE((*loop)->ResetFinished().ok());
      }
    }
  }
  EXPECT_GE(maps, 10);
}

TEST(SelectorConformance, MismatchesAreConfigErrorsNamingBothSides) {
  policies::PolicyCapabilities discrete_q;
  discrete_q.algorithm = "qmix";
  discrete_q.action_type = ACTION_TYPE_DISCRETE;
  discrete_q.agent_q = true;
  SelectorConfig cbs;
  cbs.set_name("cbs");
  auto refused = CreateSelector(cbs, ACTION_TYPE_DISCRETE, "smac/3m", discrete_q);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(refused.status().message().find("continuous"), std::string::npos);
  EXPECT_NE(refused.status().message().find("smac/3m"), std::string::npos);

  policies::PolicyCapabilities omiga;
  omiga.algorithm = "omiga";
  omiga.action_type = ACTION_TYPE_CONTINUOUS;
  omiga.factorized_critic = true;
  SelectorConfig boltzmann;
  boltzmann.set_name("boltzmann");
  refused = CreateSelector(boltzmann, ACTION_TYPE_CONTINUOUS, "mamujoco/Ant-2x4", omiga);
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.status().message().find("discrete"), std::string::npos);

  refused = CreateSelector(cbs, ACTION_TYPE_CONTINUOUS, "mamujoco/Ant-2x4", omiga);
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.status().message().find("learner.offline_checkpoint"), std::string::npos);

  SelectorConfig unknown;
  unknown.set_name("telepathy");
  refused = CreateSelector(unknown, ACTION_TYPE_CONTINUOUS, "mamujoco/Ant-2x4", omiga);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kNotFound);
  EXPECT_NE(refused.status().message().find("unknown selector 'telepathy'"), std::string::npos);
}

}  // namespace
}  // namespace tandem::actor
