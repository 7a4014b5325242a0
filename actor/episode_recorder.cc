#include "actor/episode_recorder.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <limits>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "common/files.h"
#include "common/status_macros.h"

namespace tandem::actor {
namespace {

constexpr char kIndexHeader[] = "file,transitions,episodes,min_learner_step,max_learner_step";

std::string IndexPath(const std::string& dir, const std::string& prefix) {
  return absl::StrCat(dir, "/", prefix, "-segments.csv");
}

// Creates `dir` and a fresh, empty segments index for `prefix` (a restarted actor starts over
// under the same prefix).
absl::Status StartIndex(const std::string& dir, const std::string& prefix) {
  std::error_code error;
  std::filesystem::create_directories(dir, error);
  if (error) {
    return absl::PermissionDeniedError(
        absl::StrCat("actors.record_dir: cannot create ", dir, ": ", error.message()));
  }
  return WriteFileAtomically(IndexPath(dir, prefix), absl::StrCat(kIndexHeader, "\n"));
}

}  // namespace

absl::StatusOr<std::unique_ptr<EpisodeRecorder>> EpisodeRecorder::Create(
    const std::string& dir, const std::string& prefix, const envs::EnvSpec& spec, int num_envs,
    int64_t segment_transitions, const DatasetMetadata& metadata) {
  if (spec.action_type != ACTION_TYPE_CONTINUOUS) {
    return absl::InvalidArgumentError(
        "actors.record_dir: discrete-action envs are recorded as whole episodes; use "
        "CreateForEpisodes (actors with episode tables do)");
  }
  RETURN_IF_ERROR(StartIndex(dir, prefix));
  return std::unique_ptr<EpisodeRecorder>(
      new EpisodeRecorder(dir, prefix, spec, num_envs, segment_transitions, metadata));
}

absl::StatusOr<std::unique_ptr<EpisodeRecorder>> EpisodeRecorder::CreateForEpisodes(
    const std::string& dir, const std::string& prefix, const envs::EnvSpec& spec,
    const TransitionSpec& episode_spec, int64_t segment_transitions,
    const DatasetMetadata& metadata) {
  if (episode_spec.episode_steps() <= 0) {
    return absl::InvalidArgumentError("actors.record_dir: the episode spec has no episode layout");
  }
  RETURN_IF_ERROR(StartIndex(dir, prefix));
  std::unique_ptr<EpisodeRecorder> recorder(
      new EpisodeRecorder(dir, prefix, spec, 0, segment_transitions, metadata));
  recorder->episode_spec_ = episode_spec;
  return recorder;
}

absl::Status EpisodeRecorder::AddEpisodes(const TransitionBatch& episodes,
                                          const std::vector<uint8_t>& won, int64_t min_learner_step,
                                          int64_t max_learner_step) {
  if (episode_spec_.episode_steps() <= 0) {
    return absl::FailedPreconditionError("EpisodeRecorder::AddEpisodes needs CreateForEpisodes");
  }
  const int64_t items = NumTransitions(episodes);
  if (items == 0) return absl::OkStatus();
  RETURN_IF_ERROR(OpenSegment(episode_spec_));
  RETURN_IF_ERROR(writer_->Append(episodes, &won));
  segment_.transitions += NumSteps(episodes);
  segment_.episodes += items;
  segment_.min_learner_step = std::min(segment_.min_learner_step, min_learner_step);
  segment_.max_learner_step = std::max(segment_.max_learner_step, max_learner_step);
  if (segment_.transitions >= segment_transitions_) return FinishSegment();
  return absl::OkStatus();
}

EpisodeRecorder::EpisodeRecorder(std::string dir, std::string prefix, const envs::EnvSpec& spec,
                                 int num_envs, int64_t segment_transitions,
                                 DatasetMetadata metadata)
    : dir_(std::move(dir)),
      prefix_(std::move(prefix)),
      spec_(spec),
      segment_transitions_(segment_transitions),
      metadata_(std::move(metadata)),
      episodes_(num_envs, EpisodeBuffer(spec_)),
      episode_min_step_(num_envs, std::numeric_limits<int64_t>::max()),
      episode_max_step_(num_envs, 0) {}

EpisodeRecorder::~EpisodeRecorder() = default;  // an unfinished writer removes its temporary file

absl::Status EpisodeRecorder::Add(int env, const float* obs, const float* state,
                                  const float* actions, float reward, bool terminated,
                                  bool truncated, const float* next_obs, const float* next_state,
                                  int64_t learner_step) {
  EpisodeBuffer& episode = episodes_[env];
  episode.Add(obs, state, actions, reward, terminated, truncated, next_obs, next_state);
  episode_min_step_[env] = std::min(episode_min_step_[env], learner_step);
  episode_max_step_[env] = std::max(episode_max_step_[env], learner_step);
  if (!terminated && !truncated) return absl::OkStatus();
  RETURN_IF_ERROR(OpenSegment(spec_.ToTransitionSpec()));
  segment_.transitions += episode.rows();
  segment_.episodes += 1;
  segment_.min_learner_step = std::min(segment_.min_learner_step, episode_min_step_[env]);
  segment_.max_learner_step = std::max(segment_.max_learner_step, episode_max_step_[env]);
  episode_min_step_[env] = std::numeric_limits<int64_t>::max();
  episode_max_step_[env] = 0;
  RETURN_IF_ERROR(episode.FlushTo(*writer_));
  if (segment_.transitions >= segment_transitions_) return FinishSegment();
  return absl::OkStatus();
}

absl::Status EpisodeRecorder::OpenSegment(const TransitionSpec& spec) {
  if (writer_ != nullptr) return absl::OkStatus();
  segment_ = RecordedSegment();
  segment_.file = absl::StrFormat("%s-%05d.h5", prefix_, next_segment_++);
  segment_.min_learner_step = std::numeric_limits<int64_t>::max();
  ASSIGN_OR_RETURN(writer_,
                   DatasetWriter::Create(absl::StrCat(dir_, "/", segment_.file), spec, metadata_));
  return absl::OkStatus();
}

absl::Status EpisodeRecorder::FinishSegment() {
  if (writer_ == nullptr) return absl::OkStatus();
  RETURN_IF_ERROR(writer_->Finish());
  writer_.reset();
  std::ofstream index(IndexPath(dir_, prefix_), std::ios::app);
  index << segment_.file << "," << segment_.transitions << "," << segment_.episodes << ","
        << segment_.min_learner_step << "," << segment_.max_learner_step << "\n";
  index.flush();
  if (!index) {
    return absl::DataLossError(
        absl::StrCat("actors.record_dir: cannot append to ", IndexPath(dir_, prefix_)));
  }
  return absl::OkStatus();
}

absl::Status EpisodeRecorder::Close() {
  for (EpisodeBuffer& episode : episodes_) episode.Clear();
  return FinishSegment();
}

absl::StatusOr<std::vector<RecordedSegment>> ReadSegmentIndex(const std::string& path) {
  ASSIGN_OR_RETURN(std::string text, ReadFile(path));
  const std::string dir = std::filesystem::path(path).parent_path().string();
  std::vector<RecordedSegment> segments;
  int line_number = 0;
  for (absl::string_view line : absl::StrSplit(text, '\n', absl::SkipEmpty())) {
    if (++line_number == 1) {
      if (line != kIndexHeader) {
        return absl::InvalidArgumentError(
            absl::StrCat(path, ": not a segments index (header '", line, "')"));
      }
      continue;
    }
    std::vector<std::string> fields = absl::StrSplit(line, ',');
    RecordedSegment segment;
    if (fields.size() != 5 || !absl::SimpleAtoi(fields[1], &segment.transitions) ||
        !absl::SimpleAtoi(fields[2], &segment.episodes) ||
        !absl::SimpleAtoi(fields[3], &segment.min_learner_step) ||
        !absl::SimpleAtoi(fields[4], &segment.max_learner_step)) {
      return absl::InvalidArgumentError(
          absl::StrCat(path, ":", line_number, ": malformed segment line '", line, "'"));
    }
    segment.file = absl::StrCat(dir, "/", fields[0]);
    segments.push_back(std::move(segment));
  }
  return segments;
}

}  // namespace tandem::actor
