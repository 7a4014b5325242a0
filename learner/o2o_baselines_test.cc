#include "learner/o2o_baselines.h"

#include <ATen/ATen.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include "common/config.h"
#include "gtest/gtest.h"
#include "learner/checkpoint.h"
#include "learner/omiga.h"

namespace tandem::learner {
namespace {

std::vector<double> Values(const at::Tensor& t) {
  const at::Tensor flat = t.to(at::kDouble).contiguous().view({-1});
  return std::vector<double>(flat.data_ptr<double>(), flat.data_ptr<double>() + flat.numel());
}

// A double tensor of `values` in `shape` (default: 1-D).
at::Tensor T(std::vector<double> values, std::vector<int64_t> shape = {}) {
  at::Tensor t = at::tensor(values, at::kDouble);
  return shape.empty() ? t : t.reshape(shape);
}

// --- The loss terms against values computed by hand ------------------------------------------

TEST(O2oBaselines, AwacWeightsAreExponentialsClippedAtTheMaximum) {
  const auto w = Values(AwacWeights(T({-1.0, 0.0, 2.0, 10.0}), 1.0, 100.0));
  EXPECT_NEAR(w[0], 0.36787944, 1e-7);
  EXPECT_NEAR(w[1], 1.0, 1e-12);
  EXPECT_NEAR(w[2], 7.3890561, 1e-6);
  EXPECT_NEAR(w[3], 100.0, 1e-12);  // exp(10) = 22026 is clipped
}

TEST(O2oBaselines, AwacAdvantagesAndPolicyLoss) {
  // w = (0.5, 2), Q_i(a_data) = (1, 3), Q_i(a_pi) = (2, 1): A = (-0.5, 4).
  const at::Tensor advantage =
      AwacAdvantages(T({0.5, 2.0}, {1, 2}), T({1.0, 3.0}, {1, 2}), T({2.0, 1.0}, {1, 2}));
  const auto a = Values(advantage);
  EXPECT_NEAR(a[0], -0.5, 1e-12);
  EXPECT_NEAR(a[1], 4.0, 1e-12);
  // lambda 2, max 5: weights (exp(-0.25), min(exp(2), 5) = 5).
  const at::Tensor weights = AwacWeights(advantage, 2.0, 5.0);
  // log pi = (-1, -2): loss = -(0.7788008 * -1 + 5 * -2) / 2.
  const double loss = AwacPolicyLoss(T({-1.0, -2.0}, {1, 2}), weights).item<double>();
  EXPECT_NEAR(loss, (0.77880078 + 10.0) / 2, 1e-7);
}

TEST(O2oBaselines, KlWeightDecaysLinearlyThenHolds) {
  EXPECT_DOUBLE_EQ(LinearlyAnnealed(2.0, 0.2, 100, 0), 2.0);
  EXPECT_NEAR(LinearlyAnnealed(2.0, 0.2, 100, 50), 1.1, 1e-12);
  EXPECT_NEAR(LinearlyAnnealed(2.0, 0.2, 100, 100), 0.2, 1e-12);
  EXPECT_NEAR(LinearlyAnnealed(2.0, 0.2, 100, 1000), 0.2, 1e-12);
}

TEST(O2oBaselines, ProtoPenaltySumsEntropyAndKlTermsOverAgents) {
  // alpha 0.1, lambda 2: agent 0: 0.1 * -1 + 2 * 0.2 = 0.3; agent 1: 0.1 * 0.5 + 2 * -0.1 = -0.15.
  const at::Tensor penalty =
      ProtoPenalty(T({-1.0, 0.5}, {1, 2}), T({0.2, -0.1}, {1, 2}), T({0.1}), 2.0);
  ASSERT_EQ(penalty.numel(), 1);
  EXPECT_NEAR(penalty.item<double>(), 0.15, 1e-12);
}

TEST(O2oBaselines, SoftTdTargetSubtractsThePenaltyWhereNotTerminal) {
  const auto y =
      Values(SoftTdTarget(T({1.0, 2.0}), T({0.0, 1.0}), 0.9, T({3.0, 4.0}), T({0.5, 7.0})));
  EXPECT_NEAR(y[0], 1.0 + 0.9 * (3.0 - 0.5), 1e-12);
  EXPECT_NEAR(y[1], 2.0, 1e-12);
}

TEST(O2oBaselines, GaussianLogDensityAndTanhSample) {
  // N(0.5; 0, 2^2): -0.5 (0.25)^2 - log 2 - log sqrt(2 pi).
  EXPECT_NEAR(GaussianLogDensity(T({0.5}), T({0.0}), T({std::log(2.0)})).item<double>(),
              -0.03125 - 0.69314718 - 0.91893853, 1e-7);
  // u = 0.5 from N(0, 1): a = tanh(0.5); log pi = log N(0.5; 0, 1) - log(1 - tanh(0.5)^2).
  const TanhGaussianSample s =
      SampleTanhGaussian(T({0.0}, {1, 1}), T({0.0}, {1, 1}), T({0.5}, {1, 1}));
  const double a = std::tanh(0.5);
  EXPECT_NEAR(s.action.item<double>(), a, 1e-12);
  EXPECT_NEAR(s.log_prob.item<double>(), -0.125 - 0.91893853 - std::log(1 - a * a), 1e-7);
}

TEST(O2oBaselines, TemperatureLossPullsEntropyTowardsTheTarget) {
  const at::Tensor log_alpha = T({std::log(0.5)}).requires_grad_();
  // log pi = (-1, -3), target -0.5: -mean(log 0.5 * (-1.5), log 0.5 * (-3.5)).
  const at::Tensor loss = TemperatureLoss(log_alpha, T({-1.0, -3.0}, {1, 2}), -0.5);
  EXPECT_NEAR(loss.item<double>(), std::log(0.5) * 2.5, 1e-12);
  loss.backward();
  // Entropy 2 above the target of 0.5: the gradient -mean(log pi + target) = 2.5 lowers alpha.
  EXPECT_NEAR(log_alpha.grad().item<double>(), 2.5, 1e-12);
}

TEST(O2oBaselines, SubsetMinimumTakesTheMinimumOverTheChosenMembersOnly) {
  // Three members, two rows.
  const at::Tensor q = T({1.0, 5.0, 3.0, 2.0, 0.0, 9.0}, {3, 2});
  const auto chosen = Values(SubsetMinimum(q, at::tensor(std::vector<int64_t>{0, 1})));
  EXPECT_DOUBLE_EQ(chosen[0], 1.0);
  EXPECT_DOUBLE_EQ(chosen[1], 2.0);
  const auto other = Values(SubsetMinimum(q, at::tensor(std::vector<int64_t>{2, 1})));
  EXPECT_DOUBLE_EQ(other[0], 0.0);
  EXPECT_DOUBLE_EQ(other[1], 2.0);
}

TEST(O2oBaselines, LayerNormCriticNormalisesItsHiddenLayers) {
  // LayerNorm after the first Linear: without that layer's bias, scaling the input by a positive
  // constant scales the pre-norm activations alike and leaves the output unchanged (up to
  // LayerNorm's epsilon 1e-5 against the activations' variance, which the input's scale of 100
  // makes negligible; unscaled, a row whose 8 activations happen to lie close together would not
  // be).
  at::manual_seed(7);
  LayerNormMlp critic(networks::MlpOptions{4, {8, 8}, 1, false});
  {
    at::NoGradGuard no_grad;
    critic->named_parameters()["linear0.bias"].zero_();
  }
  const at::Tensor x = 100.0 * at::randn({5, 4});
  EXPECT_TRUE(at::allclose(critic->forward(x), critic->forward(3.0 * x), 1e-4, 1e-5));
  EXPECT_EQ(critic->named_parameters().size(), 2u * 3 + 2u * 2);  // 3 Linear, 2 LayerNorm
}

// --- The online updates inside OMIGA ---------------------------------------------------------

constexpr int kAgents = 2, kObs = 3, kAct = 2;

AlgorithmContext Context(const std::string& online_update) {
  AlgorithmContext context;
  context.spec.set_num_agents(kAgents);
  context.spec.set_obs_size(kObs);
  context.spec.set_state_size(kAgents * kObs);
  context.spec.set_action_type(ACTION_TYPE_CONTINUOUS);
  context.spec.set_action_size(kAct);
  FillDefaults(&context.config);
  context.config.set_hidden_size(16);
  context.config.set_mixer_hidden_size(8);
  context.config.mutable_omiga()->set_online_update(online_update);
  context.seed = 7;
  return context;
}

TrainingBatch Batch(int64_t rows, uint64_t seed) {
  at::manual_seed(seed);
  TrainingBatch batch;
  batch.obs = at::randn({rows, kAgents, kObs});
  batch.next_obs = at::randn({rows, kAgents, kObs});
  batch.state = batch.obs.reshape({rows, kAgents * kObs});
  batch.next_state = batch.next_obs.reshape({rows, kAgents * kObs});
  batch.actions = at::rand({rows, kAgents, kAct}) * 1.8 - 0.9;
  batch.reward = batch.actions.sum({1, 2});
  batch.terminated = (at::rand({rows}) < 0.1).to(at::kFloat);
  return batch;
}

std::vector<at::Tensor> Snapshot(torch::nn::Module& module) {
  std::vector<at::Tensor> copy;
  for (const at::Tensor& p : module.parameters()) copy.push_back(p.detach().clone());
  return copy;
}

bool Same(const std::vector<at::Tensor>& a, torch::nn::Module& module) {
  std::vector<at::Tensor> b = module.parameters();
  for (size_t i = 0; i < a.size(); ++i) {
    if (!at::equal(a[i], b[i])) return false;
  }
  return true;
}

TEST(OmigaBaselines, UnknownOnlineUpdatesAreRefused) {
  auto created = Omiga::Create(Context("sac"));
  ASSERT_FALSE(created.ok());
  EXPECT_EQ(created.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(created.status().message().find("algorithm.omiga.online_update"), std::string::npos);
}

// Every variant pretrains with OMIGA's own update: same seed, same batches, same parameters.
TEST(OmigaBaselines, TheOfflinePhaseIsOmigaForEveryVariant) {
  auto omiga = Omiga::Create(Context("omiga"));
  auto awac = Omiga::Create(Context("awac"));
  auto proto = Omiga::Create(Context("proto"));
  auto rlpd = Omiga::Create(Context("rlpd"));
  ASSERT_TRUE(omiga.ok() && awac.ok() && proto.ok() && rlpd.ok());
  for (int i = 0; i < 3; ++i) {
    const TrainingBatch batch = Batch(8, 100 + i);
    ASSERT_TRUE((*omiga)->Update(batch).ok());
    ASSERT_TRUE((*awac)->Update(batch).ok());
    ASSERT_TRUE((*proto)->Update(batch).ok());
    ASSERT_TRUE((*rlpd)->Update(batch).ok());
  }
  for (Omiga* other : {awac->get(), proto->get(), rlpd->get()}) {
    for (auto& [name, module] : (*omiga)->Modules()) {
      const auto modules = other->Modules();
      auto it = std::find_if(modules.begin(), modules.end(),
                             [&](const auto& entry) { return entry.first == name; });
      ASSERT_NE(it, modules.end()) << name;
      EXPECT_TRUE(Same(Snapshot(*module), *it->second)) << other->name() << " " << name;
    }
  }
}

TEST(OmigaBaselines, AwacTrainsPolicyAndCriticButNotOmigasValueBranch) {
  auto created = Omiga::Create(Context("awac"));
  ASSERT_TRUE(created.ok());
  Omiga& awac = **created;
  awac.BeginOnlinePhase();
  const auto v = Snapshot(*awac.v()), policy = Snapshot(*awac.policy()), q = Snapshot(*awac.q()),
             mixer = Snapshot(*awac.mixer());
  auto stats = awac.Update(Batch(16, 1));
  ASSERT_TRUE(stats.ok()) << stats.status();
  EXPECT_TRUE(Same(v, *awac.v()));
  EXPECT_FALSE(Same(policy, *awac.policy()));
  EXPECT_FALSE(Same(q, *awac.q()));
  EXPECT_FALSE(Same(mixer, *awac.mixer()));
  for (const char* key : {"q_loss", "policy_loss", "advantage_mean", "awac_weight_mean"}) {
    ASSERT_TRUE(stats->count(key)) << key;
    EXPECT_TRUE(std::isfinite(stats->at(key))) << key;
  }
  EXPECT_GT(stats->at("awac_weight_mean"), 0.0);
  EXPECT_LE(stats->at("awac_weight_mean"), 100.0);
  EXPECT_EQ(stats->count("v_loss"), 0u);
}

TEST(OmigaBaselines, RlpdTrainsItsEnsembleOfflineThenStepsItUTimesPerUpdate) {
  AlgorithmContext context = Context("rlpd");
  RlpdConfig& rlpd_config = *context.config.mutable_omiga()->mutable_rlpd();
  rlpd_config.set_critics(3);
  rlpd_config.set_updates_per_batch(2);
  auto created = Omiga::Create(context);
  ASSERT_TRUE(created.ok());
  Omiga& rlpd = **created;
  ASSERT_EQ(rlpd.ensemble_size(), 3);
  // Members start different (own initialisation) and learn offline beside OMIGA.
  EXPECT_FALSE(Same(Snapshot(*rlpd.ensemble_q(0)), *rlpd.ensemble_q(1)));
  const auto member = Snapshot(*rlpd.ensemble_q(2));
  ASSERT_TRUE(rlpd.Update(Batch(8, 4)).ok());
  EXPECT_FALSE(Same(member, *rlpd.ensemble_q(2)));
  EXPECT_EQ(rlpd.ensemble_optimizer(2).step(), 1);

  rlpd.BeginOnlinePhase();
  const auto v = Snapshot(*rlpd.v()), policy = Snapshot(*rlpd.policy());
  const int64_t policy_steps = rlpd.policy_optimizer().step();
  auto stats = rlpd.Update(Batch(16, 5));
  ASSERT_TRUE(stats.ok()) << stats.status();
  for (int k = 0; k < 3; ++k) EXPECT_EQ(rlpd.ensemble_optimizer(k).step(), 3) << k;  // 1 + 2
  EXPECT_EQ(rlpd.policy_optimizer().step(), policy_steps + 1);
  EXPECT_FALSE(Same(policy, *rlpd.policy()));
  EXPECT_TRUE(Same(v, *rlpd.v()));
  EXPECT_NEAR(stats->at("alpha"), 1.0, 1e-6);  // RLPD's initial temperature
  for (const char* key : {"q_loss", "policy_loss", "alpha_loss", "entropy"}) {
    ASSERT_TRUE(stats->count(key)) << key;
    EXPECT_TRUE(std::isfinite(stats->at(key))) << key;
  }
  // A batch smaller than the number of critic minibatches is refused, naming the setting.
  auto small = rlpd.Update(Batch(1, 6));
  ASSERT_FALSE(small.ok());
  EXPECT_NE(small.status().message().find("updates_per_batch"), std::string::npos);

  // The checkpoint carries every member, its target and its optimizer.
  const std::string path = ::testing::TempDir() + "/rlpd_online.ckpt";
  ASSERT_TRUE(SaveCheckpoint(path, rlpd, {"omiga", context.spec, 2, 0, "online"}).ok());
  auto restored = Omiga::Create(context);
  ASSERT_TRUE(restored.ok());
  (*restored)->BeginOnlinePhase();
  ASSERT_TRUE(LoadCheckpoint(path, **restored).ok());
  for (int k = 0; k < 3; ++k) {
    EXPECT_TRUE(Same(Snapshot(*rlpd.ensemble_q(k)), *(*restored)->ensemble_q(k))) << k;
    EXPECT_EQ((*restored)->ensemble_optimizer(k).step(), 3) << k;
  }
}

TEST(OmigaBaselines, ProtoReferencePolicyStartsAsThePolicyAndFollowsItByEma) {
  AlgorithmContext context = Context("proto");
  context.config.mutable_omiga()->mutable_proto()->set_reference_update_rate(0.25);
  auto created = Omiga::Create(context);
  ASSERT_TRUE(created.ok());
  Omiga& proto = **created;
  ASSERT_TRUE(proto.Update(Batch(8, 2)).ok());       // one offline update first
  EXPECT_TRUE(proto.reference_policy().is_empty());  // no reference before the switch
  proto.BeginOnlinePhase();
  const auto before = Snapshot(*proto.policy());
  EXPECT_TRUE(Same(before, *proto.reference_policy()));
  EXPECT_NEAR(proto.temperature()->log_alpha.exp().item<double>(), 0.01, 1e-7);

  proto.set_env_steps(500000);  // halfway through the default 1M-step anneal from 2 to 0.2
  auto stats = proto.Update(Batch(16, 3));
  ASSERT_TRUE(stats.ok()) << stats.status();
  EXPECT_NEAR(stats->at("kl_weight"), 1.1, 1e-9);
  EXPECT_NEAR(stats->at("alpha"), 0.01, 1e-7);  // the alpha this update used
  EXPECT_NE(proto.temperature()->log_alpha.exp().item<double>(), 0.01);
  // pi_k <- 0.75 pi_k + 0.25 pi (after the policy's step).
  const auto after = Snapshot(*proto.policy());
  std::vector<at::Tensor> reference = proto.reference_policy()->parameters();
  ASSERT_EQ(reference.size(), before.size());
  for (size_t i = 0; i < before.size(); ++i) {
    EXPECT_TRUE(at::allclose(reference[i], 0.75 * before[i] + 0.25 * after[i], 1e-5, 1e-6)) << i;
  }
  EXPECT_FALSE(Same(before, *proto.policy()));
  for (const char* key :
       {"q_loss", "policy_loss", "alpha_loss", "entropy", "reference_log_ratio"}) {
    ASSERT_TRUE(stats->count(key)) << key;
    EXPECT_TRUE(std::isfinite(stats->at(key))) << key;
  }
}

TEST(OmigaBaselines, ProtoCheckpointsCarryTheReferencePolicyAndTemperature) {
  auto created = Omiga::Create(Context("proto"));
  ASSERT_TRUE(created.ok());
  Omiga& proto = **created;
  proto.BeginOnlinePhase();
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(proto.Update(Batch(8, 10 + i)).ok());
  const std::string path = ::testing::TempDir() + "/proto_online.ckpt";
  ASSERT_TRUE(SaveCheckpoint(path, proto, {"omiga", Context("proto").spec, 3, 0, "online"}).ok());

  auto restored = Omiga::Create(Context("proto"));
  ASSERT_TRUE(restored.ok());
  (*restored)->BeginOnlinePhase();  // as Learner::Restore does for an online checkpoint
  ASSERT_TRUE(LoadCheckpoint(path, **restored).ok());
  EXPECT_TRUE(Same(Snapshot(*proto.reference_policy()), *(*restored)->reference_policy()));
  EXPECT_TRUE(at::equal(proto.temperature()->log_alpha, (*restored)->temperature()->log_alpha));
  // Same state, same noise (Batch seeds the generator): the next update is identical.
  auto a = proto.Update(Batch(8, 20));
  auto b = (*restored)->Update(Batch(8, 20));
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_DOUBLE_EQ(a->at("q_loss"), b->at("q_loss"));
  EXPECT_DOUBLE_EQ(a->at("policy_loss"), b->at("policy_loss"));
}

}  // namespace
}  // namespace tandem::learner
