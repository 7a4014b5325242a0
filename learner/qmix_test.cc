#include "learner/qmix.h"

#include <ATen/ATen.h>

#include <vector>

#include "common/config.h"
#include "common/networks/gru_agent.h"
#include "common/networks/qmix_mixer.h"
#include "gtest/gtest.h"

namespace tandem::learner {
namespace {

AlgorithmContext Context(int agents, int obs, int state, int actions, int episode_steps) {
  AlgorithmContext context;
  context.spec.set_num_agents(agents);
  context.spec.set_obs_size(obs);
  context.spec.set_state_size(state);
  context.spec.set_action_type(ACTION_TYPE_DISCRETE);
  context.spec.set_action_size(actions);
  context.spec.set_has_avail_actions(true);
  context.spec.set_episode_steps(episode_steps);
  FillDefaults(&context.config);
  context.config.set_name("qmix");
  context.config.set_learning_rate(1e-3);
  context.config.set_max_grad_norm(10);
  return context;
}

// The recursion written out with scalars, one episode at a time.
std::vector<double> HandTargets(const std::vector<double>& r, const std::vector<double>& term,
                                const std::vector<double>& mask, const std::vector<double>& v,
                                double gamma, double lambda) {
  const size_t steps = r.size();
  std::vector<double> g(steps);
  double following = v[steps];
  for (size_t k = steps; k-- > 0;) {
    if (mask[k] == 1) {
      g[k] = r[k] + gamma * (1 - term[k]) * ((1 - lambda) * v[k + 1] + lambda * following);
    } else {
      g[k] = v[k];
    }
    following = g[k];
  }
  return g;
}

TEST(Qmix, TdLambdaTargetsEqualTheHandWrittenRecursionOnAPaddedBatch) {
  // Three episodes padded to 5 steps (6 entries): one terminated after 2 steps, one cut by the
  // time limit at all 5 steps, one cut after 3 steps without terminating (bootstraps from v[3]).
  const std::vector<std::vector<double>> rewards = {
      {1, 2, 0, 0, 0}, {0.5, -1, 0.25, 3, 1}, {2, 0, 1, 0, 0}};
  const std::vector<std::vector<double>> terms = {
      {0, 1, 0, 0, 0}, {0, 0, 0, 0, 0}, {0, 0, 0, 0, 0}};
  const std::vector<std::vector<double>> masks = {
      {1, 1, 0, 0, 0}, {1, 1, 1, 1, 1}, {1, 1, 1, 0, 0}};
  const std::vector<std::vector<double>> values = {
      {5, 4, 3, 9, 9, 9}, {1, 2, 3, 4, 5, 6}, {-1, 0.5, 2, 7, 8, 8}};
  const double gamma = 0.99, lambda = 0.6;
  auto tensor = [](const std::vector<std::vector<double>>& rows) {
    std::vector<float> flat;
    for (const auto& row : rows) flat.insert(flat.end(), row.begin(), row.end());
    return at::tensor(flat).view({static_cast<int64_t>(rows.size()), -1});
  };
  const at::Tensor g =
      TdLambdaTargets(tensor(rewards), tensor(terms), tensor(masks), tensor(values), gamma, lambda);
  ASSERT_EQ(g.sizes(), (std::vector<int64_t>{3, 5}));
  for (int e = 0; e < 3; ++e) {
    const std::vector<double> expected =
        HandTargets(rewards[e], terms[e], masks[e], values[e], gamma, lambda);
    for (int t = 0; t < 5; ++t) {
      if (masks[e][t] == 0) continue;
      EXPECT_NEAR(g[e][t].item<double>(), expected[t], 1e-4) << "episode " << e << " step " << t;
    }
  }
  // Spot checks of the semantics: the terminated episode's last step is its reward alone; the
  // cut episode's last step bootstraps from the value at its final observation.
  EXPECT_NEAR(g[0][1].item<double>(), 2.0, 1e-5);
  EXPECT_NEAR(g[2][2].item<double>(), 1 + gamma * 7, 1e-4);
  // lambda = 0 gives one-step targets r + gamma (1 - term) v'.
  const at::Tensor one_step =
      TdLambdaTargets(tensor(rewards), tensor(terms), tensor(masks), tensor(values), gamma, 0);
  EXPECT_NEAR(one_step[1][2].item<double>(), 0.25 + gamma * 4, 1e-5);
}

// The gradients of sum(out * upstream) with respect to every parameter of `module`.
std::vector<at::Tensor> ParameterGradients(torch::nn::Module& module, const at::Tensor& out,
                                           const at::Tensor& upstream) {
  for (auto& p : module.parameters()) p.mutable_grad() = at::Tensor();
  (out * upstream).sum().backward();
  std::vector<at::Tensor> grads;
  for (auto& p : module.parameters()) grads.push_back(p.grad().clone());
  return grads;
}

// The learner's unroll over whole episodes computes what the actors compute one step at a time:
// the agent fed [obs, last action one-hot (zeros at t = 0), agent id one-hot] with its hidden
// state carried along. Values and the gradients of every weight agree.
TEST(Qmix, EpisodeUnrollEqualsTheActorsStepByStepAgent) {
  const int64_t b = 3, t = 6, n = 4, o = 5, k = 7;
  torch::manual_seed(2);
  networks::GruAgent agent(networks::GruAgentOptions{o, n, k, 16});
  const at::Tensor obs = at::randn({b, t, n, o});
  const at::Tensor actions = at::randint(k, {b, t, n}, at::kLong);
  const at::Tensor unrolled =
      agent->UnrollEpisodes(obs.transpose(0, 1).contiguous(), actions.transpose(0, 1).contiguous())
          .transpose(0, 1);
  ASSERT_EQ(unrolled.sizes(), (std::vector<int64_t>{b, t, n, k}));
  std::vector<at::Tensor> stepped;
  at::Tensor hidden = at::zeros({b, n, 16});
  const at::Tensor ids = at::eye(n).expand({b, n, n});
  for (int64_t s = 0; s < t; ++s) {
    const at::Tensor last =
        s == 0 ? at::zeros({b, n, k}) : at::one_hot(actions.select(1, s - 1), k).to(at::kFloat);
    auto [q, next] = agent->forward(at::cat({obs.select(1, s), last, ids}, -1), hidden);
    stepped.push_back(q);
    hidden = next;
  }
  const at::Tensor reference = at::stack(stepped, 1);
  EXPECT_TRUE(at::allclose(unrolled, reference, 1e-5, 1e-6));
  const at::Tensor upstream = at::randn(reference.sizes());
  const auto fused = ParameterGradients(*agent, unrolled, upstream);
  const auto expected = ParameterGradients(*agent, reference, upstream);
  for (size_t i = 0; i < fused.size(); ++i) {
    EXPECT_TRUE(at::allclose(fused[i], expected[i], 1e-4, 1e-5)) << "parameter " << i;
  }
}

// Unrolling only the entries episodes fill (the learner's packing) gives the padded unroll's Q
// values on those entries, zeros on the padding, and the same gradients for any loss that ignores
// the padding; the episodes need not come sorted by length.
TEST(Qmix, PackedUnrollEqualsThePaddedOneOnFilledEntries) {
  const int64_t b = 4, t = 7, n = 3, o = 5, k = 6;
  torch::manual_seed(4);
  networks::GruAgent agent(networks::GruAgentOptions{o, n, k, 16});
  const at::Tensor obs = at::randn({t, b, n, o});
  const at::Tensor actions = at::randint(k, {t, b, n}, at::kLong);
  const at::Tensor entries = at::tensor(std::vector<int64_t>{3, 7, 2, 5}, at::kLong);
  const networks::EpisodePacking packing = networks::EpisodePacking::FromEntries(entries, t, n);
  EXPECT_EQ(packing.rows_per_step, (std::vector<int64_t>{12, 12, 9, 6, 6, 3, 3}));
  EXPECT_EQ(packing.index.size(0), (3 + 7 + 2 + 5) * n);
  // filled[s][e] = 1 on episode e's entries.
  const at::Tensor filled =
      (at::arange(t, at::kLong).unsqueeze(1) < entries.unsqueeze(0)).to(at::kFloat);
  const at::Tensor mask = filled.view({t, b, 1, 1});
  const at::Tensor padded = agent->UnrollEpisodes(obs, actions);
  const at::Tensor packed = agent->UnrollEpisodes(obs, actions, &packing);
  ASSERT_EQ(packed.sizes(), padded.sizes());
  EXPECT_TRUE(at::allclose(packed, padded * mask, 1e-5, 1e-6));
  EXPECT_EQ((packed * (1 - mask)).abs().sum().item<float>(), 0);
  const at::Tensor upstream = at::randn(padded.sizes()) * mask;
  const auto from_packed = ParameterGradients(*agent, packed, upstream);
  const auto from_padded = ParameterGradients(*agent, padded, upstream);
  for (size_t i = 0; i < from_packed.size(); ++i) {
    EXPECT_TRUE(at::allclose(from_packed[i], from_padded[i], 1e-4, 1e-5)) << "parameter " << i;
  }
}

TEST(Qmix, MixerIsMonotonicInEveryAgentsValue) {
  networks::QmixMixer mixer(networks::QmixMixerOptions{5, 12, 32, 64});
  at::manual_seed(7);
  const at::Tensor q = at::randn({256, 5}).requires_grad_(true);
  const at::Tensor state = at::randn({256, 12}) * 3;
  const at::Tensor q_tot = mixer->forward(q, state);
  ASSERT_EQ(q_tot.sizes(), (std::vector<int64_t>{256}));
  q_tot.sum().backward();
  EXPECT_GE(q.grad().min().item<float>(), 0.0f);
  // Raising one agent's value never lowers Q_tot.
  at::NoGradGuard no_grad;
  for (int i = 0; i < 5; ++i) {
    at::Tensor raised = q.detach().clone();
    raised.select(1, i).add_(0.5);
    EXPECT_TRUE((mixer->forward(raised, state) >= q_tot.detach() - 1e-5).all().item<bool>());
  }
}

// pymarl's one-step episode layout for a two-agent matrix game: entry 0 is the decision, entry 1
// the final observation. Both agents see a constant observation and may take every action.
TrainingBatch MatrixGameBatch(const at::Tensor& payoff, int batch, int actions) {
  TrainingBatch b;
  b.obs = at::ones({batch, 2, 2, 1});
  b.state = at::ones({batch, 2, 1});
  b.actions = at::randint(actions, {batch, 2, 2}, at::kLong);
  b.actions.select(1, 1).zero_();
  b.avail_actions = at::ones({batch, 2, 2, actions}, at::kBool);
  b.reward = at::zeros({batch, 2});
  b.reward.select(1, 0).copy_(
      payoff.index({b.actions.select(1, 0).select(1, 0), b.actions.select(1, 0).select(1, 1)}));
  b.terminated = at::zeros({batch, 2});
  b.terminated.select(1, 0).fill_(1);
  b.filled = at::ones({batch, 2});
  return b;
}

// A cooperative matrix game whose optimum (A, A) = 8 needs both agents to coordinate; a
// miscoordinated (A, C) or (C, A) costs 3. From uniformly explored one-step episodes, QMIX's (and
// VDN's) greedy joint action is the optimum and Q_tot there approaches its payoff. (QMIX's own
// non-monotonic game, Rashid et al. 2018 Table 1, is not used: under uniform data the monotonic
// projection need not keep its optimum, as Weighted QMIX later showed.)
TEST(Qmix, LearnsTheCooperativeMatrixGameToItsOptimum) {
  const at::Tensor payoff =
      at::tensor({8.f, 0.f, -3.f, 0.f, 4.f, 0.f, -3.f, 0.f, 6.f}).view({3, 3});
  for (const char* mixer : {"qmix", "vdn"}) {
    AlgorithmContext context = Context(2, 1, 1, 3, 2);
    context.config.mutable_qmix()->set_mixer(mixer);
    context.seed = 3;
    auto qmix = Qmix::Create(context);
    ASSERT_TRUE(qmix.ok()) << qmix.status();
    at::manual_seed(11);
    for (int i = 0; i < 1000; ++i) {
      auto stats = (*qmix)->Update(MatrixGameBatch(payoff, 64, 3));
      ASSERT_TRUE(stats.ok()) << stats.status();
    }
    at::NoGradGuard no_grad;
    TrainingBatch probe = MatrixGameBatch(payoff, 1, 3);
    const at::Tensor q = (*qmix)->AgentQ(probe, false).select(1, 0).select(0, 0);  // [2, 3]
    const at::Tensor greedy = q.argmax(-1);
    EXPECT_EQ(greedy[0].item<int>(), 0) << mixer;
    EXPECT_EQ(greedy[1].item<int>(), 0) << mixer;
    if (std::string(mixer) == "qmix") {
      const at::Tensor q_tot = (*qmix)->Mix(q.gather(-1, greedy.unsqueeze(-1)).view({1, 2}),
                                            probe.state.select(1, 0), false);
      EXPECT_NEAR(q_tot.item<float>(), 8.0f, 1.5f);
    }
  }
}

TEST(Qmix, RefusesTransitionsAndBadSettingsWithTheFieldNamed) {
  AlgorithmContext transitions = Context(3, 4, 5, 6, 0);
  auto refused = Qmix::Create(transitions);
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.status().message().find("ITEM_KIND_EPISODE"), std::string::npos);
  AlgorithmContext bad = Context(3, 4, 5, 6, 10);
  bad.config.mutable_qmix()->set_mixer("qtran");
  refused = Qmix::Create(bad);
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.status().message().find("algorithm.qmix.mixer"), std::string::npos);
}

// Padding changes nothing: the same episodes padded to more entries give the same loss.
TEST(Qmix, PaddingBeyondTheLongestEpisodeDoesNotChangeTheUpdate) {
  AlgorithmContext context = Context(2, 3, 4, 4, 8);
  auto a = Qmix::Create(context);
  auto b = Qmix::Create(context);
  ASSERT_TRUE(a.ok() && b.ok());
  at::manual_seed(5);
  TrainingBatch batch;
  const int64_t e = 4, l = 5;
  batch.obs = at::randn({e, l, 2, 3});
  batch.state = at::randn({e, l, 4});
  batch.actions = at::randint(4, {e, l, 2}, at::kLong);
  batch.avail_actions = at::ones({e, l, 2, 4}, at::kBool);
  batch.reward = at::randn({e, l});
  batch.terminated = at::zeros({e, l});
  batch.filled = at::ones({e, l});
  // Episode lengths 4, 2, 3, 4 (entries 5, 3, 4, 5); the second one terminates.
  batch.filled[1].narrow(0, 3, 2).zero_();
  batch.filled[2].narrow(0, 4, 1).zero_();
  batch.terminated[1][1] = 1;
  batch.obs.mul_(batch.filled.view({e, l, 1, 1}));
  TrainingBatch padded = batch;
  auto pad = [](const at::Tensor& x, int64_t extra) {
    std::vector<int64_t> shape(x.sizes().begin(), x.sizes().end());
    shape[1] = extra;
    return at::cat({x, at::zeros(shape, x.options())}, 1);
  };
  padded.obs = pad(batch.obs, 3);
  padded.state = pad(batch.state, 3);
  padded.actions = pad(batch.actions, 3);
  padded.avail_actions = pad(batch.avail_actions, 3);
  padded.reward = pad(batch.reward, 3);
  padded.terminated = pad(batch.terminated, 3);
  padded.filled = pad(batch.filled, 3);
  auto first = (*a)->Update(batch);
  auto second = (*b)->Update(padded);
  ASSERT_TRUE(first.ok() && second.ok());
  EXPECT_NEAR(first->at("td_loss"), second->at("td_loss"), 1e-5);
}

// The unlearning probe: right after SetProbe every greedy action is the kept one and probe_q_tot
// is the mean Q_tot of the data's joint actions over the filled steps; training on other data
// moves the values, and the agreement stays a share.
TEST(Qmix, ProbeReportsTheDataValuesAndTheShareOfGreedyActionsKept) {
  AlgorithmContext context = Context(2, 3, 4, 4, 6);
  auto created = Qmix::Create(context);
  ASSERT_TRUE(created.ok()) << created.status();
  Qmix& qmix = **created;
  EXPECT_TRUE(qmix.Probe().empty());
  at::manual_seed(9);
  auto episodes = [](int64_t e, int64_t l) {
    TrainingBatch b;
    b.obs = at::randn({e, l, 2, 3});
    b.state = at::randn({e, l, 4});
    b.actions = at::randint(4, {e, l, 2}, at::kLong);
    b.avail_actions = at::ones({e, l, 2, 4}, at::kBool);
    b.reward = at::randn({e, l});
    b.terminated = at::zeros({e, l});
    b.filled = at::ones({e, l});
    b.filled[1].narrow(0, 3, l - 3).zero_();  // episode 1: 2 steps
    b.terminated[1][1] = 1;
    b.terminated[0][l - 2] = 1;
    return b;
  };
  const TrainingBatch probe = episodes(3, 5);
  ASSERT_TRUE(qmix.SetProbe(probe).ok());
  double expected = 0;
  {
    at::NoGradGuard no_grad;
    const at::Tensor q = qmix.AgentQ(probe, false);
    const at::Tensor chosen =
        q.narrow(1, 0, 4).gather(-1, probe.actions.narrow(1, 0, 4).unsqueeze(-1)).squeeze(-1);
    const at::Tensor q_tot = qmix.Mix(chosen, probe.state.narrow(1, 0, 4), false);
    const at::Tensor mask = probe.filled.narrow(1, 1, 4);
    expected = ((q_tot * mask).sum() / mask.sum()).item<double>();
  }
  UpdateStats first = qmix.Probe();
  EXPECT_NEAR(first.at("probe_q_tot"), expected, 1e-5);
  EXPECT_DOUBLE_EQ(first.at("probe_greedy_agreement"), 1.0);
  for (int i = 0; i < 30; ++i) ASSERT_TRUE(qmix.Update(episodes(8, 5)).ok());
  UpdateStats later = qmix.Probe();
  EXPECT_NE(later.at("probe_q_tot"), first.at("probe_q_tot"));
  EXPECT_GE(later.at("probe_greedy_agreement"), 0.0);
  EXPECT_LE(later.at("probe_greedy_agreement"), 1.0);
}

}  // namespace
}  // namespace tandem::learner
