#include "learner/stream_probe.h"

#include <ATen/Parallel.h>

#include "common/config.h"
#include "gtest/gtest.h"

namespace tandem::learner {
namespace {

AlgorithmContext SmallOmiga(const std::string& name) {
  AlgorithmContext context;
  context.spec.set_num_agents(3);
  context.spec.set_obs_size(6);
  context.spec.set_state_size(18);
  context.spec.set_action_type(ACTION_TYPE_CONTINUOUS);
  context.spec.set_action_size(2);
  FillDefaults(&context.config);
  context.config.set_name(name);
  context.config.set_hidden_size(16);
  return context;
}

TEST(StreamProbe, MeasuresBothModesAndPicksTheFasterOne) {
  at::set_num_threads(2);
  auto probe = ProbeUpdateStreams(SmallOmiga("omiga"), 32, 2, absl::Milliseconds(50));
  ASSERT_TRUE(probe.ok()) << probe.status();
  EXPECT_GT(probe->two_streams_rate, 0);
  EXPECT_GT(probe->one_stream_rate, 0);
  EXPECT_EQ(probe->streams, probe->two_streams_rate >= probe->one_stream_rate ? 2 : 1);
  EXPECT_EQ(at::get_num_threads(), 2) << "the probe must restore the intra-op thread count";
}

TEST(StreamProbe, AlgorithmsWithoutStreamsGetOneWithoutMeasuring) {
  auto probe = ProbeUpdateStreams(SmallOmiga("masac"), 32, 2, absl::Milliseconds(50));
  ASSERT_TRUE(probe.ok()) << probe.status();
  EXPECT_EQ(probe->streams, 1);
  EXPECT_EQ(probe->one_stream_rate, 0);
}

}  // namespace
}  // namespace tandem::learner
