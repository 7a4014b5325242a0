#include "learner/cql.h"

#include <ATen/ATen.h>

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "common/config.h"
#include "common/networks/qmix_mixer.h"
#include "gtest/gtest.h"
#include "learner/qmix.h"

namespace tandem::learner {
namespace {

// Scalar log-sum-exp, written out.
double Lse(const std::vector<double>& values) {
  double top = values[0];
  for (double v : values) top = std::max(top, v);
  double sum = 0;
  for (double v : values) sum += std::exp(v - top);
  return top + std::log(sum);
}

TEST(Cql, CounterfactualQtotMixesEachSingleAgentDeviationOneAtATime) {
  torch::manual_seed(1);
  networks::QmixMixerOptions options;
  options.num_agents = 3;
  options.state_size = 4;
  networks::QmixMixer mixer(options);
  const at::Tensor agent_q = at::randn({2, 3, 5});
  const at::Tensor actions = at::tensor({0, 4, 2, 1, 1, 3}, at::kLong).view({2, 3});
  const at::Tensor state = at::randn({2, 4});
  const at::Tensor cf =
      CounterfactualQtot(agent_q, actions, [&](const at::Tensor& q, const at::Tensor& chosen) {
        return mixer->MixDeviations(q, chosen, state);
      });
  ASSERT_EQ(cf.sizes(), (std::vector<int64_t>{2, 3, 5}));
  for (int r = 0; r < 2; ++r) {
    for (int i = 0; i < 3; ++i) {
      for (int j = 0; j < 5; ++j) {
        at::Tensor joint = agent_q[r].gather(-1, actions[r].unsqueeze(-1)).squeeze(-1).clone();
        joint[i] = agent_q[r][i][j];
        const float expected =
            mixer->forward(joint.view({1, 3}), state[r].view({1, 4})).item<float>();
        EXPECT_NEAR(cf[r][i][j].item<float>(), expected, 1e-5) << r << " " << i << " " << j;
      }
    }
  }
  // The data's own action gives the data's Q_tot for every agent.
  const at::Tensor data =
      mixer->forward(agent_q.gather(-1, actions.unsqueeze(-1)).squeeze(-1), state);
  EXPECT_NEAR(cf[0][1][4].item<float>(), data[0].item<float>(), 1e-5);
}

TEST(Cql, CfcqlPushUpIsTheWeightedLogSumExpOverAvailableActionsAndCalQlRaisesItsValues) {
  // One row, two agents, three actions; agent 1 may not take action 2.
  const at::Tensor cf = at::tensor({1.0f, 2.0f, 0.5f, -1.0f, 3.0f, 100.0f}).view({1, 2, 3});
  const at::Tensor avail = at::tensor({1, 1, 1, 1, 1, 0}).to(at::kBool).view({1, 2, 3});
  const at::Tensor lambda = at::tensor({0.25f, 0.75f}).view({1, 2});
  const double expected = 0.25 * Lse({1.0, 2.0, 0.5}) + 0.75 * Lse({-1.0, 3.0});
  EXPECT_NEAR(CfcqlPushUp(cf, avail, lambda, at::Tensor()).item<float>(), expected, 1e-5);
  // Cal-QL: with the Monte-Carlo return 2.5, values below it count as 2.5.
  const double calibrated = 0.25 * Lse({2.5, 2.5, 2.5}) + 0.75 * Lse({2.5, 3.0});
  EXPECT_NEAR(CfcqlPushUp(cf, avail, lambda, at::tensor({2.5f})).item<float>(), calibrated, 1e-5);
}

TEST(Cql, CfcqlAgentWeightsAreUniformAtTemperatureZeroAndFollowTheKlOtherwise) {
  const at::Tensor cf = at::tensor({0.0f, 1.0f, 2.0f, 0.0f, 0.0f, 5.0f}).view({1, 2, 3});
  const at::Tensor avail = at::tensor({1, 1, 1, 1, 1, 0}).to(at::kBool).view({1, 2, 3});
  const at::Tensor beta = at::tensor({0.2f, 0.3f, 0.5f, 0.9f, 0.1f, 0.0f}).view({1, 2, 3});
  const at::Tensor uniform = CfcqlAgentWeights(cf, avail, at::Tensor(), 0);
  EXPECT_NEAR(uniform[0][0].item<float>(), 0.5f, 1e-6);
  EXPECT_NEAR(uniform[0][1].item<float>(), 0.5f, 1e-6);
  // By hand: mu = softmax over available actions, d = sum mu (log(mu + 1e-5) - log(beta + 1e-5)).
  auto kl = [](std::vector<double> q, std::vector<double> b) {
    double z = 0;
    for (double v : q) z += std::exp(v);
    double d = 0;
    for (size_t j = 0; j < q.size(); ++j) {
      const double mu = std::exp(q[j]) / z;
      d += mu * (std::log(mu + 1e-5) - std::log(b[j] + 1e-5));
    }
    return d;
  };
  const double d0 = kl({0, 1, 2}, {0.2, 0.3, 0.5}), d1 = kl({0, 0}, {0.9, 0.1});
  const double tau = 2.0;
  const double w0 = std::exp(tau * d0) / (std::exp(tau * d0) + std::exp(tau * d1));
  const at::Tensor weights = CfcqlAgentWeights(cf, avail, beta, tau);
  EXPECT_NEAR(weights[0][0].item<float>(), w0, 1e-5);
  EXPECT_NEAR(weights[0][1].item<float>(), 1 - w0, 1e-5);
}

TEST(Cql, MacqlPushUpCountsUnavailableSamplesAsZeroAndAddsTheGreedyJointAction) {
  const auto vdn = [](const at::Tensor& joint) { return joint.sum(-1); };
  // One action per agent: every sample and the greedy joint action are the same, so LSE = Q_tot +
  // log(M + 1).
  const at::Tensor q = at::tensor({1.5f, 2.0f}).view({1, 2, 1});
  const at::Tensor all = at::ones({1, 2, 1}, at::kBool);
  EXPECT_NEAR(MacqlPushUp(q, all, vdn, 10, at::Tensor()).item<float>(), 3.5 + std::log(11.0), 1e-5);
  // The same action unavailable to agent 1: every sample, the greedy one too, counts 0.
  const at::Tensor none = at::tensor({1, 0}).to(at::kBool).view({1, 2, 1});
  EXPECT_NEAR(MacqlPushUp(q, none, vdn, 10, at::Tensor()).item<float>(), std::log(11.0), 1e-5);
  // Cal-QL raises the available samples, the greedy one included, to the floor.
  EXPECT_NEAR(MacqlPushUp(q, all, vdn, 10, at::tensor({7.0f})).item<float>(), 7.0 + std::log(11.0),
              1e-5);
}

// With several actions, each sample mixes every agent's value of its own sampled action, and the
// greedy joint action (each agent's best available action) joins them: the same draw (same seed,
// CFCQL's uniform draw over all actions) written out with loops, with and without a Cal-QL floor.
TEST(Cql, MacqlPushUpMixesEachAgentsValueOfItsSampledActionAndTheGreedyOne) {
  const int64_t rows = 3, n = 3, k = 4, samples = 6;
  at::manual_seed(11);
  const at::Tensor agent_q = at::randn({rows, n, k});
  at::Tensor avail = at::rand({rows, n, k}) > 0.25;
  avail.select(2, 0).fill_(true);  // every agent has an available action
  // A mixer that tells the agents apart: Q_tot = sum_i (i + 1) q_i.
  const auto weighted = [](const at::Tensor& joint) {
    return (joint * at::arange(1, joint.size(-1) + 1, joint.options())).sum(-1);
  };
  const at::Tensor floor = at::tensor({0.5f, -10.0f, 2.0f});
  for (const bool calibrated : {false, true}) {
    at::manual_seed(12);
    const at::Tensor drawn = at::randint(k, {rows, samples, n}, at::kLong);
    at::manual_seed(12);
    const at::Tensor got =
        MacqlPushUp(agent_q, avail, weighted, samples, calibrated ? floor : at::Tensor());
    for (int64_t r = 0; r < rows; ++r) {
      const double low = calibrated ? floor[r].item<double>() : -1e30;
      std::vector<double> values;
      for (int64_t m = 0; m < samples; ++m) {
        double total = 0;
        bool available = true;
        for (int64_t i = 0; i < n; ++i) {
          const int64_t j = drawn[r][m][i].item<int64_t>();
          total += (i + 1) * agent_q[r][i][j].item<double>();
          available = available && avail[r][i][j].item<bool>();
        }
        values.push_back(available ? std::max(total, low) : 0.0);
      }
      double greedy = 0;
      for (int64_t i = 0; i < n; ++i) {
        double best = -1e30;
        for (int64_t j = 0; j < k; ++j) {
          if (avail[r][i][j].item<bool>()) best = std::max(best, agent_q[r][i][j].item<double>());
        }
        greedy += (i + 1) * best;
      }
      values.push_back(std::max(greedy, low));
      EXPECT_NEAR(got[r].item<float>(), Lse(values), 1e-4)
          << "row " << r << (calibrated ? " with a floor" : "");
    }
  }
}

// Where every random joint action sits below the floor, the greedy one still pushes the policy's
// own values down (without it, only the data's Q_tot would be pushed, up, without bound).
TEST(Cql, MacalQlPushUpKeepsPushingTheGreedyJointActionAboveTheFloor) {
  const int64_t n = 2, k = 3;
  const auto vdn = [](const at::Tensor& joint) { return joint.sum(-1); };
  // Agent 0 prefers action 2, agent 1 action 0 (its action 1 is better but unavailable).
  const at::Tensor agent_q =
      at::tensor({0.0f, -1.0f, 6.0f, 5.0f, 9.0f, -2.0f}).view({1, n, k}).set_requires_grad(true);
  const at::Tensor avail = at::tensor({1, 1, 1, 1, 0, 1}).to(at::kBool).view({1, n, k});
  const at::Tensor got = MacqlPushUp(agent_q, avail, vdn, 5, at::tensor({12.0f}));
  got.backward();
  // The greedy joint action (6 + 5 = 11) is below the floor 12 too: nothing is pushed.
  EXPECT_EQ(agent_q.grad().abs().sum().item<float>(), 0.0f);
  agent_q.mutable_grad().zero_();
  MacqlPushUp(agent_q, avail, vdn, 5, at::tensor({8.0f})).backward();
  // Above it, the greedy entries are pushed down; agent 1's unavailable action is not.
  EXPECT_GT(agent_q.grad()[0][0][2].item<float>(), 0.0f);
  EXPECT_GT(agent_q.grad()[0][1][0].item<float>(), 0.0f);
  EXPECT_EQ(agent_q.grad()[0][1][1].item<float>(), 0.0f);
}

// The available-only draw: each agent's action uniform over its available ones, never another.
TEST(Cql, SampledJointActionsAreUniformOverEachAgentsAvailableActions) {
  const int64_t rows = 2, n = 3, k = 5, samples = 20000;
  // Row 0: agent 0 has {0, 2, 4}, agent 1 only {3}, agent 2 all five; row 1: agent 0 {1}, ...
  const at::Tensor avail = at::tensor({1, 0, 1, 0, 1, 0, 0, 0, 1, 0, 1, 1, 1, 1, 1,
                                       0, 1, 0, 0, 0, 1, 1, 0, 0, 0, 0, 0, 1, 1, 0})
                               .to(at::kBool)
                               .view({rows, n, k});
  at::manual_seed(3);
  const at::Tensor drawn = SampleJointActions(avail, samples, /*available_only=*/true);
  ASSERT_EQ(drawn.sizes(), (std::vector<int64_t>{rows, samples, n}));
  for (int64_t r = 0; r < rows; ++r) {
    for (int64_t i = 0; i < n; ++i) {
      const at::Tensor actions = drawn.select(0, r).select(1, i);
      const at::Tensor counts = at::bincount(actions, {}, k);
      const int64_t available = avail[r][i].sum().item<int64_t>();
      for (int64_t j = 0; j < k; ++j) {
        const double share = counts[j].item<double>() / samples;
        if (!avail[r][i][j].item<bool>()) {
          EXPECT_EQ(counts[j].item<int64_t>(), 0)
              << "row " << r << " agent " << i << " action " << j;
        } else {
          // Binomial standard deviation at 20,000 draws is at most 0.0035: 5 of them.
          EXPECT_NEAR(share, 1.0 / available, 0.018)
              << "row " << r << " agent " << i << " action " << j;
        }
      }
    }
  }
  // With every draw available, the push-up is the log-sum-exp over all samples (none counts 0).
  const auto vdn = [](const at::Tensor& joint) { return joint.sum(-1); };
  const at::Tensor one = at::tensor({0, 1, 0, 0, 0, 1}).to(at::kBool).view({1, 2, 3});
  const at::Tensor q = at::tensor({9.0f, 1.0f, 9.0f, 2.0f, 9.0f, 9.0f}).view({1, 2, 3});
  EXPECT_NEAR(MacqlPushUp(q, one, vdn, 10, at::Tensor(), /*available_only=*/true).item<float>(),
              10.0 + std::log(11.0), 1e-5);
}

TEST(Cql, MonteCarloReturnsFollowEachEpisodesDiscountedRewards) {
  // Episode 0: three steps; episode 1: one step, then padding.
  const at::Tensor reward = at::tensor({1.0f, 2.0f, 4.0f, 3.0f, 9.0f, 9.0f}).view({2, 3});
  const at::Tensor mask = at::tensor({1.0f, 1.0f, 1.0f, 1.0f, 0.0f, 0.0f}).view({2, 3});
  const at::Tensor g = MonteCarloReturns(reward, mask, 0.5);
  EXPECT_NEAR(g[0][2].item<float>(), 4.0, 1e-6);
  EXPECT_NEAR(g[0][1].item<float>(), 2.0 + 0.5 * 4.0, 1e-6);
  EXPECT_NEAR(g[0][0].item<float>(), 1.0 + 0.5 * 4.0, 1e-6);
  EXPECT_NEAR(g[1][0].item<float>(), 3.0, 1e-6);
  EXPECT_NEAR(g[1][1].item<float>(), 0.0, 1e-6);
}

AlgorithmContext GameContext() {
  AlgorithmContext context;
  context.spec.set_num_agents(2);
  context.spec.set_obs_size(1);
  context.spec.set_state_size(1);
  context.spec.set_action_type(ACTION_TYPE_DISCRETE);
  context.spec.set_action_size(3);
  context.spec.set_has_avail_actions(true);
  context.spec.set_episode_steps(2);
  FillDefaults(&context.config);
  context.config.set_name("qmix");
  context.config.set_learning_rate(1e-3);
  context.config.set_max_grad_norm(10);
  context.seed = 5;
  return context;
}

// One-step episodes of a two-agent game whose data holds only the joint actions (0, 0) and
// (1, 1), both paying 1.
TrainingBatch NarrowData(int batch) {
  TrainingBatch b;
  b.obs = at::ones({batch, 2, 2, 1});
  b.state = at::ones({batch, 2, 1});
  b.actions = at::zeros({batch, 2, 2}, at::kLong);
  b.actions.select(1, 0).copy_(at::randint(2, {batch, 1}, at::kLong).expand({batch, 2}));
  b.avail_actions = at::ones({batch, 2, 2, 3}, at::kBool);
  b.reward = at::zeros({batch, 2});
  b.reward.select(1, 0).fill_(1);
  b.terminated = at::zeros({batch, 2});
  b.terminated.select(1, 0).fill_(1);
  b.filled = at::ones({batch, 2});
  return b;
}

// The mean of Q_tot over the joint actions the data never took, minus over those it took.
double UnseenMinusSeen(Qmix& qmix) {
  at::NoGradGuard no_grad;
  TrainingBatch probe = NarrowData(1);
  const at::Tensor q = qmix.AgentQ(probe, false).select(1, 0).select(0, 0);  // [2, 3]
  double seen = 0, unseen = 0;
  for (int a = 0; a < 3; ++a) {
    for (int b = 0; b < 3; ++b) {
      const at::Tensor joint = at::stack({q[0][a], q[1][b]}).view({1, 2});
      const double v = qmix.Mix(joint, probe.state.select(1, 0), false).item<double>();
      if (a == b && a < 2) {
        seen += v / 2;
      } else {
        unseen += v / 7;
      }
    }
  }
  return unseen - seen;
}

// Trained offline on data that never leaves two joint actions, both conservative variants keep
// the other joint actions' values further below the data's than plain QMIX does.
TEST(Cql, BothVariantsPushUnseenJointActionsBelowTheData) {
  std::vector<double> gaps;
  for (const char* variant : {"none", "macql", "cfcql"}) {
    AlgorithmContext context = GameContext();
    context.config.mutable_qmix()->mutable_cql()->set_variant(variant);
    context.config.mutable_qmix()->mutable_cql()->set_alpha(1.0);
    auto qmix = Qmix::Create(context);
    ASSERT_TRUE(qmix.ok()) << qmix.status();
    at::manual_seed(2);
    for (int i = 0; i < 300; ++i) {
      auto stats = (*qmix)->Update(NarrowData(32));
      ASSERT_TRUE(stats.ok()) << stats.status();
      EXPECT_EQ(stats->count("cql_loss"), std::string(variant) == "none" ? 0u : 1u) << variant;
    }
    gaps.push_back(UnseenMinusSeen(**qmix));
  }
  EXPECT_LT(gaps[1], gaps[0] - 0.1) << "macql " << gaps[1] << " vs plain " << gaps[0];
  EXPECT_LT(gaps[2], gaps[0] - 0.1) << "cfcql " << gaps[2] << " vs plain " << gaps[0];
}

// The CFCQL term an update reports is, written out step by step with the mixer's plain forward
// pass: the mean over the steps episodes fill (padding and ended episodes left out) of
// sum_i (1/N) logsumexp over i's available actions j of Q_tot(a with i's action j) - Q_tot(a).
TEST(Cql, CfcqlTermOfAnUpdateIsTheMeanOverFilledStepsOfTheWrittenOutTerm) {
  AlgorithmContext context = GameContext();
  context.spec.set_episode_steps(4);
  context.config.mutable_qmix()->mutable_cql()->set_variant("cfcql");
  auto created = Qmix::Create(context);
  ASSERT_TRUE(created.ok()) << created.status();
  Qmix& qmix = **created;
  at::manual_seed(7);
  const int64_t episodes = 3, entries = 4, n = 2, k = 3;
  TrainingBatch b;
  b.obs = at::randn({episodes, entries, n, 1});
  b.state = at::randn({episodes, entries, 1});
  b.actions = at::randint(k, {episodes, entries, n}, at::kLong);
  b.avail_actions = at::rand({episodes, entries, n, k}) > 0.3;
  b.avail_actions.scatter_(-1, b.actions.unsqueeze(-1), true);  // the data's actions are available
  b.reward = at::randn({episodes, entries});
  b.terminated = at::zeros({episodes, entries});
  // Steps per episode: 3, 1, 2 (entries filled: one more).
  const std::vector<int64_t> steps = {3, 1, 2};
  b.filled = at::zeros({episodes, entries});
  for (int64_t e = 0; e < episodes; ++e) {
    b.filled[e].narrow(0, 0, steps[e] + 1).fill_(1);
    b.terminated[e][steps[e] - 1] = 1;
  }
  double expected = 0;
  {
    at::NoGradGuard no_grad;
    const at::Tensor q = qmix.AgentQ(b, false);  // [B, T + 1, N, K]
    int64_t count = 0;
    for (int64_t e = 0; e < episodes; ++e) {
      for (int64_t t = 0; t < steps[e]; ++t) {
        const at::Tensor state = b.state[e][t].view({1, 1});
        at::Tensor chosen = q[e][t].gather(-1, b.actions[e][t].unsqueeze(-1)).squeeze(-1);
        double push_up = 0;
        for (int64_t i = 0; i < n; ++i) {
          std::vector<double> values;
          for (int64_t j = 0; j < k; ++j) {
            if (!b.avail_actions[e][t][i][j].item<bool>()) continue;
            at::Tensor joint = chosen.clone();
            joint[i] = q[e][t][i][j];
            values.push_back(qmix.Mix(joint.view({1, n}), state, false).item<double>());
          }
          push_up += Lse(values) / n;
        }
        expected += push_up - qmix.Mix(chosen.view({1, n}), state, false).item<double>();
        ++count;
      }
    }
    expected /= count;
  }
  auto stats = qmix.Update(b);
  ASSERT_TRUE(stats.ok()) << stats.status();
  EXPECT_NEAR(stats->at("cql_loss"), expected, 1e-4);
}

// CFCQL with a temperature learns a behaviour policy by cloning the data: the data's actions
// become the likely ones and the behaviour loss falls.
TEST(Cql, CfcqlWithATemperatureClonesTheBehaviourPolicy) {
  AlgorithmContext context = GameContext();
  context.config.mutable_qmix()->mutable_cql()->set_variant("cfcql");
  context.config.mutable_qmix()->mutable_cql()->set_softmax_temperature(1.0);
  auto qmix = Qmix::Create(context);
  ASSERT_TRUE(qmix.ok()) << qmix.status();
  double first = 0, last = 0;
  for (int i = 0; i < 200; ++i) {
    auto stats = (*qmix)->Update(NarrowData(32));
    ASSERT_TRUE(stats.ok()) << stats.status();
    ASSERT_TRUE(stats->count("behaviour_loss"));
    (i == 0 ? first : last) = stats->at("behaviour_loss");
  }
  // Uniform over 3 actions is log 3; the data's behaviour (1/2 on each of two actions) is log 2.
  EXPECT_NEAR(first, std::log(3.0), 0.2);
  EXPECT_LT(last, std::log(2.0) + 0.1);
  bool has_module = false;
  for (const auto& [name, module] : (*qmix)->Modules()) has_module |= name == "behaviour";
  EXPECT_TRUE(has_module);
}

double Checksum(torch::nn::Module& module) {
  double sum = 0;
  for (const at::Tensor& p : module.parameters())
    sum += p.abs().sum().item<double>() + p.sum().item<double>();
  return sum;
}

// Online with OVM: the memory (the offline target networks frozen at the switch) never changes
// while the online networks train, and lambda follows its schedule in env steps.
TEST(Cql, OvmMemoryStaysFrozenOnlineAndLambdaAnneals) {
  AlgorithmContext context = GameContext();
  context.config.mutable_qmix()->mutable_cql()->set_variant("cfcql");
  context.config.mutable_ovm()->set_enabled(true);
  context.config.mutable_ovm()->set_lambda_end(0.2);
  context.config.mutable_ovm()->set_anneal_env_steps(1000);
  auto qmix = Qmix::Create(context);
  ASSERT_TRUE(qmix.ok()) << qmix.status();
  for (int i = 0; i < 20; ++i) ASSERT_TRUE((*qmix)->Update(NarrowData(16)).ok());
  (*qmix)->BeginOnlinePhase();
  torch::nn::Module* agent = nullptr;
  torch::nn::Module* memory = nullptr;
  torch::nn::Module* mixer_memory = nullptr;
  for (const auto& [name, module] : (*qmix)->Modules()) {
    if (name == "agent") agent = module;
    if (name == "agent_memory") memory = module;
    if (name == "mixer_memory") mixer_memory = module;
  }
  ASSERT_NE(memory, nullptr);
  ASSERT_NE(mixer_memory, nullptr);
  const double memory_before = Checksum(*memory), mixer_before = Checksum(*mixer_memory);
  const double agent_before = Checksum(*agent);
  for (int64_t env_steps : {0, 500, 1000, 5000}) {
    (*qmix)->set_env_steps(env_steps);
    auto stats = (*qmix)->Update(NarrowData(16));
    ASSERT_TRUE(stats.ok()) << stats.status();
    EXPECT_NEAR(stats->at("ovm_lambda"), std::max(0.2, 1.0 - 0.8 * env_steps / 1000.0), 1e-9);
    EXPECT_TRUE(stats->count("ovm_memory_share"));
    EXPECT_FALSE(stats->count("cql_loss")) << "the conservative term is offline only by default";
  }
  EXPECT_EQ(Checksum(*memory), memory_before);
  EXPECT_EQ(Checksum(*mixer_memory), mixer_before);
  EXPECT_NE(Checksum(*agent), agent_before);
}

TEST(Cql, UnknownVariantIsRefusedNamingTheField) {
  AlgorithmContext context = GameContext();
  context.config.mutable_qmix()->mutable_cql()->set_variant("bcq");
  auto qmix = Qmix::Create(context);
  ASSERT_FALSE(qmix.ok());
  EXPECT_NE(qmix.status().message().find("algorithm.qmix.cql.variant"), std::string::npos);
}

}  // namespace
}  // namespace tandem::learner
