// The actor's episode assembler: items padded to the episode limit, every entry past an episode's
// end zero even when the env's previous episode (built in the same buffer) was longer.
#include "actor/episode_assembler.h"

#include <gtest/gtest.h>

#include <cstring>
#include <vector>

#include "tests/transition_testing.h"

namespace tandem::actor {
namespace {

constexpr int kAgents = 2, kObs = 3, kState = 2, kActions = 3, kLimit = 8;

// Steps env 0 for `steps` steps with every value set to `value`, ending the last one as given.
void PlayEpisode(EpisodeAssembler& episodes, int steps, float value, bool terminated) {
  const std::vector<float> obs(kAgents * kObs, value), state(kState, value);
  const std::vector<uint8_t> avail(kAgents * kActions, 1);
  const std::vector<int32_t> actions(kAgents, 2);
  for (int t = 0; t < steps; ++t) {
    const bool last = t == steps - 1;
    EpisodeStep step{obs.data(),   state.data(),       avail.data(),        actions.data(),
                     value,        last && terminated, last && !terminated, obs.data(),
                     state.data(), avail.data()};
    episodes.Add(0, step);
  }
}

// Entry `t` of item `item` in one column, as bytes.
std::vector<uint8_t> EntryBytes(const Tensor& column, int64_t items, int64_t item, int64_t t) {
  const std::string& data = column.data();
  const size_t per_entry = data.size() / (items * kLimit);
  const size_t offset = (item * kLimit + t) * per_entry;
  return std::vector<uint8_t>(data.begin() + offset, data.begin() + offset + per_entry);
}

TEST(EpisodeAssembler, EntriesPastAShorterEpisodesEndAreZeroAfterALongerOne) {
  const TransitionSpec spec =
      testing::EpisodeSpec(kAgents, kObs, kState, kActions, /*episode_steps=*/kLimit);
  auto episodes = EpisodeAssembler::Create(spec, /*num_envs=*/1);
  ASSERT_TRUE(episodes.ok()) << episodes.status();
  PlayEpisode(*episodes, /*steps=*/6, /*value=*/7, /*terminated=*/true);
  PlayEpisode(*episodes, /*steps=*/2, /*value=*/5, /*terminated=*/false);
  EXPECT_EQ(episodes->finished_episodes(), 2);
  EXPECT_EQ(episodes->finished_steps(), 8);
  const TransitionBatch batch = episodes->TakeFinished();

  auto schema = TransitionSchema::Create(spec);
  ASSERT_TRUE(schema.ok());
  const absl::StatusOr<int64_t> items = schema->Validate(batch);
  ASSERT_TRUE(items.ok()) << items.status();
  EXPECT_EQ(*items, 2);

  for (const Tensor* column :
       {&batch.obs(), &batch.state(), &batch.actions(), &batch.avail_actions(), &batch.reward(),
        &batch.terminated(), &batch.filled()}) {
    // The second episode: 2 steps and its final observation in entries 0..2, zero after.
    for (int64_t t = 3; t < kLimit; ++t) {
      for (uint8_t byte : EntryBytes(*column, 2, 1, t)) ASSERT_EQ(byte, 0) << "entry " << t;
    }
    // The first: entries 0..6 written, entry 7 zero.
    for (uint8_t byte : EntryBytes(*column, 2, 0, kLimit - 1)) ASSERT_EQ(byte, 0);
  }
  // Its written entries hold its own values, not the first episode's.
  float value = 0;
  std::memcpy(&value, batch.obs().data().data() + kLimit * kAgents * kObs * sizeof(float),
              sizeof(float));
  EXPECT_EQ(value, 5);
  std::memcpy(&value, batch.reward().data().data() + (kLimit + 1) * sizeof(float), sizeof(float));
  EXPECT_EQ(value, 5);
}

}  // namespace
}  // namespace tandem::actor
