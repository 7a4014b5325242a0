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

TEST(Masac, SampleLogProbMatchesTheDensityAndStaysExactWhereTanhSaturates) {
  networks::TanhGaussianPolicy policy(networks::TanhGaussianPolicyOptions{4, 2, 16});
  at::manual_seed(3);
  const at::Tensor inputs = at::randn({64, 4}) * 0.1;
  auto [actions, log_prob] = policy->SampleWithLogProb(inputs);
  // Unsaturated samples: the same density as evaluating the action afterwards.
  EXPECT_TRUE(at::allclose(log_prob, policy->LogProb(inputs, actions), 1e-3, 1e-3));
  // Saturated: push the mean to the clamp; float tanh rounds to +-1, so going back through atanh
  // loses u, while the sample's own density is finite and agrees with the double-precision formula.
  {
    at::NoGradGuard no_grad;
    for (auto& item : policy->named_parameters()) {
      if (item.key() == "mean.weight") item.value().fill_(0.0);
      if (item.key() == "mean.bias") item.value().fill_(9.0);
      if (item.key() == "log_std.bias") item.value().fill_(-5.0);
      if (item.key() == "log_std.weight") item.value().fill_(0.0);
    }
  }
  auto [saturated, saturated_log_prob] = policy->SampleWithLogProb(inputs);
  EXPECT_TRUE(at::all(saturated.abs() > 0.9999).item<bool>());
  EXPECT_TRUE(at::all(at::isfinite(saturated_log_prob)).item<bool>());
  // u = 9 + e^-5 noise: per dim E[log N] = -1/2 + 5 - log sqrt(2 pi) and log(1 - tanh(u)^2) =
  // 2 (log 2 - u - softplus(-2u)) ~ 2 (log 2 - 9); two dims per row.
  EXPECT_NEAR(saturated_log_prob.mean().item<double>(),
              2 * (-0.5 + 5 - 0.9189 - 2 * (std::log(2.0) - 9)), 0.3);
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
