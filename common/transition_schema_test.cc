#include "common/transition_schema.h"

#include <cmath>
#include <cstring>
#include <functional>
#include <limits>

#include "common/tensor_proto.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/transition_testing.h"

namespace tandem {
namespace {

using testing::ContinuousSpec;
using testing::DiscreteSpec;
using testing::EpisodeLength;
using testing::EpisodeSpec;
using ::testing::HasSubstr;
using testing::MakeBatch;

TransitionSchema Schema(const TransitionSpec& spec) { return *TransitionSchema::Create(spec); }

TEST(TransitionSchema, ContinuousSpecHasEightColumnsWithRowShapes) {
  TransitionSchema schema = Schema(ContinuousSpec(3, 5, 7, 2));
  ASSERT_EQ(schema.columns().size(), 8u);
  EXPECT_EQ(schema.Find(Field::kObs)->row_bytes, 3 * 5 * 4);
  EXPECT_EQ(schema.Find(Field::kActions)->dtype, DTYPE_FLOAT32);
  EXPECT_THAT(schema.Find(Field::kActions)->row_shape, ::testing::ElementsAre(3, 2));
  EXPECT_EQ(schema.Find(Field::kAvailActions), nullptr);
  EXPECT_EQ(schema.row_bytes(), 2 * (60 + 28) + 24 + 4 + 1 + 1);
}

TEST(TransitionSchema, DiscreteSpecHasIndexActionsAndMasks) {
  TransitionSchema schema = Schema(DiscreteSpec(3, 5, 7, 4));
  EXPECT_EQ(schema.columns().size(), 10u);
  EXPECT_EQ(schema.Find(Field::kActions)->dtype, DTYPE_INT32);
  EXPECT_THAT(schema.Find(Field::kActions)->row_shape, ::testing::ElementsAre(3));
  EXPECT_THAT(schema.Find(Field::kNextAvailActions)->row_shape, ::testing::ElementsAre(3, 4));
}

TEST(TransitionSchema, BadSpecsAreRejectedNamingTheField) {
  TransitionSpec spec = ContinuousSpec();
  spec.set_num_agents(0);
  EXPECT_THAT(TransitionSchema::Create(spec).status().message(), HasSubstr("spec.num_agents"));
  spec = ContinuousSpec();
  spec.set_has_avail_actions(true);
  EXPECT_THAT(TransitionSchema::Create(spec).status().message(), HasSubstr("has_avail_actions"));
  spec = DiscreteSpec();
  spec.set_action_size(1);
  EXPECT_THAT(TransitionSchema::Create(spec).status().message(), HasSubstr("action_size"));
  spec = ContinuousSpec(2, 5);
  spec.add_agent_obs_sizes(5);
  spec.add_agent_obs_sizes(6);
  EXPECT_THAT(TransitionSchema::Create(spec).status().message(), HasSubstr("agent_obs_sizes"));
}

// A spec a client claims (the first insert into an unshaped table) cannot ask for unbounded
// memory: sizes beyond any env are INVALID_ARGUMENT, never an allocation failure.
TEST(TransitionSchema, HugeClaimedSizesAreRefusedBeforeAnyAllocation) {
  TransitionSpec spec = ContinuousSpec();
  spec.set_num_agents(1 << 30);
  EXPECT_THAT(TransitionSchema::Create(spec).status().message(), HasSubstr("spec.num_agents"));
  spec = ContinuousSpec();
  spec.set_obs_size(std::numeric_limits<int32_t>::max());
  EXPECT_THAT(TransitionSchema::Create(spec).status().message(), HasSubstr("obs_size"));
  spec = EpisodeSpec(4000, 1 << 20, 8, 4, 60000);
  auto huge = TransitionSchema::Create(spec);
  EXPECT_TRUE(absl::IsInvalidArgument(huge.status()));
  EXPECT_THAT(huge.status().message(), HasSubstr("one item would take"));
  // The inferred spec of a batch whose obs tensor claims a huge per-row size.
  TransitionBatch batch = MakeBatch(Schema(ContinuousSpec()), 2, 0);
  batch.mutable_obs()->set_shape(2, int64_t{1} << 40);
  batch.mutable_next_obs()->set_shape(2, int64_t{1} << 40);
  auto inferred = InferSpec(batch);
  const absl::Status status =
      inferred.ok() ? TransitionSchema::Create(*inferred).status() : inferred.status();
  EXPECT_TRUE(absl::IsInvalidArgument(status)) << status;
}

TEST(TransitionSchema, ValidBatchesPassAndReportTheirLength) {
  for (const TransitionSpec& spec : {ContinuousSpec(), DiscreteSpec()}) {
    TransitionSchema schema = Schema(spec);
    auto length = schema.Validate(MakeBatch(schema, 17, 100));
    ASSERT_TRUE(length.ok()) << length.status();
    EXPECT_EQ(*length, 17);
  }
}

TEST(TransitionSchema, WrongShapeIsRejectedNamingTheField) {
  TransitionSchema schema = Schema(ContinuousSpec(3, 5, 7, 2));
  TransitionBatch batch = MakeBatch(schema, 4, 0);
  *batch.mutable_next_obs() = MakeTensor<float>({4, 3, 4}, std::vector<float>(48, 0.f));
  absl::Status status = schema.Validate(batch).status();
  EXPECT_TRUE(absl::IsInvalidArgument(status));
  EXPECT_THAT(status.message(),
              HasSubstr("next_obs: expected shape [4, 3, 5], got float32[4, 3, 4]"));
}

TEST(TransitionSchema, MismatchedLengthsAreRejected) {
  TransitionSchema schema = Schema(ContinuousSpec());
  TransitionBatch batch = MakeBatch(schema, 4, 0);
  *batch.mutable_state() = MakeBatch(schema, 5, 0).state();
  EXPECT_THAT(schema.Validate(batch).status().message(), HasSubstr("state: expected shape [4, 7]"));
}

TEST(TransitionSchema, MissingColumnIsRejected) {
  TransitionSchema schema = Schema(ContinuousSpec());
  TransitionBatch batch = MakeBatch(schema, 4, 0);
  batch.clear_truncated();
  EXPECT_THAT(schema.Validate(batch).status().message(), HasSubstr("truncated"));
}

TEST(TransitionSchema, EmptyBatchIsRejected) {
  TransitionSchema schema = Schema(ContinuousSpec());
  EXPECT_THAT(schema.Validate(TransitionBatch()).status().message(), HasSubstr("reward"));
}

TEST(TransitionSchema, NonFiniteValuesAreRejectedWithTheirPosition) {
  TransitionSchema schema = Schema(ContinuousSpec(3, 5, 7, 2));
  for (float bad : {std::numeric_limits<float>::quiet_NaN(), std::numeric_limits<float>::infinity(),
                    -std::numeric_limits<float>::infinity()}) {
    TransitionBatch batch = MakeBatch(schema, 4, 0);
    std::string* data = batch.mutable_obs()->mutable_data();
    std::memcpy(data->data() + 4 * (2 * 15 + 6), &bad, 4);
    absl::Status status = schema.Validate(batch).status();
    EXPECT_THAT(status.message(), HasSubstr("obs: non-finite value at transition 2 (element 6)"));
  }
}

TEST(TransitionSchema, DoneFlagsMustBeBinary) {
  TransitionSchema schema = Schema(ContinuousSpec());
  TransitionBatch batch = MakeBatch(schema, 4, 0);
  (*batch.mutable_terminated()->mutable_data())[3] = 2;
  EXPECT_THAT(schema.Validate(batch).status().message(),
              HasSubstr("terminated: value 2 at transition 3 is not 0 or 1"));
}

TEST(TransitionSchema, DiscreteActionsMustBeInRangeAndAvailable) {
  TransitionSchema schema = Schema(DiscreteSpec(3, 5, 7, 4));
  TransitionBatch batch = MakeBatch(schema, 4, 0);
  int32_t bad = 4;
  std::memcpy(batch.mutable_actions()->mutable_data()->data() + 4 * 5, &bad, 4);
  EXPECT_THAT(schema.Validate(batch).status().message(),
              HasSubstr("agent 2 at transition 1 took action 4, outside [0, 4)"));

  batch = MakeBatch(schema, 4, 0);  // row 0 takes action 0 for every agent
  (*batch.mutable_avail_actions()->mutable_data())[1 * 4 + 0] = 0;
  EXPECT_THAT(schema.Validate(batch).status().message(), HasSubstr("marks unavailable"));
}

TEST(TransitionSchema, ExtraColumnsAreRejected) {
  TransitionSchema schema = Schema(ContinuousSpec(3, 5, 7, 2));
  TransitionBatch batch = MakeBatch(schema, 2, 0);
  *batch.mutable_avail_actions() = MakeTensor<uint8_t>({2, 3, 2}, std::vector<uint8_t>(12, 1));
  EXPECT_THAT(schema.Validate(batch).status().message(),
              HasSubstr("avail_actions: present, but the table's spec has no such column"));
}

TEST(TransitionSchema, CompatibleComparesShapesNotNames) {
  TransitionSpec a = ContinuousSpec();
  TransitionSpec b = a;
  b.set_env_name("other");
  EXPECT_TRUE(TransitionSchema::Compatible(a, b));
  b.set_state_size(8);
  EXPECT_FALSE(TransitionSchema::Compatible(a, b));
}

TEST(TransitionSchema, EpisodeSpecHasPaddedEpisodeColumns) {
  TransitionSchema schema = Schema(EpisodeSpec(3, 5, 7, 4, 6));
  ASSERT_TRUE(schema.episodic());
  std::vector<std::string> names;
  for (const Column& column : schema.columns())
    names.push_back(std::string(FieldName(column.field)));
  EXPECT_EQ(names, (std::vector<std::string>{"obs", "state", "actions", "avail_actions", "reward",
                                             "terminated", "filled"}));
  EXPECT_EQ(schema.Find(Field::kObs)->row_shape, (std::vector<int64_t>{6, 3, 5}));
  EXPECT_EQ(schema.Find(Field::kAvailActions)->row_shape, (std::vector<int64_t>{6, 3, 4}));
  EXPECT_EQ(schema.Find(Field::kFilled)->row_shape, (std::vector<int64_t>{6}));
  // Continuous actions or a one-entry item have no episode layout.
  TransitionSpec bad = ContinuousSpec();
  bad.set_episode_steps(6);
  EXPECT_THAT(TransitionSchema::Create(bad).status().message(), HasSubstr("spec.episode_steps"));
  bad = EpisodeSpec();
  bad.set_episode_steps(1);
  EXPECT_THAT(TransitionSchema::Create(bad).status().message(), HasSubstr("spec.episode_steps"));
}

TEST(TransitionSchema, ValidEpisodesPassAndCountTheirSteps) {
  TransitionSchema schema = Schema(EpisodeSpec(3, 5, 7, 4, 6));
  TransitionBatch batch = MakeBatch(schema, 7, 0);
  auto rows = schema.Validate(batch);
  ASSERT_TRUE(rows.ok()) << rows.status();
  EXPECT_EQ(*rows, 7);
  int64_t steps = 0;
  for (int64_t id = 0; id < 7; ++id) steps += EpisodeLength(schema.spec(), id);
  EXPECT_EQ(schema.CountSteps(batch, 7), steps);
  EXPECT_EQ(NumSteps(batch), steps);
  auto inferred = InferSpec(batch);
  ASSERT_TRUE(inferred.ok()) << inferred.status();
  EXPECT_TRUE(TransitionSchema::Compatible(*inferred, schema.spec()));
  EXPECT_FALSE(TransitionSchema::Compatible(DiscreteSpec(3, 5, 7, 4), schema.spec()));
}

// Every broken episode is refused with INVALID_ARGUMENT naming the field.
TEST(TransitionSchema, InvalidEpisodesAreRejectedNamingTheField) {
  TransitionSchema schema = Schema(EpisodeSpec(2, 3, 4, 4, 6));
  const int64_t l = 6, n = 2, k = 4;
  // Item 3 (id 3): 4 steps, entries 0..4 filled, action 3 everywhere, not terminated.
  auto expect = [&](const std::function<void(TransitionBatch&)>& corrupt, const std::string& what) {
    TransitionBatch batch = MakeBatch(schema, 4, 0);
    corrupt(batch);
    absl::Status status = schema.Validate(batch).status();
    EXPECT_TRUE(absl::IsInvalidArgument(status)) << what;
    EXPECT_THAT(status.message(), HasSubstr(what));
    EXPECT_THAT(status.message(), HasSubstr("(episode 3)"));
  };
  auto bytes = [](TransitionBatch& batch, Field field) {
    return MutableField(&batch, field)->mutable_data()->data();
  };
  // An action the mask marks unavailable.
  expect(
      [&](TransitionBatch& b) {
        bytes(b, Field::kAvailActions)[((3 * l + 2) * n + 1) * k + 3] = 0;
      },
      "actions: agent 1 at entry 2 took action 3, which avail_actions marks unavailable");
  // A hole in filled.
  expect([&](TransitionBatch& b) { bytes(b, Field::kFilled)[3 * l + 2] = 0; },
         "filled: entry 3 is 1 after entry 2 is 0");
  // No step at all.
  expect([&](TransitionBatch& b) { std::memset(bytes(b, Field::kFilled) + 3 * l + 1, 0, 5); },
         "filled: 1 filled entries");
  // Terminated before the last step.
  expect([&](TransitionBatch& b) { bytes(b, Field::kTerminated)[3 * l + 1] = 1; },
         "terminated: set at entry 1 but the episode's last step is entry 3");
  // An agent without any available action at a filled entry.
  expect(
      [&](TransitionBatch& b) {
        std::memset(bytes(b, Field::kAvailActions) + (3 * l + 4) * n * k, 0, k);
      },
      "avail_actions: agent 0 has no available action at entry 4");
  // Data in the padding.
  expect(
      [&](TransitionBatch& b) {
        const float one = 1;
        std::memcpy(bytes(b, Field::kObs) + 4 * ((3 * l + 5) * n * 3), &one, 4);
      },
      "obs: padding after entry 4 must be zero");
  // A reward after the last step.
  expect(
      [&](TransitionBatch& b) {
        const float one = 1;
        std::memcpy(bytes(b, Field::kReward) + 4 * (3 * l + 4), &one, 4);
      },
      "reward: entry 4 is past the episode's last step");
  // Wrong item length.
  TransitionBatch batch = MakeBatch(Schema(EpisodeSpec(2, 3, 4, 4, 7)), 2, 0);
  EXPECT_THAT(schema.Validate(batch).status().message(),
              HasSubstr("reward: expected shape [*, 6]"));
}

}  // namespace
}  // namespace tandem
