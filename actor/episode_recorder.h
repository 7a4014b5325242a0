// Records everything an actor generates as datasets on disk (actors.record_dir): whole per-env
// episodes in Tandem-format segment files <prefix>-<n>.h5 of about `segment_transitions` rows,
// each listed when complete in <prefix>-segments.csv with the learner steps of the weights that
// acted in it (discrete envs: one padded episode per row, as their actors send them). Dataset
// collection builds its medium-replay tier from the segments recorded before the medium
// checkpoint. Episodes unfinished at Close are dropped (they are not whole).
//
// Thread-safety: used by the actor's thread only.
#ifndef TANDEM_ACTOR_EPISODE_RECORDER_H_
#define TANDEM_ACTOR_EPISODE_RECORDER_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "actor/episode_buffer.h"
#include "common/dataset.h"
#include "envs/multi_agent_env.h"

namespace tandem::actor {

// One line of a segments index.
struct RecordedSegment {
  std::string file;  // relative to the index's directory
  int64_t transitions = 0;
  int64_t episodes = 0;
  // Learner steps of the oldest and newest weights that acted in the segment.
  int64_t min_learner_step = 0, max_learner_step = 0;
};

class EpisodeRecorder {
 public:
  static absl::StatusOr<std::unique_ptr<EpisodeRecorder>> Create(
      const std::string& dir, const std::string& prefix, const envs::EnvSpec& spec, int num_envs,
      int64_t segment_transitions, const DatasetMetadata& metadata);
  ~EpisodeRecorder();

  // A recorder of whole padded episodes (discrete envs with episode tables): `episode_spec` has
  // the episode layout, and AddEpisodes is used instead of Add.
  static absl::StatusOr<std::unique_ptr<EpisodeRecorder>> CreateForEpisodes(
      const std::string& dir, const std::string& prefix, const envs::EnvSpec& spec,
      const TransitionSpec& episode_spec, int64_t segment_transitions,
      const DatasetMetadata& metadata);
  // Finished episodes (episode layout) and their outcomes (`won`, one per episode), acted with
  // weights of learner steps in [min, max].
  absl::Status AddEpisodes(const TransitionBatch& episodes, const std::vector<uint8_t>& won,
                           int64_t min_learner_step, int64_t max_learner_step);

  // Env `env`'s transition, acted with weights of `learner_step`.
  absl::Status Add(int env, const float* obs, const float* state, const float* actions,
                   float reward, bool terminated, bool truncated, const float* next_obs,
                   const float* next_state, int64_t learner_step);
  // Finishes the open segment (dropping unfinished episodes).
  absl::Status Close();

 private:
  EpisodeRecorder(std::string dir, std::string prefix, const envs::EnvSpec& spec, int num_envs,
                  int64_t segment_transitions, DatasetMetadata metadata);
  // Starts a new segment file of rows of `spec` unless one is open.
  absl::Status OpenSegment(const TransitionSpec& spec);
  absl::Status FinishSegment();

  std::string dir_, prefix_;
  envs::EnvSpec spec_;
  int64_t segment_transitions_;
  DatasetMetadata metadata_;
  std::vector<EpisodeBuffer> episodes_;
  std::vector<int64_t> episode_min_step_, episode_max_step_;
  std::unique_ptr<DatasetWriter> writer_;
  RecordedSegment segment_;
  // Episode recorders only: the shapes of their rows.
  TransitionSpec episode_spec_;
  int next_segment_ = 0;
};

// Reads the segments index `path` (<prefix>-segments.csv); `file` entries become absolute.
absl::StatusOr<std::vector<RecordedSegment>> ReadSegmentIndex(const std::string& path);

}  // namespace tandem::actor

#endif  // TANDEM_ACTOR_EPISODE_RECORDER_H_
