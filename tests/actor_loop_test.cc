// The whole loop on loopback gRPC: actors step real MuJoCo envs and select actions with CBS over
// the frozen offline policy and the synced online policy; transitions stream to the replay server;
// the learner fine-tunes on batches mixed at rho and publishes weights back to the actors.
#include <torch/serialize/output-archive.h>

#include <atomic>
#include <filesystem>
#include <optional>
#include <sstream>
#include <thread>
#include <vector>

#include "actor/actor.h"
#include "actor/evaluator_role.h"
#include "actor/rollout.h"
#include "actor/step_loop.h"
#include "common/config.h"
#include "common/networks/architectures.h"
#include "common/networks/weights.h"
#include "common/replay_client.h"
#include "grpcpp/create_channel.h"
#include "gtest/gtest.h"
#include "learner/checkpoint.h"
#include "learner/learner.h"
#include "learner/omiga.h"
#include "replay_server/replay_server.h"

namespace tandem {
namespace {

namespace fs = std::filesystem;

TEST(ActorLoop, ActorsAndLearnerCloseTheLoopOverGrpc) {
  const std::string dir = ::testing::TempDir() + "/actor_loop";
  fs::remove_all(dir);
  fs::create_directories(dir);
  ExperimentConfig config;
  config.mutable_env()->set_name("mamujoco/HalfCheetah-6x1");
  (*config.mutable_env()->mutable_options())["episode_limit"] = "40";
  config.mutable_algorithm()->set_hidden_size(32);
  config.mutable_learner()->set_batch_size(32);
  config.mutable_learner()->set_publish_every_updates(5);
  config.mutable_learner()->set_device("cpu");
  config.mutable_actors()->set_envs_per_actor(4);
  config.mutable_actors()->set_send_batch_transitions(32);
  config.mutable_replay()->set_min_size_to_sample(32);
  FillDefaults(&config);

  // An offline dataset (random policy) and a short offline pretraining.
  const std::string dataset = dir + "/random.h5";
  {
    auto pool = envs::EnvPool::Create("mamujoco/HalfCheetah-6x1(episode_limit=40)", 4, 1);
    ASSERT_TRUE(pool.ok());
    auto writer = DatasetWriter::Create(dataset, (*pool)->spec().ToTransitionSpec(), {});
    ASSERT_TRUE(writer.ok());
    SelectorConfig random;
    random.set_name("random");
    auto selector = actor::CreateSelector(random, ACTION_TYPE_CONTINUOUS, "HalfCheetah",
                                          policies::PolicyCapabilities());
    ASSERT_TRUE(selector.ok());
    auto loop = actor::StepLoop::Create(std::move(*pool), nullptr, std::move(*selector), {});
    ASSERT_TRUE(loop.ok());
    ASSERT_TRUE((*loop)->Begin().ok());
    ASSERT_TRUE(actor::RecordRollouts(**loop, 400, **writer).ok());
    ASSERT_TRUE((*writer)->Finish().ok());
  }
  config.mutable_dataset()->set_path(dataset);
  config.mutable_replay()->set_address("127.0.0.1:0");
  auto metrics = *MetricsRegistry::Create("");
  auto replay = replay::ReplayServer::Start(config, metrics.get());
  ASSERT_TRUE(replay.ok()) << replay.status();
  auto client = replay::ReplayClient::Connect((*replay)->address(), SecurityConfig(), "");
  ASSERT_TRUE(client.ok());
  std::shared_ptr<replay::ReplayClient> shared_client = std::move(*client);
  auto info = shared_client->Info();
  ASSERT_TRUE(info.ok());

  learner::LearnerOptions options;
  options.config = config;
  options.spec = info->spec();
  options.phase = "offline";
  options.checkpoint_path = dir + "/offline.pt";
  options.metrics = metrics.get();
  {
    auto offline = learner::Learner::Create(options, *shared_client);
    ASSERT_TRUE(offline.ok()) << offline.status();
    ASSERT_TRUE((*offline)->Train(20, nullptr, nullptr).ok());
  }

  // Online: the learner publishes; the actor subscribes, selects with CBS and streams.
  auto parameters = learner::ParameterServer::Start("127.0.0.1:0", SecurityConfig(), metrics.get());
  ASSERT_TRUE(parameters.ok());
  options.phase = "online";
  options.checkpoint_path = dir + "/online.pt";
  options.publisher = &(*parameters)->service();
  auto online = learner::Learner::Create(options, *shared_client);
  ASSERT_TRUE(online.ok());
  ASSERT_TRUE((*online)->StartOnlineFrom(dir + "/offline.pt").ok());
  ASSERT_TRUE((*online)->Publish().ok());

  actor::ActorOptions actor_options;
  actor_options.config = config;
  actor_options.replay = shared_client;
  actor_options.parameters = grpc::CreateChannel(
      "127.0.0.1:" + std::to_string((*parameters)->port()), grpc::InsecureChannelCredentials());
  actor_options.offline_checkpoint = dir + "/offline.pt";
  actor_options.metrics = metrics.get();
  auto actor = actor::Actor::Create(actor_options);
  ASSERT_TRUE(actor.ok()) << actor.status();

  std::atomic<bool> actor_done{false};
  absl::Status learner_status;
  std::thread learner_thread([&] {
    learner_status = (*online)->Train(
        std::numeric_limits<int64_t>::max(), [&] { return actor_done.load(); }, nullptr);
  });
  ASSERT_TRUE((*actor)->Run(nullptr, 1200).ok());
  (*actor)->sender().Close(absl::Seconds(30));
  actor_done = true;
  learner_thread.join();
  ASSERT_TRUE(learner_status.ok()) << learner_status;

  EXPECT_EQ((*actor)->stats().env_steps, 1200);
  EXPECT_EQ((*actor)->sender().acknowledged_transitions(), 1200);
  EXPECT_EQ((*actor)->sender().dropped_transitions(), 0);
  EXPECT_EQ((*replay)->service().online_size(), 1200);
  EXPECT_GE((*actor)->stats().episodes, 4 * (1200 / 4 / 40) - 4);
  EXPECT_GT((*online)->algorithm().updates(), 20);
  // The actor acted with weights newer than the initial version.
  EXPECT_GT((*actor)->stats().weights_version, 1u);
  EXPECT_GT(
      metrics->GetCounter("tandem_replay_sampled_transitions_total", "", {{"table", "online"}})
          .Value(),
      0);
  (*parameters)->Shutdown();
  (*replay)->Shutdown();
}

// Recorded actions of one actor with `threads` threads: 4 HalfCheetah-6x1 envs, 40-step episodes,
// CBS over random OMIGA networks, 160 env steps (one whole episode per env).
std::vector<float> RecordedActions(const std::string& dir, const std::string& checkpoint,
                                   int threads) {
  ExperimentConfig config;
  config.mutable_env()->set_name("mamujoco/HalfCheetah-6x1");
  (*config.mutable_env()->mutable_options())["episode_limit"] = "40";
  config.mutable_algorithm()->set_hidden_size(32);
  config.mutable_actors()->set_envs_per_actor(4);
  config.mutable_actors()->set_threads(threads);
  config.mutable_actors()->set_record_dir(dir);
  config.mutable_replay()->set_offline_ratio(0);
  config.mutable_replay()->set_address("127.0.0.1:0");
  FillDefaults(&config);
  auto metrics = *MetricsRegistry::Create("");
  auto replay = replay::ReplayServer::Start(config, metrics.get());
  EXPECT_TRUE(replay.ok()) << replay.status();
  if (!replay.ok()) return {};
  actor::ActorOptions options;
  options.config = config;
  options.replay = *replay::ReplayClient::Connect((*replay)->address(), SecurityConfig(), "");
  options.offline_checkpoint = checkpoint;
  auto actor = actor::Actor::Create(options);
  EXPECT_TRUE(actor.ok()) << actor.status();
  if (!actor.ok()) return {};
  EXPECT_TRUE((*actor)->Run(nullptr, 160).ok());
  (*actor)->sender().Close(absl::Seconds(30));
  (*replay)->Shutdown();
  auto data = OpenTandemDataset(dir + "/actor-0-00000.h5");
  EXPECT_TRUE(data.ok()) << data.status();
  if (!data.ok()) return {};
  EXPECT_EQ((*data)->size(), 160);
  std::vector<float> actions((*data)->size() * 6);
  EXPECT_TRUE((*data)->ReadColumn(Field::kActions, 0, (*data)->size(), actions.data()).ok());
  return actions;
}

// With two threads the pool steps across both and CBS's offline and online inference branches run
// in parallel; the transitions are exactly those of one thread (same seeds, same sampling order).
TEST(ActorLoop, TwoActorThreadsActExactlyAsOne) {
  const std::string dir = ::testing::TempDir() + "/actor_threads";
  fs::remove_all(dir);
  fs::create_directories(dir);
  learner::AlgorithmContext context;
  auto probe = envs::CreateEnv("mamujoco/HalfCheetah-6x1");
  ASSERT_TRUE(probe.ok());
  context.spec = (*probe)->spec().ToTransitionSpec();
  FillDefaults(&context.config);
  context.config.set_hidden_size(32);
  auto omiga = learner::Omiga::Create(context);
  ASSERT_TRUE(omiga.ok());
  const std::string checkpoint = dir + "/offline.pt";
  ASSERT_TRUE(
      learner::SaveCheckpoint(checkpoint, **omiga, {"omiga", context.spec, 0, 0, "offline"}).ok());
  const std::vector<float> one = RecordedActions(dir + "/one", checkpoint, 1);
  const std::vector<float> two = RecordedActions(dir + "/two", checkpoint, 2);
  ASSERT_EQ(one.size(), 160u * 6);
  EXPECT_EQ(one, two);
}

// A replay server in this process (shaped by `spec` when given) and one actor streaming to it,
// after `steps` env steps with the sender closed, so everything it sent is acknowledged.
struct StreamedRun {
  std::unique_ptr<MetricsRegistry> metrics;
  std::unique_ptr<replay::ReplayServer> replay;
  std::shared_ptr<replay::ReplayClient> client;
  std::unique_ptr<actor::Actor> actor;
};

void StreamSteps(const ExperimentConfig& config, const std::string& offline_checkpoint,
                 std::optional<TransitionSpec> spec, int64_t steps, StreamedRun* run) {
  run->metrics = *MetricsRegistry::Create("");
  auto replay = replay::ReplayServer::Start(config, run->metrics.get(), spec);
  ASSERT_TRUE(replay.ok()) << replay.status();
  run->replay = std::move(*replay);
  auto client = replay::ReplayClient::Connect(run->replay->address(), SecurityConfig(), "");
  ASSERT_TRUE(client.ok());
  run->client = std::move(*client);
  actor::ActorOptions options;
  options.config = config;
  options.replay = run->client;
  options.offline_checkpoint = offline_checkpoint;
  auto actor = actor::Actor::Create(options);
  ASSERT_TRUE(actor.ok()) << actor.status();
  run->actor = std::move(*actor);
  ASSERT_TRUE(run->actor->Run(nullptr, steps).ok());
  run->actor->sender().Close(absl::Seconds(30));
  EXPECT_EQ(run->actor->sender().acknowledged_transitions(), steps);
}

// Discrete, recurrent agents through the same machinery: the actor acts on smac/3m with the
// recurrent Q agent (qmix's acting policy) and sequential epsilon-greedy, streams transitions with
// availability masks over gRPC; they are sampled back with keys and every recorded action was
// available. The evaluator role evaluates the same family's offline checkpoint with the win rate.
TEST(ActorLoop, DiscreteRecurrentAgentsActOnSmacAndStreamMaskedTransitions) {
  const std::string dir = ::testing::TempDir() + "/actor_smac";
  fs::remove_all(dir);
  fs::create_directories(dir);
  ExperimentConfig config;
  config.mutable_env()->set_name("smac/3m");
  config.mutable_algorithm()->set_name("qmix");
  config.mutable_selector()->set_name("sequential-epsilon");
  config.mutable_selector()->set_epsilon_start(0.5);
  config.mutable_actors()->set_envs_per_actor(4);
  config.mutable_actors()->set_send_batch_transitions(40);
  config.mutable_replay()->set_offline_ratio(0);
  config.mutable_replay()->set_min_size_to_sample(16);
  config.mutable_replay()->set_address("127.0.0.1:0");
  config.mutable_evaluation()->set_episodes(3);
  FillDefaults(&config);

  // The offline agent: freshly initialised networks written as a checkpoint.
  auto probe = envs::CreateEnv("smac/3m");
  ASSERT_TRUE(probe.ok());
  const TransitionSpec spec = (*probe)->spec().ToTransitionSpec();
  const std::string checkpoint = dir + "/offline.pt";
  {
    networks::GruAgent agent(networks::GruAgentOptionsFor(spec, config.algorithm()));
    torch::serialize::OutputArchive archive;
    networks::WriteModules({{"agent", agent.get()}}, archive);
    archive.save_to(checkpoint);
  }

  StreamedRun run;
  ASSERT_NO_FATAL_FAILURE(StreamSteps(config, checkpoint, std::nullopt, 400, &run));
  EXPECT_EQ(run.replay->service().online_size(), 400);
  EXPECT_GT(run.actor->stats().episodes, 0);
  std::shared_ptr<replay::ReplayClient> shared_client = run.client;

  SampleRequest request;
  request.set_batch_size(64);
  request.set_num_batches(1);
  auto sampler = shared_client->NewSampler(request);
  SampleResponse response;
  ASSERT_TRUE(sampler->Next(&response).ok());
  const TransitionBatch& batch = response.batch().transitions();
  ASSERT_EQ(batch.actions().dtype(), DTYPE_INT32);
  ASSERT_EQ(batch.avail_actions().shape_size(), 3);
  ASSERT_EQ(batch.next_avail_actions().shape_size(), 3);
  ASSERT_EQ(response.batch().keys().shape(0), 64);
  const int k = spec.action_size();
  const auto* actions = reinterpret_cast<const int32_t*>(batch.actions().data().data());
  const std::string& avail = batch.avail_actions().data();
  for (int j = 0; j < 64 * spec.num_agents(); ++j) {
    ASSERT_EQ(avail[j * k + actions[j]], 1) << "row " << j / spec.num_agents();
  }
  const auto* keys = reinterpret_cast<const int64_t*>(response.batch().keys().data().data());
  for (int j = 0; j < 64; ++j) {
    EXPECT_GE(keys[j], 0);
    EXPECT_LT(keys[j], 400);
  }
  sampler->Cancel();
  run.replay->Shutdown();

  std::ostringstream log;
  actor::EvaluatorOptions evaluator;
  evaluator.config = config;
  evaluator.config.mutable_learner()->set_offline_checkpoint(checkpoint);
  ASSERT_TRUE(actor::RunEvaluator(
                  evaluator, [] { return false; }, log)
                  .ok());
  EXPECT_NE(log.str().find("evaluation offline"), std::string::npos) << log.str();
  EXPECT_NE(log.str().find("over 3 episodes, win rate "), std::string::npos) << log.str();
}

// The recurrent agent's hidden state belongs to one env and restarts with that env's episode: a
// pool of 3 envs is stepped with one batched GRU forward per step; then each env's recorded
// observations are replayed, episode by episode, through a fresh policy for that env alone, and its
// Q values must be the pool's, step for step, across several episode boundaries.
TEST(ActorLoop, RecurrentHiddenStateIsPerEnvAndResetWithItsEpisode) {
  const envs::EnvOptions options = {{"episode_limit", "12"}};
  AlgorithmConfig algorithm;
  FillDefaults(&algorithm);
  algorithm.set_name("qmix");
  auto probe = envs::CreateEnv("smac/3m", options);
  ASSERT_TRUE(probe.ok());
  const TransitionSpec spec = (*probe)->spec().ToTransitionSpec();
  const int64_t n = spec.num_agents(), o = spec.obs_size(), k = spec.action_size();
  const std::string checkpoint = ::testing::TempDir() + "/gru_reset_agent.pt";
  {
    torch::manual_seed(5);
    networks::GruAgent agent(networks::GruAgentOptionsFor(spec, algorithm));
    torch::serialize::OutputArchive archive;
    networks::WriteModules({{"agent", agent.get()}}, archive);
    archive.save_to(checkpoint);
  }
  auto make_policy = [&](int envs) {
    auto policy = policies::CreateActingPolicy(policies::PolicyContext{spec, algorithm, ""});
    EXPECT_TRUE(policy.ok()) << policy.status();
    EXPECT_TRUE((*policy)->LoadOnlineCheckpoint(checkpoint).ok());
    (*policy)->Begin(envs);
    return std::move(*policy);
  };
  policies::ProposalRequest request;
  request.online = policies::ProposalMode::kDeterministic;
  request.agent_q = true;
  at::Generator generator = at::detail::createCPUGenerator(1);

  constexpr int kEnvs = 3, kSteps = 40;
  auto pool = envs::EnvPool::Create("smac/3m", kEnvs, 7, 1, options);
  ASSERT_TRUE(pool.ok());
  ASSERT_TRUE((*pool)->ResetAll().ok());
  auto pooled = make_policy(kEnvs);
  // Per env and step: the inputs it acted on, its Q values, its action, whether it then restarted.
  struct Step {
    at::Tensor obs, avail, q, action;
    uint8_t finished;
  };
  std::vector<std::vector<Step>> record(kEnvs);
  int episodes = 0;
  for (int t = 0; t < kSteps; ++t) {
    policies::ActingInput input;
    input.obs = at::from_blob(const_cast<float*>((*pool)->obs().data()), {kEnvs, n, o}).clone();
    input.avail = at::from_blob(const_cast<uint8_t*>((*pool)->avail_actions().data()),
                                {kEnvs, n, k}, at::kByte)
                      .clone();
    auto proposals = pooled->Propose(input, request, generator, nullptr);
    ASSERT_TRUE(proposals.ok()) << proposals.status();
    pooled->Executed(proposals->online);
    const at::Tensor actions = proposals->online.to(at::kInt).contiguous();
    ASSERT_TRUE(
        (*pool)->Step({}, absl::MakeConstSpan(actions.data_ptr<int32_t>(), kEnvs * n)).ok());
    std::vector<uint8_t> finished(kEnvs);
    for (int e = 0; e < kEnvs; ++e) {
      finished[e] = (*pool)->terminated()[e] || (*pool)->truncated()[e];
      episodes += finished[e];
      record[e].push_back(Step{input.obs[e], input.avail[e], proposals->agent_q[e],
                               proposals->online[e], finished[e]});
    }
    ASSERT_TRUE((*pool)->ResetFinished().ok());
    pooled->Reset(finished);
  }
  EXPECT_GE(episodes, 6) << "too few episode boundaries to test the reset";
  for (int e = 0; e < kEnvs; ++e) {
    // Every episode of env e is replayed through a policy that has seen nothing else.
    std::unique_ptr<policies::ActingPolicy> alone;
    for (int t = 0; t < kSteps; ++t) {
      const Step& step = record[e][t];
      if (alone == nullptr) alone = make_policy(1);
      policies::ActingInput input;
      input.obs = step.obs.unsqueeze(0);
      input.avail = step.avail.unsqueeze(0);
      auto proposals = alone->Propose(input, request, generator, nullptr);
      ASSERT_TRUE(proposals.ok());
      const at::Tensor finite = step.q.isfinite();
      ASSERT_TRUE(at::equal(finite, proposals->agent_q[0].isfinite()));
      ASSERT_TRUE(at::allclose(step.q.masked_select(finite),
                               proposals->agent_q[0].masked_select(finite), 1e-5, 1e-6))
          << "env " << e << " step " << t;
      alone->Executed(step.action.unsqueeze(0));
      if (step.finished) alone.reset();
    }
  }
}

// With episode tables the actor streams whole padded episodes: every sampled item is a valid
// episode, and the env steps acknowledged are the steps taken (episodes still running when the
// actor stops are sent cut, bootstrapping from their last observation).
TEST(ActorLoop, RecurrentAgentsStreamWholeEpisodesToEpisodeTables) {
  ExperimentConfig config;
  config.mutable_env()->set_name("smac/3m");
  config.mutable_algorithm()->set_name("qmix");
  config.mutable_selector()->set_name("random");
  config.mutable_actors()->set_envs_per_actor(4);
  config.mutable_actors()->set_send_batch_transitions(100);
  config.mutable_replay()->set_offline_ratio(0);
  config.mutable_replay()->set_min_size_to_sample(1);
  config.mutable_replay()->set_address("127.0.0.1:0");
  config.mutable_replay()->set_shape_from_env(true);
  TableConfig* online = config.mutable_replay()->add_tables();
  online->set_name("online");
  online->set_item_kind(TableConfig::ITEM_KIND_EPISODE);
  online->set_capacity(1000);
  FillDefaults(&config);
  auto probe = envs::CreateEnv("smac/3m");
  ASSERT_TRUE(probe.ok());
  TransitionSpec spec = (*probe)->spec().ToTransitionSpec();
  spec.set_episode_steps((*probe)->spec().episode_limit + 1);
  const TransitionSchema schema = *TransitionSchema::Create(spec);

  StreamedRun run;
  ASSERT_NO_FATAL_FAILURE(StreamSteps(config, "", spec, 400, &run));
  const int64_t items = run.replay->service().online_size();
  EXPECT_GE(items, run.actor->stats().episodes);
  EXPECT_LE(items, run.actor->stats().episodes + 4);
  std::shared_ptr<replay::ReplayClient> shared_client = run.client;

  SampleRequest request;
  request.set_batch_size(32);
  request.set_num_batches(1);
  auto sampler = shared_client->NewSampler(request);
  SampleResponse response;
  ASSERT_TRUE(sampler->Next(&response).ok());
  const TransitionBatch& batch = response.batch().transitions();
  auto validated = schema.Validate(batch);
  ASSERT_TRUE(validated.ok()) << validated.status();
  EXPECT_EQ(*validated, 32);
  EXPECT_GT(schema.CountSteps(batch, 32), 32);
  sampler->Cancel();
  run.replay->Shutdown();
}

}  // namespace
}  // namespace tandem
