#include "common/torch_tensor.h"

#include <ATen/ATen.h>

#include "common/tensor_proto.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace tandem {
namespace {

TEST(TorchTensor, RoundTripKeepsShapeDTypeAndValues) {
  for (at::ScalarType type : {at::kFloat, at::kDouble, at::kInt, at::kLong, at::kByte}) {
    at::Tensor original = at::arange(24, at::TensorOptions().dtype(type)).reshape({2, 3, 4});
    Tensor proto;
    ASSERT_TRUE(TorchToProto(original, &proto).ok());
    EXPECT_THAT(proto.shape(), ::testing::ElementsAre(2, 3, 4));
    auto back = ProtoToTorch(proto, "x");
    ASSERT_TRUE(back.ok()) << back.status();
    EXPECT_EQ(back->scalar_type(), type);
    EXPECT_TRUE(at::equal(*back, original));
  }
}

TEST(TorchTensor, BoolRoundTrips) {
  at::Tensor original = at::tensor({1, 0, 1}, at::kInt).to(at::kBool);
  Tensor proto;
  ASSERT_TRUE(TorchToProto(original, &proto).ok());
  EXPECT_EQ(proto.dtype(), DTYPE_BOOL);
  EXPECT_TRUE(at::equal(*ProtoToTorch(proto, "mask"), original));
}

TEST(TorchTensor, NonContiguousTensorIsWrittenInLogicalOrder) {
  at::Tensor base = at::arange(6, at::kFloat).reshape({2, 3});
  at::Tensor transposed = base.t();
  Tensor proto;
  ASSERT_TRUE(TorchToProto(transposed, &proto).ok());
  EXPECT_TRUE(at::equal(*ProtoToTorch(proto, "t"), transposed.contiguous()));
}

TEST(TorchTensor, UnsupportedDTypeIsAnError) {
  Tensor proto;
  EXPECT_FALSE(TorchToProto(at::zeros({2}, at::kHalf), &proto).ok());
}

TEST(TorchTensor, MalformedProtoIsRejectedWithTheName) {
  Tensor proto = MakeTensor<float>({3}, std::vector<float>{1, 2, 3});
  proto.mutable_data()->pop_back();
  auto result = ProtoToTorch(proto, "policy.w");
  ASSERT_FALSE(result.ok());
  EXPECT_THAT(result.status().message(), ::testing::HasSubstr("policy.w"));
}

}  // namespace
}  // namespace tandem
