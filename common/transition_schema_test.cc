#include "common/transition_schema.h"

#include <cmath>
#include <cstring>
#include <limits>

#include "common/tensor_proto.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/transition_testing.h"

namespace tandem {
namespace {

using testing::ContinuousSpec;
using testing::DiscreteSpec;
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

}  // namespace
}  // namespace tandem
