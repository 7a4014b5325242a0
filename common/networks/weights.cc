#include "common/networks/weights.h"

#include <ATen/ATen.h>

#include <torch/serialize/input-archive.h>

#include <exception>
#include <fstream>
#include <map>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/status_macros.h"
#include "common/torch_tensor.h"

namespace tandem::networks {

absl::StatusOr<Weights> PackWeights(const NamedModules& modules, const std::string& algorithm,
                                    uint64_t version, int64_t learner_step) {
  Weights weights;
  weights.set_version(version);
  weights.set_learner_step(learner_step);
  weights.set_algorithm(algorithm);
  at::NoGradGuard no_grad;
  for (const auto& [name, module] : modules) {
    ModuleWeights* packed = weights.add_modules();
    packed->set_module(name);
    for (const auto& item : module->named_parameters()) {
      NamedTensor* tensor = packed->add_tensors();
      tensor->set_name(item.key());
      RETURN_IF_ERROR(TorchToProto(item.value().detach(), tensor->mutable_tensor()));
    }
  }
  weights.set_publish_time_unix_nanos(absl::ToUnixNanos(absl::Now()));
  return weights;
}

absl::Status UnpackWeights(const Weights& weights, const NamedModules& modules) {
  std::map<std::string, const ModuleWeights*> by_name;
  for (const ModuleWeights& module : weights.modules()) by_name[module.module()] = &module;
  std::vector<std::pair<at::Tensor, at::Tensor>> assignments;
  for (const auto& [name, module] : modules) {
    auto it = by_name.find(name);
    if (it == by_name.end()) {
      return absl::InvalidArgumentError(
          absl::StrCat("weights version ", weights.version(), ": no module '", name, "'"));
    }
    std::map<std::string, const Tensor*> tensors;
    for (const NamedTensor& tensor : it->second->tensors())
      tensors[tensor.name()] = &tensor.tensor();
    for (const auto& item : module->named_parameters()) {
      auto found = tensors.find(item.key());
      if (found == tensors.end()) {
        return absl::InvalidArgumentError(absl::StrCat("weights version ", weights.version(),
                                                       ": module '", name, "' lacks '", item.key(),
                                                       "'"));
      }
      ASSIGN_OR_RETURN(at::Tensor value, ProtoToTorch(*found->second, item.key()));
      if (!value.sizes().equals(item.value().sizes()) ||
          value.scalar_type() != item.value().scalar_type()) {
        return absl::InvalidArgumentError(
            absl::StrCat("weights version ", weights.version(), ": '", name, ".", item.key(),
                         "' has another shape or dtype than this process's network"));
      }
      assignments.emplace_back(item.value(), value);
    }
  }
  at::NoGradGuard no_grad;
  for (auto& [target, value] : assignments) target.copy_(value);
  return absl::OkStatus();
}

std::string CheckpointKey(const std::string& module, const std::string& parameter) {
  return "module." + module + "." + parameter;
}

void WriteModules(const NamedModules& modules, torch::serialize::OutputArchive& archive) {
  for (const auto& [name, module] : modules) {
    for (const auto& item : module->named_parameters()) {
      archive.write(CheckpointKey(name, item.key()), item.value(), /*is_buffer=*/true);
    }
  }
}

absl::Status LoadModuleFromCheckpoint(const std::string& path, const std::string& module_name,
                                      torch::nn::Module& module) {
  if (!std::ifstream(path).good()) {
    return absl::NotFoundError(absl::StrCat(path, ": checkpoint not found or not readable"));
  }
  std::vector<std::pair<at::Tensor, at::Tensor>> assignments;
  try {
    torch::serialize::InputArchive archive;
    archive.load_from(path);
    for (const auto& item : module.named_parameters()) {
      at::Tensor stored;
      if (!archive.try_read(CheckpointKey(module_name, item.key()), stored, true) ||
          !stored.sizes().equals(item.value().sizes())) {
        return absl::FailedPreconditionError(absl::StrCat(path, ": module '", module_name,
                                                          "' parameter '", item.key(),
                                                          "' is missing or has another shape"));
      }
      assignments.emplace_back(item.value(), stored);
    }
  } catch (const std::exception& e) {
    return absl::DataLossError(absl::StrCat(path, ": not a readable Tandem checkpoint"));
  }
  at::NoGradGuard no_grad;
  for (auto& [target, value] : assignments) target.copy_(value);
  return absl::OkStatus();
}

}  // namespace tandem::networks
