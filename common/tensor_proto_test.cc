#include "common/tensor_proto.h"

#include <cstdint>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace tandem {
namespace {

using ::testing::HasSubstr;

TEST(TensorProto, FloatMatrixRoundTrips) {
  const std::vector<float> values = {1.f, 2.f, 3.f, 4.f, 5.f, 6.f};
  Tensor tensor = MakeTensor<float>({2, 3}, values);
  EXPECT_EQ(tensor.dtype(), DTYPE_FLOAT32);
  EXPECT_THAT(tensor.shape(), ::testing::ElementsAre(2, 3));
  ASSERT_TRUE(ValidateTensor(tensor, "x").ok());
  std::vector<float> back(6);
  ASSERT_TRUE(CopyTensorData<float>(tensor, "x", absl::MakeSpan(back)).ok());
  EXPECT_EQ(back, values);
}

TEST(TensorProto, BytesAreLittleEndian) {
  Tensor tensor = MakeTensor<int32_t>({1}, std::vector<int32_t>{0x01020304});
  ASSERT_EQ(tensor.data().size(), 4u);
  EXPECT_EQ(static_cast<uint8_t>(tensor.data()[0]), 0x04);
  EXPECT_EQ(static_cast<uint8_t>(tensor.data()[3]), 0x01);
}

TEST(TensorProto, ScalarHasOneElement) {
  Tensor tensor = MakeTensor<double>({}, std::vector<double>{2.5});
  EXPECT_TRUE(ValidateTensor(tensor, "s").ok());
  EXPECT_EQ(*NumElements(tensor.shape()), 1);
}

TEST(TensorProto, EveryDTypeHasASizeAndName) {
  EXPECT_EQ(DTypeSize(DTYPE_FLOAT32), 4u);
  EXPECT_EQ(DTypeSize(DTYPE_FLOAT64), 8u);
  EXPECT_EQ(DTypeSize(DTYPE_INT32), 4u);
  EXPECT_EQ(DTypeSize(DTYPE_INT64), 8u);
  EXPECT_EQ(DTypeSize(DTYPE_UINT8), 1u);
  EXPECT_EQ(DTypeSize(DTYPE_BOOL), 1u);
  EXPECT_EQ(DTypeSize(DTYPE_UNSPECIFIED), 0u);
  EXPECT_EQ(DTypeName(DTYPE_INT64), "int64");
}

TEST(TensorProto, TooFewBytesAreRejectedWithTheName) {
  Tensor tensor = MakeTensor<float>({2, 3}, std::vector<float>(6, 0.f));
  tensor.mutable_data()->resize(20);
  absl::Status status = ValidateTensor(tensor, "obs");
  EXPECT_TRUE(absl::IsInvalidArgument(status));
  EXPECT_THAT(status.message(), HasSubstr("obs"));
  EXPECT_THAT(status.message(), HasSubstr("float32[2, 3]"));
  EXPECT_THAT(status.message(), HasSubstr("got 20"));
}

TEST(TensorProto, NegativeDimensionIsRejected) {
  Tensor tensor;
  tensor.set_dtype(DTYPE_FLOAT32);
  tensor.add_shape(-2);
  EXPECT_THAT(ValidateTensor(tensor, "state").message(), HasSubstr("negative dimension"));
}

TEST(TensorProto, OverflowingShapeIsRejected) {
  Tensor tensor;
  tensor.set_dtype(DTYPE_FLOAT64);
  for (int i = 0; i < 4; ++i) tensor.add_shape(int64_t{1} << 20);
  EXPECT_FALSE(ValidateTensor(tensor, "big").ok());
}

TEST(TensorProto, UnspecifiedDTypeIsRejected) {
  Tensor tensor;
  tensor.add_shape(0);
  EXPECT_THAT(ValidateTensor(tensor, "r").message(), HasSubstr("unspecified"));
}

TEST(TensorProto, ExpectTensorChecksDTypeAndShapeWithWildcards) {
  Tensor tensor = MakeTensor<float>({4, 2, 3}, std::vector<float>(24, 0.f));
  EXPECT_TRUE(ExpectTensor(tensor, "obs", DTYPE_FLOAT32, {-1, 2, 3}).ok());
  absl::Status wrong_shape = ExpectTensor(tensor, "obs", DTYPE_FLOAT32, {-1, 2, 5});
  EXPECT_THAT(wrong_shape.message(), HasSubstr("expected shape [*, 2, 5], got float32[4, 2, 3]"));
  absl::Status wrong_dtype = ExpectTensor(tensor, "obs", DTYPE_INT32, {-1, 2, 3});
  EXPECT_THAT(wrong_dtype.message(), HasSubstr("expected dtype int32"));
}

TEST(TensorProto, CopyRejectsWrongTypeAndWrongCount) {
  Tensor tensor = MakeTensor<int32_t>({3}, std::vector<int32_t>{1, 2, 3});
  std::vector<float> as_float(3);
  EXPECT_FALSE(CopyTensorData<float>(tensor, "a", absl::MakeSpan(as_float)).ok());
  std::vector<int32_t> too_small(2);
  EXPECT_FALSE(CopyTensorData<int32_t>(tensor, "a", absl::MakeSpan(too_small)).ok());
}

}  // namespace
}  // namespace tandem
