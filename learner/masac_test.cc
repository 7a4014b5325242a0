#include "learner/masac.h"

#include <ATen/ATen.h>

#include <cmath>

#include "common/config.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace tandem::learner {
namespace {

constexpr int kAgents = 2, kObs = 3, kAct = 1, kState = 4;

AlgorithmContext Context(int hidden) {
  AlgorithmContext context;
  context.spec.set_num_agents(kAgents);
  context.spec.set_obs_size(kObs);
  context.spec.set_state_size(kState);
  context.spec.set_action_type(ACTION_TYPE_CONTINUOUS);
  context.spec.set_action_size(kAct);
  FillDefaults(&context.config);
  context.config.set_name("masac");
  context.config.set_hidden_size(hidden);
  context.config.set_mixer_hidden_size(hidden);
  context.config.set_learning_rate(3e-3);
  return context;
}

// A one-step team bandit: every transition is terminal and the team reward is
// -sum_i (a_i - 0.5)^2, so the best joint action is 0.5 for every agent whatever the observation.
TrainingBatch Bandit(int size, uint64_t seed) {
  at::manual_seed(seed);
  TrainingBatch batch;
  batch.obs = at::randn({size, kAgents, kObs});
  batch.state = at::randn({size, kState});
  batch.actions = at::rand({size, kAgents, kAct}) * 2 - 1;
  batch.reward = -(batch.actions - 0.5).pow(2).sum({1, 2});
  batch.terminated = at::ones({size});
  batch.next_obs = at::randn({size, kAgents, kObs});
  batch.next_state = at::randn({size, kState});
  return batch;
}

TEST(Masac, IsRegisteredAndPublishesOmigasActorModules) {
  auto algorithm = CreateAlgorithm(Context(8));
  ASSERT_TRUE(algorithm.ok()) << algorithm.status();
  EXPECT_EQ((*algorithm)->name(), "masac");
  std::vector<std::string> published;
  for (const auto& [name, module] : (*algorithm)->PublishedModules()) published.push_back(name);
  EXPECT_THAT(published, ::testing::ElementsAre("policy", "q", "mixer"));
}

TEST(Masac, TerminalTargetsAreTheRewardAndOthersBootstrap) {
  auto masac = Masac::Create(Context(8));
  ASSERT_TRUE(masac.ok());
  TrainingBatch batch = Bandit(16, 1);
  EXPECT_TRUE(at::allclose((*masac)->Target(batch), batch.reward));
  batch.terminated = at::zeros({16});
  const at::Tensor bootstrapped = (*masac)->Target(batch);
  EXPECT_FALSE(at::allclose(bootstrapped, batch.reward));
  EXPECT_FALSE(bootstrapped.requires_grad());
}

TEST(Masac, TargetsMoveByTauTowardsTheOnlineCritics) {
  AlgorithmContext context = Context(8);
  const double tau = context.config.target_update_rate();
  auto masac = Masac::Create(context);
  ASSERT_TRUE(masac.ok());
  std::map<std::string, at::Tensor> before;
  for (auto& [name, module] : (*masac)->Modules()) {
    for (auto& item : module->named_parameters())
      before[name + "." + item.key()] = item.value().clone();
  }
  ASSERT_TRUE((*masac)->Update(Bandit(32, 2)).ok());
  std::map<std::string, at::Tensor> after;
  for (auto& [name, module] : (*masac)->Modules()) {
    for (auto& item : module->named_parameters()) after[name + "." + item.key()] = item.value();
  }
  for (const auto& [key, value] : after) {
    const size_t dot = key.find('.');
    const std::string module = key.substr(0, dot);
    if (module.find("_target") == std::string::npos) continue;
    const std::string online = module.substr(0, module.find("_target")) + key.substr(dot);
    const at::Tensor expected = (1 - tau) * before.at(key) + tau * after.at(online);
    EXPECT_TRUE(at::allclose(value, expected, 1e-5, 1e-6)) << key;
  }
  EXPECT_EQ((*masac)->updates(), 1);
}

TEST(Masac, LearnsTheBestJointActionOfATeamBandit) {
  auto masac = Masac::Create(Context(32));
  ASSERT_TRUE(masac.ok());
  for (int i = 0; i < 600; ++i) {
    auto stats = (*masac)->Update(Bandit(64, 100 + i));
    ASSERT_TRUE(stats.ok()) << stats.status();
    ASSERT_TRUE(std::isfinite(stats->at("q_loss")));
  }
  TrainingBatch probe = Bandit(256, 7);
  const at::Tensor ids = at::eye(kAgents).unsqueeze(0).expand({256, kAgents, kAgents});
  at::NoGradGuard no_grad;
  const at::Tensor action =
      (*masac)->PublishedModules()[0].second->as<networks::TanhGaussianPolicy>()->Deterministic(
          at::cat({probe.obs, ids}, -1));
  // A uniformly random policy scores E[(a - 0.5)^2] = 0.58 per agent; the learned one is close to
  // the optimum 0.
  const double regret = (action - 0.5).pow(2).sum({1, 2}).mean().item<double>();
  EXPECT_LT(regret, 0.1) << "mean action " << action.mean().item<double>();
}

}  // namespace
}  // namespace tandem::learner
