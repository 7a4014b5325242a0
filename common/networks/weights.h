// The one module that owns how network parameters leave a process: as wire messages (the learner
// packs the published modules into a `Weights` message; actors unpack it into their copies, same
// architecture, matched by stable names) and as checkpoint entries (key "module.<name>.<param>",
// written by the learner's checkpoints and read by actors, evaluators and rollouts).
#ifndef TANDEM_COMMON_NETWORKS_WEIGHTS_H_
#define TANDEM_COMMON_NETWORKS_WEIGHTS_H_

#include <torch/nn/module.h>
#include <torch/serialize/output-archive.h>

#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "proto/parameter_service.pb.h"

namespace tandem::networks {

using NamedModules = std::vector<std::pair<std::string, torch::nn::Module*>>;

// Packs every parameter of `modules` (copied to the CPU) into a Weights message.
absl::StatusOr<Weights> PackWeights(const NamedModules& modules, const std::string& algorithm,
                                    uint64_t version, int64_t learner_step);

// Copies `weights` into `modules`. Every module and parameter must be present with the same shape;
// otherwise nothing is changed and the error names the first mismatch.
absl::Status UnpackWeights(const Weights& weights, const NamedModules& modules);

// The checkpoint key of parameter `parameter` of module `module`.
std::string CheckpointKey(const std::string& module, const std::string& parameter);

// Writes every parameter of `modules` into `archive` under its checkpoint key.
void WriteModules(const NamedModules& modules, torch::serialize::OutputArchive& archive);

// Copies the parameters of module `module_name` from a Tandem checkpoint file (written by the
// learner; keys "module.<name>.<parameter>") into `module`. Fails, changing nothing, on a missing
// file, module or parameter, or a shape mismatch.
absl::Status LoadModuleFromCheckpoint(const std::string& path, const std::string& module_name,
                                      torch::nn::Module& module);

}  // namespace tandem::networks

#endif  // TANDEM_COMMON_NETWORKS_WEIGHTS_H_
