// Loading, overriding, defaulting and validating text-proto configurations (proto/config.proto).
//
//   ASSIGN_OR_RETURN(ExperimentConfig config,
//                    LoadExperimentConfig("configs/halfcheetah_6x1_sim2o.textproto",
//                                         {"replay.offline_ratio=0.25"}));
//
// Every error is one line that names the file or flag, the field and the problem, e.g.
//   configs/x.textproto:4:3: field "capcity": Message type "tandem.ReplayConfig" has no field ...
//   --set replay.offline_ratio=abc: field replay.offline_ratio expects a double, got "abc"
//   replay.offline_ratio: must be in [0, 1], got 1.5
#ifndef TANDEM_COMMON_CONFIG_H_
#define TANDEM_COMMON_CONFIG_H_

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "google/protobuf/message.h"
#include "proto/config.pb.h"

namespace tandem {

// Parses protobuf text format into `message` (cleared first). `source_name` (usually the file
// path) prefixes errors together with line and column.
absl::Status ParseTextProto(absl::string_view text, absl::string_view source_name,
                            google::protobuf::Message* message);

// Reads and parses the text-proto file at `path`.
absl::Status ReadTextProtoFile(const std::string& path, google::protobuf::Message* message);

// Applies one `path=value` override, e.g. "learner.batch_size=256", "env.options.obs_mode=khop"
// (map entry), "selector.agent_order=reverse" (enum, case-insensitive, prefix optional),
// "env={name: \"smac/3m\"}" (a whole message in text format).
absl::Status ApplyOverride(absl::string_view assignment, google::protobuf::Message* message);

// Sets every unset optional field to its schema default, recursively, so the message shows the
// complete resolved configuration.
void FillDefaults(google::protobuf::Message* message);

// Checks ranges and cross-field rules of a (defaulted) experiment configuration.
absl::Status ValidateExperimentConfig(const ExperimentConfig& config);

// ReadTextProtoFile (following `base` files, up to 8 deep) + ApplyOverride for each override (in
// order) + FillDefaults + validation.
absl::StatusOr<ExperimentConfig> LoadExperimentConfig(const std::string& path,
                                                      const std::vector<std::string>& overrides);

// The resolved configuration with defaults filled in and no file (for `tandem config defaults`).
ExperimentConfig DefaultExperimentConfig();

// Whether the replay tables hold whole episodes (their declared item_kind; every table holds one
// kind, and the default "online" table follows the declared ones). Actors then stream episodes.
bool EpisodeItems(const ReplayConfig& replay);

// Text-format rendering of `message`.
std::string ToTextProto(const google::protobuf::Message& message);

}  // namespace tandem

#endif  // TANDEM_COMMON_CONFIG_H_
