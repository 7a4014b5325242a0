// One environment's transitions since its episode began, written to a dataset as one contiguous
// episode (so a dataset's episode boundaries and return statistics come out right even when many
// envs step in lockstep).
#ifndef TANDEM_ACTOR_EPISODE_BUFFER_H_
#define TANDEM_ACTOR_EPISODE_BUFFER_H_

#include <cstdint>
#include <vector>

#include "absl/status/status.h"
#include "common/dataset.h"
#include "envs/multi_agent_env.h"

namespace tandem::actor {

class EpisodeBuffer {
 public:
  explicit EpisodeBuffer(const envs::EnvSpec& spec) : spec_(&spec) {}

  // Appends one transition (continuous-action envs; sizes from the spec).
  void Add(const float* obs, const float* state, const float* actions, float reward,
           bool terminated, bool truncated, const float* next_obs, const float* next_state);
  // Marks the last transition truncated (an episode cut short by the end of recording).
  void MarkTruncated();
  // Appends the buffered episode to `writer` as one batch and clears the buffer.
  absl::Status FlushTo(DatasetWriter& writer);
  void Clear();

  int64_t rows() const { return rows_; }
  double episode_return() const { return return_; }

 private:
  const envs::EnvSpec* spec_;
  std::vector<float> obs_, state_, actions_, reward_, next_obs_, next_state_;
  std::vector<uint8_t> terminated_, truncated_;
  int64_t rows_ = 0;
  double return_ = 0;
};

}  // namespace tandem::actor

#endif  // TANDEM_ACTOR_EPISODE_BUFFER_H_
