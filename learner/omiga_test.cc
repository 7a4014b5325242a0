#include "learner/omiga.h"

#include <ATen/ATen.h>

#include <cmath>
#include <vector>

#include "common/config.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace tandem::learner {
namespace {

constexpr int kAgents = 2, kObs = 2, kAct = 1, kState = 4, kHidden = 2, kBatch = 2;

AlgorithmContext TinyContext() {
  AlgorithmContext context;
  context.spec.set_num_agents(kAgents);
  context.spec.set_obs_size(kObs);
  context.spec.set_state_size(kState);
  context.spec.set_action_type(ACTION_TYPE_CONTINUOUS);
  context.spec.set_action_size(kAct);
  FillDefaults(&context.config);
  context.config.set_hidden_size(kHidden);
  context.config.set_mixer_hidden_size(kHidden);
  return context;
}

// Sets every weight of `module` whose name starts with `prefix` to `weight` and bias to `bias`.
void Fill(torch::nn::Module& module, const std::string& prefix, double weight, double bias) {
  at::NoGradGuard no_grad;
  for (auto& item : module.named_parameters()) {
    if (item.key().rfind(prefix, 0) != 0) continue;
    const bool is_bias =
        item.key().size() >= 4 && item.key().substr(item.key().size() - 4) == "bias";
    item.value().fill_(is_bias ? bias : weight);
  }
}

// --- An independent restatement of the networks for constant weights -------------------------
// A Linear layer whose weights are all `k` and biases all `c` maps x to c + k * sum(x) per unit.
std::vector<double> Dense(const std::vector<double>& x, int out, double k, double c) {
  double sum = 0;
  for (double v : x) sum += v;
  return std::vector<double>(out, c + k * sum);
}
std::vector<double> Relu(std::vector<double> x) {
  for (double& v : x) v = std::max(0.0, v);
  return x;
}
// Linear-ReLU-Linear-ReLU-Linear(1) with one (k, c) for every layer.
double ThreeLayer(const std::vector<double>& x, double k, double c) {
  return Dense(Relu(Dense(Relu(Dense(x, kHidden, k, c)), kHidden, k, c)), 1, k, c)[0];
}
struct Mixed {
  std::vector<double> w;
  double b;
};
Mixed Mixer(const std::vector<double>& s, double k, double c) {
  std::vector<double> h = Relu(Dense(s, kHidden, k, c));
  std::vector<double> w = Dense(h, kAgents, k, c);
  for (double& v : w) v = std::abs(v);
  return {w, Dense(h, 1, k, c)[0]};
}

struct Constants {
  double q_k = 0.3, q_c = 0.1, qt_k = 0.2, qt_c = 0.05;
  double v_k = -0.25, v_c = 0.2, vt_k = 0.15, vt_c = -0.1;
  double m_k = 0.4, m_c = -0.3, mt_k = 0.35, mt_c = 0.1;
  double trunk_k = 0.5, trunk_c = 0.1, mean_k = 0.3, mean_c = -0.2, std_k = -0.4, std_c = 0.1;
};

void Apply(Omiga& omiga, const Constants& c) {
  for (auto& [name, module] : omiga.Modules()) {
    if (name == "q") Fill(*module, "", c.q_k, c.q_c);
    if (name == "q_target") Fill(*module, "", c.qt_k, c.qt_c);
    if (name == "v") Fill(*module, "", c.v_k, c.v_c);
    if (name == "v_target") Fill(*module, "", c.vt_k, c.vt_c);
    if (name == "mixer") Fill(*module, "", c.m_k, c.m_c);
    if (name == "mixer_target") Fill(*module, "", c.mt_k, c.mt_c);
    if (name == "policy") {
      Fill(*module, "trunk", c.trunk_k, c.trunk_c);
      Fill(*module, "mean", c.mean_k, c.mean_c);
      Fill(*module, "log_std", c.std_k, c.std_c);
    }
  }
}

TrainingBatch TinyBatch() {
  TrainingBatch batch;
  batch.obs = at::tensor({0.5f, -1.0f, 0.25f, 0.75f, -0.5f, 0.1f, 1.0f, 0.3f}).reshape({2, 2, 2});
  batch.next_obs =
      at::tensor({0.2f, 0.4f, -0.3f, 0.9f, 0.6f, -0.2f, 0.0f, 0.5f}).reshape({2, 2, 2});
  batch.state = batch.obs.reshape({2, 4});
  batch.next_state = batch.next_obs.reshape({2, 4});
  batch.actions = at::tensor({0.3f, -0.6f, 0.9f, 0.0f}).reshape({2, 2, 1});
  batch.reward = at::tensor({1.0f, -0.5f});
  batch.terminated = at::tensor({0.0f, 1.0f});
  return batch;
}

// Expected losses, computed with doubles from the definitions in omiga.h.
struct Expected {
  double q_loss = 0, v_loss = 0, policy_loss = 0;
  std::vector<double> td, z;
};

Expected Reference(const TrainingBatch& batch, const Constants& c, double alpha, double z_clip,
                   double gamma) {
  auto at = [](const at::Tensor& t, std::initializer_list<int64_t> index) {
    at::Tensor v = t;
    for (int64_t i : index) v = v[i];
    return v.item<double>();
  };
  Expected e;
  std::vector<double> zs, ws, vs;
  for (int b = 0; b < kBatch; ++b) {
    std::vector<double> s, s_next;
    for (int j = 0; j < kState; ++j) {
      s.push_back(at(batch.state, {b, j}));
      s_next.push_back(at(batch.next_state, {b, j}));
    }
    const Mixed next = Mixer(s_next, c.mt_k, c.mt_c);
    const Mixed online = Mixer(s, c.m_k, c.m_c);
    const Mixed target = Mixer(s, c.mt_k, c.mt_c);
    double v_tot_next = next.b, q_tot = online.b;
    for (int i = 0; i < kAgents; ++i) {
      std::vector<double> o_id, o_next_id, q_in;
      for (int j = 0; j < kObs; ++j) {
        o_id.push_back(at(batch.obs, {b, i, j}));
        o_next_id.push_back(at(batch.next_obs, {b, i, j}));
      }
      q_in = o_id;
      q_in.push_back(at(batch.actions, {b, i, 0}));
      for (int j = 0; j < kAgents; ++j) {
        o_id.push_back(i == j);
        o_next_id.push_back(i == j);
        q_in.push_back(i == j);
      }
      v_tot_next += next.w[i] * ThreeLayer(o_next_id, c.vt_k, c.vt_c);
      q_tot += online.w[i] * ThreeLayer(q_in, c.q_k, c.q_c);
      const double v = ThreeLayer(o_id, c.v_k, c.v_c);
      const double q_target = ThreeLayer(q_in, c.qt_k, c.qt_c);
      zs.push_back(std::clamp((target.w[i] * q_target - target.w[i] * v) / alpha, -z_clip, z_clip));
      ws.push_back(target.w[i]);
      vs.push_back(v);
      // Policy: trunk (2 layers, ReLU after both), mean and log-std heads.
      const std::vector<double> h = Relu(
          Dense(Relu(Dense(o_id, kHidden, c.trunk_k, c.trunk_c)), kHidden, c.trunk_k, c.trunk_c));
      const double mean = std::clamp(Dense(h, 1, c.mean_k, c.mean_c)[0], -9.0, 9.0);
      const double log_std = std::clamp(Dense(h, 1, c.std_k, c.std_c)[0], -5.0, 2.0);
      const double a = std::clamp(at(batch.actions, {b, i, 0}), -1 + 1e-7, 1 - 1e-7);
      const double u = std::atanh(a);
      const double log_normal =
          -std::pow(u - mean, 2) / (2 * std::exp(2 * log_std)) - log_std - 0.5 * std::log(2 * M_PI);
      const double log_pi = log_normal - 2 * (std::log(2.0) - u - std::log1p(std::exp(-2 * u)));
      e.policy_loss -= std::exp(zs.back()) * log_pi / (kBatch * kAgents);
    }
    const double y = at(batch.reward, {b}) + gamma * (1 - at(batch.terminated, {b})) * v_tot_next;
    e.td.push_back(y);
    e.q_loss += std::pow(q_tot - y, 2) / kBatch;
  }
  const double m = std::max(*std::max_element(zs.begin(), zs.end()), -1.0);
  for (size_t k = 0; k < zs.size(); ++k) {
    e.v_loss += (std::exp(zs[k] - m) + std::exp(-m) * ws[k] * vs[k] / alpha) / zs.size();
  }
  e.z = zs;
  return e;
}

void ExpectLosses(const Constants& c, double alpha) {
  AlgorithmContext context = TinyContext();
  context.config.mutable_omiga()->set_alpha(alpha);
  auto omiga = Omiga::Create(context);
  ASSERT_TRUE(omiga.ok()) << omiga.status();
  Apply(**omiga, c);
  const TrainingBatch batch = TinyBatch();
  OmigaLosses losses = (*omiga)->ComputeLosses(batch);
  const Expected e = Reference(batch, c, alpha, 10.0, 0.99);
  EXPECT_NEAR(losses.q_loss.item<double>(), e.q_loss, 1e-4 * std::max(1.0, e.q_loss));
  EXPECT_NEAR(losses.v_loss.item<double>(), e.v_loss, 1e-4 * std::max(1.0, std::abs(e.v_loss)));
  EXPECT_NEAR(losses.policy_loss.item<double>(), e.policy_loss,
              1e-4 * std::max(1.0, std::abs(e.policy_loss)));
  for (int b = 0; b < kBatch; ++b) EXPECT_NEAR(losses.td_target[b].item<double>(), e.td[b], 1e-5);
  for (int k = 0; k < kBatch * kAgents; ++k) {
    EXPECT_NEAR(losses.z.reshape({-1})[k].item<double>(), e.z[k], 1e-5);
  }
}

TEST(Omiga, LossesMatchHandComputedValues) { ExpectLosses(Constants(), 10.0); }

TEST(Omiga, LossesMatchWhenZIsClamped) {
  // A tiny alpha makes |z| exceed the clip of 10.
  Constants c;
  c.qt_k = 0.9;
  c.v_k = -0.9;
  ExpectLosses(c, 0.01);
}

TEST(Omiga, LossesMatchWhenTheBatchMaxShiftIsBelowMinusOne) {
  // Large values make every z < -1, so the shift m is held at -1.
  Constants c;
  c.v_k = 0.9;
  c.v_c = 2.0;
  c.qt_k = -0.2;
  ExpectLosses(c, 0.5);
}

TEST(Omiga, GradientsFlowOnlyWhereTheSpecSays) {
  auto omiga = Omiga::Create(TinyContext());
  ASSERT_TRUE(omiga.ok());
  Omiga& o = **omiga;
  auto has_grad = [](torch::nn::Module& module) {
    for (const at::Tensor& p : module.parameters()) {
      if (p.grad().defined() && p.grad().abs().sum().item<double>() > 0) return true;
    }
    return false;
  };
  auto clear = [&] {
    for (auto& [name, module] : o.Modules()) {
      for (at::Tensor& p : module->parameters()) p.mutable_grad() = at::Tensor();
    }
  };
  auto grads = [&]() {
    std::map<std::string, bool> result;
    for (auto& [name, module] : o.Modules()) result[name] = has_grad(*module);
    return result;
  };
  OmigaLosses losses = o.ComputeLosses(TinyBatch());
  losses.q_loss.backward({}, true);
  auto q = grads();
  EXPECT_TRUE(q["q"] && q["mixer"]);
  EXPECT_FALSE(q["v"] || q["policy"] || q["q_target"] || q["v_target"] || q["mixer_target"]);
  clear();
  losses.v_loss.backward({}, true);
  auto v = grads();
  EXPECT_TRUE(v["v"]);
  EXPECT_FALSE(v["q"] || v["mixer"] || v["policy"] || v["q_target"] || v["mixer_target"]);
  clear();
  losses.policy_loss.backward();
  auto pi = grads();
  EXPECT_TRUE(pi["policy"]);
  EXPECT_FALSE(pi["q"] || pi["mixer"] || pi["v"] || pi["q_target"] || pi["v_target"]);
}

TEST(Omiga, UpdateMovesTargetsByPolyakAveraging) {
  auto omiga = Omiga::Create(TinyContext());
  ASSERT_TRUE(omiga.ok());
  Omiga& o = **omiga;
  std::vector<at::Tensor> target_before, online_after;
  for (auto& [name, module] : o.Modules()) {
    if (name == "q_target") {
      for (const at::Tensor& p : module->parameters()) target_before.push_back(p.clone());
    }
  }
  ASSERT_TRUE(o.Update(TinyBatch()).ok());
  size_t i = 0;
  std::vector<at::Tensor> online = o.q()->parameters();
  for (auto& [name, module] : o.Modules()) {
    if (name != "q_target") continue;
    for (const at::Tensor& p : module->parameters()) {
      const at::Tensor expected = 0.995 * target_before[i] + 0.005 * online[i];
      EXPECT_TRUE(at::allclose(p, expected, 1e-6, 1e-7)) << "parameter " << i;
      ++i;
    }
  }
  EXPECT_EQ(o.updates(), 1);
}

TEST(Omiga, OvmLossUsesTheFrozenOfflineTargetOnceOnline) {
  AlgorithmContext context = TinyContext();
  context.config.mutable_ovm()->set_enabled(true);
  context.config.mutable_ovm()->set_lambda_end(0.0);
  context.config.mutable_ovm()->set_anneal_env_steps(100);
  auto omiga = Omiga::Create(context);
  ASSERT_TRUE(omiga.ok());
  Omiga& o = **omiga;
  const TrainingBatch batch = TinyBatch();
  const double plain = o.ComputeLosses(batch).q_loss.item<double>();
  o.BeginOnlinePhase();
  // At env step 0, lambda = 1: the loss is (Q_tot - max(Q_memory, y))^2 with Q_memory the frozen
  // target critic, which starts equal to the online critic.
  o.set_env_steps(0);
  OmigaLosses at_start = o.ComputeLosses(batch);
  const at::Tensor memory = at::maximum(at_start.q_tot.detach(), at_start.td_target);
  EXPECT_NEAR(at_start.q_loss.item<double>(),
              (at_start.q_tot - memory).pow(2).mean().item<double>(), 1e-6);
  // After annealing, lambda = lambda_end = 0: the plain TD loss again.
  o.set_env_steps(100);
  EXPECT_NEAR(o.ComputeLosses(batch).q_loss.item<double>(), plain, 1e-6);
}

TEST(Omiga, DiscreteSpecsAreRefused) {
  AlgorithmContext context = TinyContext();
  context.spec.set_action_type(ACTION_TYPE_DISCRETE);
  EXPECT_THAT(Omiga::Create(context).status().message(), ::testing::HasSubstr("continuous"));
}

TEST(Omiga, ShortOfflineTrainingReducesTheQLoss) {
  AlgorithmContext context = TinyContext();
  context.spec.set_obs_size(6);
  context.spec.set_state_size(12);
  context.config.set_hidden_size(32);
  context.config.set_mixer_hidden_size(16);
  context.config.set_learning_rate(1e-3);
  auto omiga = Omiga::Create(context);
  ASSERT_TRUE(omiga.ok());
  // A small dataset whose reward depends on the actions and observations.
  at::manual_seed(3);
  const int64_t rows = 512;
  at::Tensor obs = at::randn({rows, 2, 6}), next_obs = at::randn({rows, 2, 6});
  at::Tensor actions = at::rand({rows, 2, 1}) * 2 - 1;
  at::Tensor reward = actions.sum({1, 2}) - 0.5 * obs.select(2, 0).sum(1);
  auto sample = [&](int64_t batch_size) {
    at::Tensor index = at::randint(rows, {batch_size}, at::kLong);
    TrainingBatch batch;
    batch.obs = obs.index_select(0, index);
    batch.next_obs = next_obs.index_select(0, index);
    batch.state = batch.obs.reshape({batch_size, 12});
    batch.next_state = batch.next_obs.reshape({batch_size, 12});
    batch.actions = actions.index_select(0, index);
    batch.reward = reward.index_select(0, index);
    batch.terminated = at::zeros({batch_size});
    return batch;
  };
  double first = 0, last = 0;
  for (int i = 0; i < 300; ++i) {
    auto stats = (*omiga)->Update(sample(64));
    ASSERT_TRUE(stats.ok());
    if (i < 30) first += stats->at("q_loss") / 30;
    if (i >= 270) last += stats->at("q_loss") / 30;
  }
  EXPECT_LT(last, 0.5 * first) << "first " << first << " last " << last;
}

// The two-stream CPU update (learner.update_streams = 2) trains exactly what the one-stream update
// does: same losses and statistics, and after several updates the same parameters up to the
// summation order of the policy gradient's two row halves. With OVM on, in the online phase too.
TEST(Omiga, TwoStreamUpdateMatchesOneStream) {
  for (bool ovm : {false, true}) {
    AlgorithmContext context = TinyContext();
    context.spec.set_num_agents(3);
    context.spec.set_obs_size(5);
    context.spec.set_state_size(15);
    context.config.set_hidden_size(32);
    context.config.set_mixer_hidden_size(16);
    context.config.mutable_ovm()->set_enabled(ovm);
    context.config.mutable_ovm()->set_anneal_env_steps(1000);
    context.seed = 11;
    auto one = Omiga::Create(context);
    context.update_streams = 2;
    auto two = Omiga::Create(context);
    ASSERT_TRUE(one.ok() && two.ok());
    if (ovm) {
      (*one)->BeginOnlinePhase();
      (*two)->BeginOnlinePhase();
      (*one)->set_env_steps(300);
      (*two)->set_env_steps(300);
    }
    at::manual_seed(5);
    for (int step = 0; step < 5; ++step) {
      TrainingBatch batch;
      batch.obs = at::randn({33, 3, 5});  // odd: the policy's row halves differ in size
      batch.next_obs = at::randn({33, 3, 5});
      batch.state = batch.obs.reshape({33, 15});
      batch.next_state = batch.next_obs.reshape({33, 15});
      batch.actions = at::rand({33, 3, 1}) * 2 - 1;
      batch.reward = at::randn({33});
      batch.terminated = (at::rand({33}) < 0.2).to(at::kFloat);
      auto a = (*one)->Update(batch);
      auto b = (*two)->Update(batch);
      ASSERT_TRUE(a.ok()) << a.status();
      ASSERT_TRUE(b.ok()) << b.status();
      for (const auto& [key, value] : *a) {
        ASSERT_TRUE(b->count(key)) << key;
        EXPECT_NEAR(b->at(key), value, 1e-4 * (1 + std::abs(value)))
            << key << " at update " << step << (ovm ? " (ovm)" : "");
      }
    }
    auto one_modules = (*one)->Modules(), two_modules = (*two)->Modules();
    ASSERT_EQ(one_modules.size(), two_modules.size());
    for (size_t m = 0; m < one_modules.size(); ++m) {
      auto p = one_modules[m].second->named_parameters(),
           q = two_modules[m].second->named_parameters();
      for (const auto& item : p) {
        EXPECT_TRUE(at::allclose(item.value(), q[item.key()], 1e-4, 1e-5))
            << one_modules[m].first << "." << item.key() << (ovm ? " (ovm)" : "");
      }
    }
  }
}

}  // namespace
}  // namespace tandem::learner
