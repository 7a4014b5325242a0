// OTC's decentralized agents: BCQ, TD3+BC, AWAC and CQL, and the corrector they share.
#include "learner/otc/awac.h"
#include "learner/otc/bcq.h"
#include "learner/otc/cql.h"
#include "learner/otc/td3_bc.h"

#include <ATen/ATen.h>
#include <torch/utils.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <vector>

#include "common/config.h"
#include "common/networks/decentralized_networks.h"
#include "gtest/gtest.h"
#include "learner/checkpoint.h"

namespace tandem::learner::otc {
namespace {

constexpr int kAgents = 3, kObs = 4, kState = 5, kAct = 2, kRows = 16;

AlgorithmContext Context(const std::string& sampling = "embedding") {
  AlgorithmContext context;
  context.spec.set_num_agents(kAgents);
  context.spec.set_obs_size(kObs);
  context.spec.set_state_size(kState);
  context.spec.set_action_type(ACTION_TYPE_CONTINUOUS);
  context.spec.set_action_size(kAct);
  FillDefaults(&context.config);
  context.config.set_name("dec_bcq");
  context.config.mutable_otc()->set_sampling(sampling);
  context.config.mutable_otc()->add_hidden_sizes(16);
  context.config.mutable_otc()->add_hidden_sizes(16);
  context.config.mutable_otc()->set_embedding_size(3);
  context.seed = 5;
  context.batch_size = 8;
  return context;
}

TrainingBatch RandomBatch(int64_t rows, uint64_t seed) {
  torch::manual_seed(seed);
  TrainingBatch b;
  b.obs = at::randn({rows, kAgents, kObs});
  b.state = at::randn({rows, kState});
  b.actions = at::rand({rows, kAgents, kAct}) * 2 - 1;
  b.reward = at::randn({rows});
  b.terminated = (at::rand({rows}) < 0.2).to(at::kFloat);
  b.truncated = at::zeros({rows});
  b.next_obs = at::randn({rows, kAgents, kObs});
  b.next_state = at::randn({rows, kState});
  return b;
}

// Every parameter of agent `agent` (the first dimension of every AgentMlp tensor), flattened.
std::vector<float> AgentParameters(Algorithm& algorithm, int agent) {
  std::vector<float> values;
  for (auto& [name, module] : algorithm.Modules()) {
    if (name == "otc_state") continue;  // the corrector's bookkeeping, not a network
    for (const at::Tensor& p : module->parameters()) {
      const at::Tensor slice = p[agent].contiguous().view({-1});
      values.insert(values.end(), slice.data_ptr<float>(), slice.data_ptr<float>() + slice.numel());
    }
  }
  return values;
}

// Runs `updates` updates on `batch` from a fresh learner of `algorithm` with fixed seeds.
std::unique_ptr<Algorithm> Train(const TrainingBatch& batch, int updates,
                                 const std::string& sampling,
                                 const std::string& algorithm = "dec_bcq") {
  AlgorithmContext context = Context(sampling);
  context.config.set_name(algorithm);
  auto bcq = CreateAlgorithm(context);
  EXPECT_TRUE(bcq.ok()) << bcq.status();
  for (int u = 0; u < updates; ++u) {
    torch::manual_seed(100 + u);
    if (u == 1) (*bcq)->BeginDeployment();
    EXPECT_TRUE((*bcq)->Update(batch).ok());
  }
  return std::move(bcq).value();
}

TEST(DecentralizedAgents, AnAgentsUpdateIgnoresTheOtherAgentsActions) {
  for (const std::string algorithm : {"dec_bcq", "dec_td3_bc", "dec_awac", "dec_cql"})
    for (const std::string sampling : {"embedding", "value", "uniform", "online", "balanced"}) {
      SCOPED_TRACE(algorithm + " " + sampling);
      TrainingBatch a = RandomBatch(40, 1);
      // From the second update on, half the rows are deployment data (the correction runs).
      a.offline = at::arange(40) < 20;
      TrainingBatch b = a;
      b.actions = a.actions.clone();
      b.actions.select(1, 1).uniform_(-1,
                                      1);  // agent 1's actions differ, agents 0 and 2 keep theirs
      auto first = Train(a, 3, sampling, algorithm);
      auto second = Train(b, 3, sampling, algorithm);
      EXPECT_EQ(AgentParameters(*first, 0), AgentParameters(*second, 0)) << sampling;
      EXPECT_EQ(AgentParameters(*first, 2), AgentParameters(*second, 2)) << sampling;
      EXPECT_NE(AgentParameters(*first, 1), AgentParameters(*second, 1)) << sampling;
    }
}

TEST(DecentralizedBcq, TargetIsTheSoftClippedDoubleQMaximumOverDecodedActions) {
  auto created = DecentralizedBcq::Create(Context());
  ASSERT_TRUE(created.ok());
  DecentralizedBcq& bcq = **created;
  const AgentBatch batch = ToAgentBatch(RandomBatch(kRows, 2), /*state_input=*/true);
  torch::manual_seed(9);
  const at::Tensor y = bcq.Target(batch);
  // The same draws, then the formula element by element.
  torch::manual_seed(9);
  const int64_t samples = 10;
  const at::Tensor x2 = batch.next_input.repeat_interleave(samples, 1);
  const at::Tensor a2 = bcq.Perturb(
      x2,
      [&] {
        at::NoGradGuard no_grad;
        auto modules = bcq.Modules();
        auto* vae = dynamic_cast<networks::ConditionalVaeImpl*>(modules[0].second);
        return vae->Decode(x2);
      }(),
      /*target=*/true);
  at::Tensor q1, q2;
  {
    at::NoGradGuard no_grad;
    auto modules = bcq.Modules();
    auto* q1t = dynamic_cast<networks::AgentMlpImpl*>(modules[5].second);
    auto* q2t = dynamic_cast<networks::AgentMlpImpl*>(modules[6].second);
    ASSERT_EQ(modules[5].first, "q1_target");
    q1 = q1t->forward(at::cat({x2, a2}, -1));
    q2 = q2t->forward(at::cat({x2, a2}, -1));
  }
  for (int i = 0; i < kAgents; ++i) {
    for (int r = 0; r < kRows; ++r) {
      double best = -INFINITY;
      for (int k = 0; k < samples; ++k) {
        const double v1 = q1[i][r * samples + k][0].item<double>();
        const double v2 = q2[i][r * samples + k][0].item<double>();
        best = std::max(best, 0.75 * std::min(v1, v2) + 0.25 * std::max(v1, v2));
      }
      const double expected = batch.reward[i][r][0].item<double>() +
                              0.99 * batch.not_done[i][r][0].item<double>() * best;
      EXPECT_NEAR(y[i][r][0].item<double>(), expected, 1e-5) << i << " " << r;
    }
  }
}

TEST(DecentralizedBcq, ActPicksTheCandidateWithTheHighestQ1) {
  auto created = DecentralizedBcq::Create(Context());
  ASSERT_TRUE(created.ok());
  DecentralizedBcq& bcq = **created;
  const at::Tensor input = at::randn({kAgents, 4, kState});
  const at::Tensor action = bcq.Act(input, 20);
  ASSERT_EQ(action.sizes(), (at::IntArrayRef{kAgents, 4, kAct}));
  EXPECT_LE(action.abs().max().item<float>(), 1.f);
  // No other action of a fresh draw beats the chosen one by much: Q1 of the choice is the max of
  // its own candidates, so it is at least the mean of another draw's values.
  const at::Tensor chosen = bcq.QValue(input, action);
  torch::manual_seed(3);
  at::Tensor others;
  {
    at::NoGradGuard no_grad;
    auto modules = bcq.Modules();
    auto* vae = dynamic_cast<networks::ConditionalVaeImpl*>(modules[0].second);
    others = bcq.QValue(input, bcq.Perturb(input, vae->Decode(input), false));
  }
  EXPECT_GE(chosen.mean().item<float>(), others.mean().item<float>() - 1e-6);
}

TEST(DecentralizedBcq, RefusesDiscreteSpecsAndBadOptions) {
  AlgorithmContext context = Context();
  context.spec.set_action_type(ACTION_TYPE_DISCRETE);
  EXPECT_FALSE(DecentralizedBcq::Create(context).ok());
  context = Context("nearest");
  EXPECT_TRUE(absl::IsInvalidArgument(DecentralizedBcq::Create(context).status()));
  context = Context();
  context.config.mutable_otc()->set_agent_input("joint");
  EXPECT_TRUE(absl::IsInvalidArgument(DecentralizedBcq::Create(context).status()));
}

TEST(DecentralizedTd3Bc, TargetAndActorLossFollowTheFormulas) {
  AlgorithmContext context = Context();
  context.config.set_name("dec_td3_bc");
  auto created = DecentralizedTd3Bc::Create(context);
  ASSERT_TRUE(created.ok()) << created.status();
  DecentralizedTd3Bc& td3 = **created;
  const AgentBatch batch = ToAgentBatch(RandomBatch(kRows, 3), /*state_input=*/true);
  torch::manual_seed(4);
  const at::Tensor y = td3.Target(batch);
  // The same noise draw, then the formula element by element.
  torch::manual_seed(4);
  at::Tensor q1, q2, actor_q;
  {
    at::NoGradGuard no_grad;
    const at::Tensor target_action = td3.Policy(batch.next_input, true);
    const at::Tensor noise = (at::randn_like(target_action) * 0.2).clamp(-0.5, 0.5);
    const at::Tensor next = at::cat({batch.next_input, (target_action + noise).clamp(-1, 1)}, -1);
    auto modules = td3.Modules();
    ASSERT_EQ(modules[4].first, "q1_target");
    q1 = dynamic_cast<networks::AgentMlpImpl*>(modules[4].second)->forward(next);
    q2 = dynamic_cast<networks::AgentMlpImpl*>(modules[5].second)->forward(next);
  }
  for (int i = 0; i < kAgents; ++i) {
    for (int r = 0; r < kRows; ++r) {
      const double expected = batch.reward[i][r][0].item<double>() +
                              0.99 * batch.not_done[i][r][0].item<double>() *
                                  std::min(q1[i][r][0].item<double>(), q2[i][r][0].item<double>());
      EXPECT_NEAR(y[i][r][0].item<double>(), expected, 1e-5);
    }
  }
  // Actor loss: mean over agents and rows of -lambda_i Q1(x, pi(x)) + mean (pi - a)^2, with
  // lambda_i = 2.5 / mean_rows |Q1| of agent i.
  at::Tensor pi, q;
  {
    at::NoGradGuard no_grad;
    pi = td3.Policy(batch.input, false);
    q = td3.QValue(batch.input, pi);
  }
  double actor_term = 0;
  for (int i = 0; i < kAgents; ++i) {
    const double lambda = 2.5 / q[i].abs().mean().item<double>();
    actor_term += -lambda * q[i].mean().item<double>() / kAgents;
  }
  const double bc = (pi - batch.actions).pow(2).mean().item<double>();
  EXPECT_NEAR(td3.ActorLoss(batch).item<double>(), actor_term + bc, 1e-4);
}

// Each deployment's learner is a new process: alpha, the last distance and the deployment count
// must come back from the checkpoint, or alpha could never adapt.
// The module named `name` of `algorithm`, as an AgentMlp.
networks::AgentMlpImpl& Named(Algorithm& algorithm, const std::string& name) {
  for (auto& [module_name, module] : algorithm.Modules()) {
    if (module_name == name) return *dynamic_cast<networks::AgentMlpImpl*>(module);
  }
  ADD_FAILURE() << "no module " << name;
  std::abort();
}

// log N(x; mean, std) of one scalar, in double.
double NormalLogDensity(double x, double mean, double log_std) {
  const double z = (x - mean) / std::exp(log_std);
  return -0.5 * z * z - log_std - 0.5 * std::log(2 * M_PI);
}

TEST(DecentralizedAwac, TargetWeightsAndLikelihoodFollowTheFormulas) {
  AlgorithmContext context = Context();
  context.config.set_name("dec_awac");
  context.config.mutable_otc()->set_awac_lambda(0.5);
  auto created = DecentralizedAwac::Create(context);
  ASSERT_TRUE(created.ok()) << created.status();
  DecentralizedAwac& awac = **created;
  const AgentBatch batch = ToAgentBatch(RandomBatch(kRows, 2), /*state_input=*/true);
  at::NoGradGuard no_grad;
  // Target: the same draw of a' ~ pi(.|x'), then the twin target minimum.
  torch::manual_seed(9);
  const at::Tensor y = awac.Target(batch);
  torch::manual_seed(9);
  const at::Tensor next = networks::AwacSample(awac.actor(), batch.next_input);
  const at::Tensor in = at::cat({batch.next_input, next}, -1);
  const at::Tensor q1 = Named(awac, "q1_target").forward(in);
  const at::Tensor q2 = Named(awac, "q2_target").forward(in);
  for (int i = 0; i < kAgents; ++i) {
    for (int r = 0; r < kRows; ++r) {
      const double expected = batch.reward[i][r][0].item<double>() +
                              0.99 * batch.not_done[i][r][0].item<double>() *
                                  std::min(q1[i][r][0].item<double>(), q2[i][r][0].item<double>());
      EXPECT_NEAR(y[i][r][0].item<double>(), expected, 1e-5);
    }
  }
  // Weights: exp((min Q(x, a) - min Q(x, a~)) / lambda), capped.
  torch::manual_seed(11);
  const at::Tensor w = awac.Weights(batch);
  torch::manual_seed(11);
  const at::Tensor policy_action = networks::AwacSample(awac.actor(), batch.input);
  const at::Tensor data_q = awac.MinQ(batch.input, batch.actions, false);
  const at::Tensor policy_q = awac.MinQ(batch.input, policy_action, false);
  for (int i = 0; i < kAgents; ++i) {
    for (int r = 0; r < kRows; ++r) {
      const double advantage = data_q[i][r][0].item<double>() - policy_q[i][r][0].item<double>();
      EXPECT_NEAR(w[i][r][0].item<double>(), std::min(std::exp(advantage / 0.5), 100.0),
                  1e-4 * std::max(1.0, std::exp(advantage / 0.5)));
    }
  }
  // The likelihood of the data's actions under N(tanh(mean), exp(clamp(log std, -6, 0))^2).
  const at::Tensor log_prob = networks::AwacLogProb(awac.actor(), batch.input, batch.actions);
  const at::Tensor out = awac.actor().forward(batch.input);
  for (int i = 0; i < kAgents; ++i) {
    for (int r = 0; r < kRows; ++r) {
      double expected = 0;
      for (int d = 0; d < kAct; ++d) {
        const double mean = std::tanh(out[i][r][d].item<double>());
        const double log_std = std::clamp(out[i][r][kAct + d].item<double>(), -6.0, 0.0);
        expected += NormalLogDensity(batch.actions[i][r][d].item<double>(), mean, log_std);
      }
      EXPECT_NEAR(log_prob[i][r][0].item<double>(), expected, 1e-4);
    }
  }
}

TEST(DecentralizedCql, ConservativeTermAndSquashedDensityFollowTheFormulas) {
  AlgorithmContext context = Context();
  context.config.set_name("dec_cql");
  context.config.mutable_otc()->set_cql_sampled_actions(4);
  auto created = DecentralizedCql::Create(context);
  ASSERT_TRUE(created.ok()) << created.status();
  DecentralizedCql& cql = **created;
  const AgentBatch batch = ToAgentBatch(RandomBatch(kRows, 3), /*state_input=*/true);
  at::NoGradGuard no_grad;
  networks::AgentMlpImpl& actor = Named(cql, "actor");
  // The squashed Gaussian's density: log N(u) - sum log(1 - tanh(u)^2) at a = tanh(u).
  torch::manual_seed(4);
  const networks::GaussianDraw draw = networks::SquashedGaussianSample(actor, batch.input);
  torch::manual_seed(4);
  const at::Tensor out = actor.forward(batch.input);
  const at::Tensor noise = at::randn({kAgents, kRows, kAct});
  for (int i = 0; i < kAgents; ++i) {
    for (int r = 0; r < kRows; ++r) {
      double expected = 0;
      for (int d = 0; d < kAct; ++d) {
        const double mean = out[i][r][d].item<double>();
        const double log_std = std::clamp(out[i][r][kAct + d].item<double>(), -20.0, 2.0);
        const double u = mean + std::exp(log_std) * noise[i][r][d].item<double>();
        EXPECT_NEAR(draw.actions[i][r][d].item<double>(), std::tanh(u), 1e-5);
        expected += NormalLogDensity(u, mean, log_std) - std::log(1 - std::pow(std::tanh(u), 2));
      }
      EXPECT_NEAR(draw.log_prob[i][r][0].item<double>(), expected, 1e-3);
    }
  }
  // CQL(H): logsumexp over the 3K sampled actions of Q(x, a_k) - log mu(a_k), minus Q(x, a_i).
  const DecentralizedCql::Sampled sampled = cql.SampleActions(batch);
  ASSERT_EQ(sampled.actions.sizes(), (std::vector<int64_t>{kAgents, kRows * 12, kAct}));
  EXPECT_LE(sampled.actions.abs().max().item<float>(), 1.f);
  EXPECT_NEAR(sampled.log_mu[0][0][0].item<double>(), -kAct * std::log(2.0), 1e-6);
  const std::vector<at::Tensor> terms = cql.ConservativeTerms(batch, sampled);
  ASSERT_EQ(terms.size(), 2u);
  for (int j = 0; j < 2; ++j) {
    networks::AgentMlpImpl& q = Named(cql, j == 0 ? "q1" : "q2");
    for (int i = 0; i < kAgents; ++i) {
      for (int r = 0; r < kRows; r += 5) {
        std::vector<double> scores;
        for (int k = 0; k < 12; ++k) {
          const at::Tensor a = sampled.actions[i][r * 12 + k];
          const double value = q.forward(at::cat(
              {batch.input.narrow(1, r, 1), a.view({1, 1, kAct}).expand({kAgents, 1, kAct})},
              -1))[i][0][0]
                                   .item<double>();
          scores.push_back(value - sampled.log_mu[i][r * 12 + k][0].item<double>());
        }
        const double top = *std::max_element(scores.begin(), scores.end());
        double sum = 0;
        for (double v : scores) sum += std::exp(v - top);
        const double data_q =
            q.forward(at::cat({batch.input, batch.actions}, -1))[i][r][0].item<double>();
        EXPECT_NEAR(terms[j][i][r][0].item<double>(), top + std::log(sum) - data_q, 1e-4);
      }
    }
  }
  // One temperature per agent.
  EXPECT_EQ(cql.Temperatures().sizes(), (std::vector<int64_t>{kAgents, 1, 1}));
}

TEST(DecentralizedAwacAndCql, RefuseDiscreteSpecsAndBadOptions) {
  AlgorithmContext context = Context();
  context.config.mutable_otc()->set_awac_lambda(0);
  EXPECT_TRUE(absl::IsInvalidArgument(DecentralizedAwac::Create(context).status()));
  context = Context();
  context.config.mutable_otc()->set_cql_sampled_actions(0);
  EXPECT_TRUE(absl::IsInvalidArgument(DecentralizedCql::Create(context).status()));
  context = Context();
  context.spec.set_action_type(ACTION_TYPE_DISCRETE);
  EXPECT_TRUE(absl::IsInvalidArgument(DecentralizedAwac::Create(context).status()));
  EXPECT_TRUE(absl::IsInvalidArgument(DecentralizedCql::Create(context).status()));
}

TEST(OtcCorrector, ItsStateSurvivesACheckpoint) {
  AlgorithmContext context = Context("value");
  auto first = CreateAlgorithm(context);
  ASSERT_TRUE(first.ok());
  auto* bcq = dynamic_cast<DecentralizedBcq*>(first->get());
  TrainingBatch batch = RandomBatch(40, 8);
  batch.offline = at::arange(40) < 20;
  torch::manual_seed(1);
  bcq->BeginDeployment();
  ASSERT_TRUE(bcq->Update(batch).ok());
  bcq->BeginDeployment();
  ASSERT_TRUE(bcq->Update(batch).ok());
  ASSERT_EQ(bcq->corrector().deployments(), 2);
  const std::vector<double> alpha = bcq->corrector().alpha();
  const std::string path = ::testing::TempDir() + "/otc_corrector_state.pt";
  CheckpointInfo info;
  info.algorithm = "dec_bcq";
  ASSERT_TRUE(SaveCheckpoint(path, *bcq, info).ok()) << SaveCheckpoint(path, *bcq, info);
  auto second = CreateAlgorithm(context);
  ASSERT_TRUE(second.ok());
  auto* restored = dynamic_cast<DecentralizedBcq*>(second->get());
  ASSERT_TRUE(LoadCheckpoint(path, *restored).ok());
  EXPECT_EQ(restored->corrector().deployments(), 2);
  EXPECT_EQ(restored->corrector().alpha(), alpha);
  EXPECT_EQ(at::equal(bcq->corrector().state()->previous_distance,
                      restored->corrector().state()->previous_distance),
            true);
}

// Balanced Replay's density-ratio network is trained online only: an offline checkpoint of the same
// agents pretrained with another sampling still starts it; an online checkpoint must hold it.
TEST(OtcCorrector, BalancedStartsFromAnOfflineCheckpointWithoutItsRatioNetwork) {
  auto offline = CreateAlgorithm(Context("embedding"));
  ASSERT_TRUE(offline.ok());
  ASSERT_TRUE((*offline)->Update(RandomBatch(40, 8)).ok());
  const std::string path = ::testing::TempDir() + "/otc_offline_for_balanced.pt";
  CheckpointInfo info;
  info.algorithm = "dec_bcq";
  info.phase = "offline";
  ASSERT_TRUE(SaveCheckpoint(path, **offline, info).ok());
  auto balanced = CreateAlgorithm(Context("balanced"));
  ASSERT_TRUE(balanced.ok());
  auto loaded = LoadCheckpoint(path, **balanced);
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  // The agents' networks came from the checkpoint.
  for (auto& [name, module] : (*offline)->Modules()) {
    if (name != "actor") continue;
    for (auto& [other_name, other] : (*balanced)->Modules()) {
      if (other_name == "actor") {
        EXPECT_TRUE(at::equal(module->parameters()[0], other->parameters()[0]));
      }
    }
  }
  info.phase = "online";
  ASSERT_TRUE(SaveCheckpoint(path, **offline, info).ok());
  auto again = CreateAlgorithm(Context("balanced"));
  ASSERT_TRUE(again.ok());
  const absl::Status refused = LoadCheckpoint(path, **again).status();
  EXPECT_TRUE(absl::IsFailedPrecondition(refused)) << refused;
  EXPECT_NE(refused.message().find("otc_density_ratio"), std::string::npos) << refused;
}

TEST(ConditionalVae, LossFallsOnAToySet) {
  torch::manual_seed(4);
  networks::ConditionalVae vae(networks::ConditionalVaeOptions{2, 3, 2, 4, {32, 32}});
  // Actions are a fixed function of the condition, per agent.
  const at::Tensor condition = at::randn({2, 256, 3});
  const at::Tensor x = at::tanh(condition.slice(-1, 0, 2) - condition.slice(-1, 1, 3));
  FusedAdamOptions adam;
  adam.learning_rate = 1e-3;
  adam.max_grad_norm = 0;
  FusedAdam optimizer(vae->parameters(), adam);
  double first = 0, last = 0;
  for (int step = 0; step < 400; ++step) {
    auto [loss, reconstruction] = vae->Loss(condition, x);
    if (step == 0) first = reconstruction.item<double>();
    last = reconstruction.item<double>();
    optimizer.ZeroGrad();
    loss.backward();
    optimizer.Step();
  }
  EXPECT_LT(last, 0.5 * first) << first << " -> " << last;
}

// A critic whose Q is the first input feature and V the second (a fake inside a unit test).
class FeatureValues : public ValueFunction {
 public:
  at::Tensor QValue(const at::Tensor& input, const at::Tensor&) override {
    return input.slice(-1, 0, 1);
  }
  at::Tensor StateValue(const at::Tensor& input) override { return input.slice(-1, 1, 2); }
};

AgentBatch Rows(const std::vector<std::vector<float>>& input, const std::vector<float>& next_v) {
  const int64_t m = input.size();
  AgentBatch b;
  std::vector<float> flat, next;
  for (size_t j = 0; j < input.size(); ++j) {
    flat.insert(flat.end(), input[j].begin(), input[j].end());
    next.push_back(0.f);
    next.push_back(next_v[j]);
  }
  b.input = at::tensor(flat).view({1, m, 2});
  b.next_input = at::tensor(next).view({1, m, 2});
  b.actions = at::zeros({1, m, 1});
  b.reward = at::zeros({1, m, 1});
  b.not_done = at::ones({1, m, 1});
  return b;
}

TEST(OtcCorrector, DrawsOnlyMergedRowsAndAdaptsAlphaPerDeployment) {
  CorrectorOptions options;
  options.num_agents = 1;
  options.input_size = 2;
  options.action_size = 1;
  options.sampling = Sampling::kValue;
  options.train_batch = 64;
  options.alpha = 1.0;
  Corrector corrector(options);
  FeatureValues values;
  // Merged rows 0-1 (Q 0 and 10), deployment rows 2-3 (Q 0.1 and 10.1). V(s') of the merged rows
  // 1 and 2 -> normalised 2/3, 4/3; deployment V 1 and 1 -> 1, 1. Distances 1/3 and 1/3.
  AgentBatch batch = Rows({{0, 0}, {10, 0}, {0.1f, 0}, {10.1f, 0}}, {1, 2, 1, 1});
  const at::Tensor online = at::tensor({0, 0, 1, 1}).to(at::kBool);
  UpdateStats stats;
  corrector.BeginDeployment();
  AgentBatch train = corrector.Select(batch, online, values, &stats);
  ASSERT_EQ(train.size(), 64);
  EXPECT_LE(train.input.select(-1, 0).max().item<float>(), 10.f);  // never a deployment row
  EXPECT_NEAR(stats["otc_distance"], 1.0 / 3, 1e-6);
  EXPECT_DOUBLE_EQ(corrector.alpha()[0], 1.0);
  // Deployment 2: merged V 1 and 3 -> 0.5, 1.5; distances 0.5 and 0.5: alpha * 0.5 / (1/3).
  batch = Rows({{0, 0}, {10, 0}, {0.1f, 0}, {10.1f, 0}}, {1, 3, 1, 1});
  corrector.BeginDeployment();
  corrector.Select(batch, online, values, &stats);
  EXPECT_NEAR(corrector.alpha()[0], 1.5, 1e-6);
  EXPECT_EQ(corrector.deployments(), 2);
  // Within a deployment alpha holds.
  batch = Rows({{0, 0}, {10, 0}, {0.1f, 0}, {10.1f, 0}}, {1, 9, 1, 1});
  corrector.Select(batch, online, values, &stats);
  EXPECT_NEAR(corrector.alpha()[0], 1.5, 1e-6);
  // The online-data baseline draws deployment rows only.
  CorrectorOptions online_options = options;
  online_options.sampling = Sampling::kOnline;
  Corrector online_only(online_options);
  train = online_only.Select(batch, online, values, &stats);
  ASSERT_EQ(train.size(), 64);
  const at::Tensor q = train.input.select(-1, 0);
  EXPECT_TRUE(((q == 0.1f) | (q == 10.1f)).all().item<bool>());
  // Without deployment rows the batch is used as it is.
  train = corrector.Select(batch, at::zeros({4}, at::kBool), values, &stats);
  EXPECT_EQ(train.size(), 4);
}

TEST(OtcCorrector, BalancedReplayFavoursMergedRowsLikeTheDeploymentsAndNeverDrawsThem) {
  CorrectorOptions options;
  options.num_agents = 2;
  options.input_size = 2;
  options.action_size = 1;
  options.sampling = Sampling::kBalanced;
  options.train_batch = 256;
  options.hidden_sizes = {16, 16};
  options.balanced_learning_rate = 3e-3;
  Corrector corrector(options);
  FeatureValues values;
  // 64 merged rows, the first half near the deployment's inputs (feature 0 around +2), the other
  // half far (around -2); 64 deployment rows near +2, told apart by their reward (1; not an input
  // of the ratio network).
  torch::manual_seed(3);
  AgentBatch batch;
  const at::Tensor near = at::randn({2, 32, 2}) * 0.3 + at::tensor({2.f, 0.f});
  const at::Tensor far = at::randn({2, 32, 2}) * 0.3 + at::tensor({-2.f, 0.f});
  const at::Tensor deployment = at::randn({2, 64, 2}) * 0.3 + at::tensor({2.f, 0.f});
  batch.input = at::cat({near, far, deployment}, 1);
  batch.next_input = batch.input;
  batch.actions = at::zeros({2, 128, 1});
  const at::Tensor online = at::arange(128) >= 64;
  batch.reward = online.to(at::kFloat).view({1, 128, 1}).expand({2, 128, 1}).contiguous();
  batch.not_done = at::ones({2, 128, 1});
  UpdateStats stats;
  AgentBatch train;
  for (int step = 0; step < 300; ++step) train = corrector.Select(batch, online, values, &stats);
  ASSERT_EQ(train.size(), 256);
  EXPECT_EQ(train.reward.max().item<float>(), 0.f);  // merged rows only
  // Tempered (T = 5) but clearly towards the rows the deployment resembles.
  const double near_share = (train.input.select(-1, 0) > 0).to(at::kDouble).mean().item<double>();
  EXPECT_GT(near_share, 0.6) << near_share;
  EXPECT_TRUE(stats.count("balanced_loss"));
  // The ratio network is agent-major like every network of the agents.
  EXPECT_EQ(corrector.density_ratio()->parameters()[0].size(0), 2);
}

}  // namespace
}  // namespace tandem::learner::otc
