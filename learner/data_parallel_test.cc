#include "learner/data_parallel.h"

#include <ATen/ATen.h>

#include <functional>
#include <thread>

#include "common/config.h"
#include "gtest/gtest.h"
#include "learner/omiga.h"
#include "tests/net_testing.h"

namespace tandem::learner {
namespace {

AlgorithmContext Context() {
  AlgorithmContext context;
  context.spec.set_num_agents(2);
  context.spec.set_obs_size(5);
  context.spec.set_state_size(10);
  context.spec.set_action_type(ACTION_TYPE_CONTINUOUS);
  context.spec.set_action_size(2);
  FillDefaults(&context.config);
  context.config.set_hidden_size(16);
  context.config.set_mixer_hidden_size(8);
  context.seed = 7;
  return context;
}

TrainingBatch RankBatch(int rank, int step) {
  at::Generator generator = at::detail::createCPUGenerator(1000 * rank + step);
  TrainingBatch b;
  b.obs = at::randn({32, 2, 5}, generator);
  b.next_obs = at::randn({32, 2, 5}, generator);
  b.state = b.obs.reshape({32, 10});
  b.next_state = b.next_obs.reshape({32, 10});
  b.actions = at::rand({32, 2, 2}, generator) * 2 - 1;
  b.reward = at::randn({32}, generator);
  b.terminated = at::zeros({32});
  return b;
}

std::vector<at::Tensor> AllParameters(Omiga& omiga) {
  std::vector<at::Tensor> parameters;
  for (auto& [name, module] : omiga.Modules()) {
    for (const at::Tensor& p : module->parameters()) parameters.push_back(p.detach().clone());
  }
  return parameters;
}

// Runs `body` as ranks 0 and 1 of a two-rank group in two threads (the same code runs in two
// processes in a real cluster); returns each rank's status.
std::vector<absl::Status> RunTwoRanks(const std::function<absl::Status(DataParallel&, int)>& body) {
  const int port = testing::FreeLoopbackPort();
  std::vector<absl::Status> statuses(2);
  auto run = [&](int rank) {
    auto dp = DataParallel::Create({rank, 2, "127.0.0.1", port, absl::Seconds(60)});
    statuses[rank] = dp.ok() ? body(**dp, rank) : dp.status();
  };
  std::thread rank0(run, 0), rank1(run, 1);
  rank0.join();
  rank1.join();
  return statuses;
}

TEST(DataParallel, TwoRanksEndWithIdenticalParameters) {
  std::vector<std::vector<at::Tensor>> results(2);
  const std::vector<absl::Status> statuses = RunTwoRanks([&](DataParallel& dp, int rank) {
    AlgorithmContext context = Context();
    context.seed = 7 + rank;  // different initialisations, made equal by the broadcast
    context.reduce_gradients = [&dp](const std::vector<at::Tensor>& g) {
      return dp.AllReduceMean(g);
    };
    auto omiga = Omiga::Create(context);
    if (!omiga.ok()) return omiga.status();
    std::vector<at::Tensor> parameters;
    for (auto& [name, module] : (*omiga)->Modules()) {
      for (const at::Tensor& p : module->parameters()) parameters.push_back(p);
    }
    absl::Status status = dp.Broadcast(parameters);
    for (int step = 0; step < 6 && status.ok(); ++step) {
      status = (*omiga)->Update(RankBatch(rank, step)).status();
    }
    results[rank] = AllParameters(**omiga);
    return status;
  });
  ASSERT_TRUE(statuses[0].ok()) << statuses[0];
  ASSERT_TRUE(statuses[1].ok()) << statuses[1];
  ASSERT_EQ(results[0].size(), results[1].size());
  for (size_t i = 0; i < results[0].size(); ++i) {
    EXPECT_TRUE(at::equal(results[0][i], results[1][i])) << "parameter " << i;
  }

  // Training on rank 0's batches alone ends elsewhere: the ranks really averaged gradients.
  AlgorithmContext context = Context();
  auto alone = Omiga::Create(context);
  for (int step = 0; step < 6; ++step) ASSERT_TRUE((*alone)->Update(RankBatch(0, step)).ok());
  std::vector<at::Tensor> single = AllParameters(**alone);
  bool differs = false;
  for (size_t i = 0; i < single.size(); ++i) differs |= !at::allclose(single[i], results[0][i]);
  EXPECT_TRUE(differs);
}

// A rank that alone wants to stop (a signal, its own env-step poll) stops every rank at the same
// point, and all take the largest env-step count.
TEST(DataParallel, RanksAgreeToStopWhenAnyRankStops) {
  std::vector<std::vector<DataParallel::Agreement>> agreed(2);
  const std::vector<absl::Status> statuses = RunTwoRanks([&](DataParallel& dp, int rank) {
    // Rank 1 wants to stop at its third round; rank 0 never does. Env steps differ per rank.
    for (int round = 0; round < 4; ++round) {
      auto agreement = dp.Agree(rank == 1 && round == 2, 100 * round + 7 * rank);
      if (!agreement.ok()) return agreement.status();
      agreed[rank].push_back(*agreement);
    }
    return absl::OkStatus();
  });
  ASSERT_TRUE(statuses[0].ok()) << statuses[0];
  ASSERT_TRUE(statuses[1].ok()) << statuses[1];
  for (int rank = 0; rank < 2; ++rank) {
    ASSERT_EQ(agreed[rank].size(), 4u);
    for (int round = 0; round < 4; ++round) {
      EXPECT_EQ(agreed[rank][round].stop, round == 2) << "rank " << rank << " round " << round;
      EXPECT_EQ(agreed[rank][round].env_steps, 100 * round + 7);
    }
  }
}

TEST(DataParallel, BadRankIsRefused) {
  EXPECT_FALSE(DataParallel::Create({3, 2, "127.0.0.1", 1, absl::Seconds(1)}).ok());
}

}  // namespace
}  // namespace tandem::learner
