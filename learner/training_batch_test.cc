#include "learner/training_batch.h"

#include <ATen/ATen.h>

#include "common/torch_tensor.h"
#include "gtest/gtest.h"
#include "tests/transition_testing.h"

namespace tandem::learner {
namespace {

TEST(TrainingBatch, CarriesMasksTruncationKeysProbabilitiesAndTables) {
  const TransitionSchema schema = *TransitionSchema::Create(testing::DiscreteSpec(3, 5, 7, 4));
  SampledBatch sampled;
  *sampled.mutable_transitions() = testing::MakeBatch(schema, 6, 100);
  // Rows 1 and 4 were cut by the time limit; action 2 of agent 0 is unavailable at s' of row 3.
  std::string& truncated = *sampled.mutable_transitions()->mutable_truncated()->mutable_data();
  truncated[1] = truncated[4] = 1;
  (*sampled.mutable_transitions()->mutable_next_avail_actions()->mutable_data())[3 * 12 + 2] = 0;
  const at::Tensor source = at::tensor({1, 1, 2, 2, 2, 2}, at::TensorOptions().dtype(at::kByte));
  const at::Tensor keys = at::tensor({7, 9, 0, 3, 5, 8}, at::TensorOptions().dtype(at::kLong));
  const at::Tensor probabilities =
      at::tensor({0.1, 0.1, 0.25, 0.25, 0.25, 0.25}, at::TensorOptions().dtype(at::kDouble));
  ASSERT_TRUE(TorchToProto(source, sampled.mutable_source()).ok());
  ASSERT_TRUE(TorchToProto(keys, sampled.mutable_keys()).ok());
  ASSERT_TRUE(TorchToProto(probabilities, sampled.mutable_probabilities()).ok());

  auto batch = ToTrainingBatch(sampled, c10::Device(c10::kCPU));
  ASSERT_TRUE(batch.ok()) << batch.status();
  EXPECT_EQ(batch->size(), 6);
  EXPECT_EQ(batch->actions.scalar_type(), at::kLong);
  EXPECT_TRUE(batch->truncated.equal(at::tensor({0.f, 1.f, 0.f, 0.f, 1.f, 0.f})));
  ASSERT_TRUE(batch->avail_actions.defined());
  EXPECT_EQ(batch->avail_actions.sizes(), (std::vector<int64_t>{6, 3, 4}));
  EXPECT_EQ(batch->next_avail_actions.scalar_type(), at::kBool);
  EXPECT_FALSE(batch->next_avail_actions[3][0][2].item<bool>());
  EXPECT_TRUE(batch->next_avail_actions[3][0][1].item<bool>());
  EXPECT_TRUE(batch->keys.equal(keys));
  EXPECT_TRUE(batch->probabilities.equal(probabilities));
  EXPECT_TRUE(batch->source.equal(source));
  EXPECT_TRUE(batch->offline.equal(at::tensor({1, 1, 0, 0, 0, 0}).to(at::kBool)));
}

TEST(TrainingBatch, ContinuousBatchesHaveNoMasks) {
  const TransitionSchema schema = *TransitionSchema::Create(testing::ContinuousSpec());
  auto batch = ToTrainingBatch(testing::MakeBatch(schema, 4, 0), c10::Device(c10::kCPU));
  ASSERT_TRUE(batch.ok()) << batch.status();
  EXPECT_FALSE(batch->avail_actions.defined());
  EXPECT_FALSE(batch->keys.defined());
  EXPECT_EQ(batch->truncated.size(0), 4);
}

}  // namespace
}  // namespace tandem::learner
