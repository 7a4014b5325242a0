// Offline datasets: Tandem's HDF5 format, and the one interface the replay server loads from.
//
// File layout (format "tandem-dataset", version 1; docs/dataset-format.md has the full card):
//   /obs, /state, /actions, /reward, /terminated, /truncated, /next_obs, /next_state
//   [/avail_actions, /next_avail_actions]   one HDF5 dataset per TransitionBatch column, with the
//                                           same dtypes and shapes, leading dimension T
//   /episode_ends   int64 [E]   exclusive end row of each episode
//   [/won           uint8 [E]]  episode datasets of combat envs: 1 for each episode the team won
//   attributes on /: format, format_version, num_agents, obs_size, agent_obs_sizes, state_size,
//                    action_type, action_size, has_avail_actions, env_name, env_options, obs_mode,
//                    quality, behaviour_policy, source, num_transitions, num_episodes,
//                    return_mean, return_std, return_min, return_max [, win_rate]
// Files are written to "<path>.tmp" and renamed when complete, so a reader never sees half a file.
#ifndef TANDEM_COMMON_DATASET_H_
#define TANDEM_COMMON_DATASET_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "common/transition_schema.h"
#include "proto/transition.pb.h"

namespace tandem {

// Descriptive attributes of a dataset.
struct DatasetMetadata {
  // Registered env name, e.g. "mamujoco/HalfCheetah-6x1".
  std::string env_name;
  // Env options as "key=value,key=value".
  std::string env_options;
  // Observation mode, e.g. "omiga" or "khop".
  std::string obs_mode;
  // Quality tier: expert, medium, medium-replay, medium-expert, random, or custom.
  std::string quality;
  // How the behaviour policy was obtained.
  std::string behaviour_policy;
  // What produced the file, e.g. "tandem dataset collect" or "omiga import".
  std::string source;
  // Reference returns for normalized scores (D4RL's convention, per task): the mean evaluation
  // return of a uniform-random policy and of the expert, as `tandem dataset collect` measured them
  // on the same episode seeds. Absent in files that do not know them.
  std::optional<double> random_return, expert_return;
};

// Summary statistics, recomputed from the data when a file is written.
struct DatasetStats {
  int64_t num_transitions = 0;
  int64_t num_episodes = 0;
  double return_mean = 0, return_std = 0, return_min = 0, return_max = 0;
  // Share of episodes won, when every episode's outcome was recorded (episode datasets of combat
  // envs); absent otherwise.
  std::optional<double> win_rate;
};

// Where the replay server's offline table gets its transitions. Implementations validate what they
// return: ReadColumn never yields non-finite floats, non-binary flags or out-of-range actions.
class OfflineDataSource {
 public:
  virtual ~OfflineDataSource() = default;
  // Shapes of the transitions.
  virtual const TransitionSpec& spec() const = 0;
  // Number of transitions.
  virtual int64_t size() const = 0;
  // Reads rows [begin, begin + count) of `field` into `out`, which holds count * row_bytes bytes.
  virtual absl::Status ReadColumn(Field field, int64_t begin, int64_t count, void* out) = 0;
  // Where the data comes from (the file path), for messages.
  virtual std::string description() const = 0;
  // Episode datasets that record outcomes: 1 for each of rows [begin, begin + count) whose episode
  // was won. Sources without outcomes return false and leave `won` alone.
  virtual absl::StatusOr<bool> ReadWon(int64_t begin, int64_t count, uint8_t* won) {
    (void)begin, (void)count, (void)won;
    return false;
  }
};

// Opens a Tandem-format HDF5 dataset for reading, checking its structure (keys, dtypes, shapes,
// attributes) up front. Every error names the file, the key and the problem.
absl::StatusOr<std::unique_ptr<OfflineDataSource>> OpenTandemDataset(const std::string& path);

// Reads metadata and statistics attributes of a Tandem dataset.
absl::StatusOr<DatasetMetadata> ReadDatasetMetadata(const std::string& path);
absl::StatusOr<DatasetStats> ReadDatasetStats(const std::string& path);

// Writes a Tandem dataset incrementally:
//   ASSIGN_OR_RETURN(auto writer, DatasetWriter::Create(path, spec, metadata));
//   RETURN_IF_ERROR(writer->Append(batch));   // any number of times
//   RETURN_IF_ERROR(writer->Finish());        // statistics, then rename into place
// Destroying an unfinished writer removes the temporary file.
class DatasetWriter {
 public:
  static absl::StatusOr<std::unique_ptr<DatasetWriter>> Create(const std::string& path,
                                                               const TransitionSpec& spec,
                                                               const DatasetMetadata& metadata);
  ~DatasetWriter();
  DatasetWriter(const DatasetWriter&) = delete;
  DatasetWriter& operator=(const DatasetWriter&) = delete;

  // Validates `batch` against the spec and appends it. Episodes end at rows whose terminated or
  // truncated flag is set. Episode datasets may pass `won`, one flag per row (episode): the file
  // records outcomes (/won, the win_rate attribute) when every Append gave them.
  absl::Status Append(const TransitionBatch& batch, const std::vector<uint8_t>* won = nullptr);
  // Writes episode boundaries and statistics, closes and renames the file into place.
  absl::Status Finish();
  // Statistics of what was appended so far (a trailing unfinished episode is not counted).
  DatasetStats stats() const;
  // The shapes rows must have (the episode layout for episode datasets).
  const TransitionSpec& spec() const;

 private:
  struct Impl;
  explicit DatasetWriter(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// Appends every row of `source` to `writer` in chunks of `chunk_rows` (a file need not fit in
// memory twice), with the episodes' outcomes when the source has them. Refuses a source whose
// shapes differ from `spec` (the writer's), naming it.
absl::Status AppendAll(OfflineDataSource& source, const TransitionSpec& spec, DatasetWriter& writer,
                       int64_t chunk_rows = 8192);

// A new dataset at `path` holding every row of the Tandem datasets `inputs`, in order.
absl::Status MergeDatasets(const std::vector<std::string>& inputs, const std::string& path,
                           const TransitionSpec& spec, const DatasetMetadata& metadata);

}  // namespace tandem

#endif  // TANDEM_COMMON_DATASET_H_
