#include "learner/checkpoint.h"

#include <torch/serialize/input-archive.h>
#include <torch/serialize/output-archive.h>

#include <algorithm>
#include <cstdio>
#include <exception>
#include <fstream>

#include "absl/strings/str_cat.h"
#include "common/networks/weights.h"
#include "common/status_macros.h"
#include "common/transition_schema.h"

namespace tandem::learner {
namespace {

constexpr int64_t kFormatVersion = 1;

at::Tensor Scalar(int64_t value) { return at::full({}, value, at::kLong); }

int64_t ReadScalar(torch::serialize::InputArchive& archive, const std::string& key) {
  at::Tensor tensor;
  archive.read(key, tensor);
  return tensor.item<int64_t>();
}

std::string ReadString(torch::serialize::InputArchive& archive, const std::string& key) {
  c10::IValue value;
  archive.read(key, value);
  return value.toStringRef();
}

CheckpointInfo ReadInfo(torch::serialize::InputArchive& archive) {
  CheckpointInfo info;
  info.algorithm = ReadString(archive, "algorithm");
  info.phase = ReadString(archive, "phase");
  info.spec.ParseFromString(ReadString(archive, "spec"));
  info.updates = ReadScalar(archive, "updates");
  info.env_steps = ReadScalar(archive, "env_steps");
  return info;
}

absl::StatusOr<std::unique_ptr<torch::serialize::InputArchive>> OpenArchive(
    const std::string& path) {
  if (!std::ifstream(path).good()) {
    return absl::NotFoundError(absl::StrCat(path, ": checkpoint not found or not readable"));
  }
  auto archive = std::make_unique<torch::serialize::InputArchive>();
  try {
    archive->load_from(path);
    if (ReadScalar(*archive, "format_version") != kFormatVersion) {
      return absl::FailedPreconditionError(
          absl::StrCat(path, ": checkpoint format version differs from this build's"));
    }
  } catch (const std::exception& e) {
    return absl::DataLossError(
        absl::StrCat(path, ": not a readable Tandem checkpoint (truncated or corrupt)"));
  }
  return archive;
}

}  // namespace

absl::Status SaveCheckpoint(const std::string& path, Algorithm& algorithm,
                            const CheckpointInfo& info) {
  const std::string tmp = path + ".tmp";
  try {
    torch::serialize::OutputArchive archive;
    archive.write("format_version", Scalar(kFormatVersion));
    archive.write("algorithm", c10::IValue(algorithm.name()));
    archive.write("phase", c10::IValue(info.phase));
    archive.write("spec", c10::IValue(info.spec.SerializeAsString()));
    archive.write("updates", Scalar(algorithm.updates()));
    archive.write("env_steps", Scalar(algorithm.env_steps()));
    networks::WriteModules(algorithm.Modules(), archive);
    for (auto& [name, optimizer] : algorithm.Optimizers()) {
      const std::string prefix = "optimizer." + name + ".";
      archive.write(prefix + "step", Scalar(optimizer->step()));
      for (size_t i = 0; i < optimizer->exp_avg().size(); ++i) {
        archive.write(prefix + "exp_avg." + std::to_string(i), optimizer->exp_avg()[i], true);
        archive.write(prefix + "exp_avg_sq." + std::to_string(i), optimizer->exp_avg_sq()[i], true);
      }
    }
    archive.save_to(tmp);
  } catch (const std::exception& e) {
    std::remove(tmp.c_str());
    return absl::InternalError(absl::StrCat(tmp, ": cannot write checkpoint: ", e.what()));
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    return absl::InternalError(absl::StrCat("cannot rename ", tmp, " to ", path));
  }
  return absl::OkStatus();
}

absl::StatusOr<CheckpointInfo> ReadCheckpointInfo(const std::string& path) {
  ASSIGN_OR_RETURN(auto archive, OpenArchive(path));
  try {
    return ReadInfo(*archive);
  } catch (const std::exception& e) {
    return absl::DataLossError(absl::StrCat(path, ": checkpoint header unreadable"));
  }
}

absl::StatusOr<CheckpointInfo> LoadCheckpoint(const std::string& path, Algorithm& algorithm) {
  ASSIGN_OR_RETURN(auto archive, OpenArchive(path));
  CheckpointInfo info;
  try {
    info = ReadInfo(*archive);
  } catch (const std::exception& e) {
    return absl::DataLossError(absl::StrCat(path, ": checkpoint header unreadable"));
  }
  if (info.algorithm != algorithm.name()) {
    return absl::FailedPreconditionError(absl::StrCat(path, ": checkpoint of algorithm '",
                                                      info.algorithm, "', expected '",
                                                      algorithm.name(), "'"));
  }
  // Load everything into copies first so a failure leaves the algorithm unchanged.
  std::vector<std::pair<at::Tensor, at::Tensor>> assignments;
  std::vector<std::pair<FusedAdam*, int64_t>> steps;
  // An offline checkpoint need not hold what only the online phase trains.
  std::vector<std::string> absent;
  if (info.phase == "offline") {
    for (const std::string& name : algorithm.OnlineOnlyModules()) {
      for (auto& [module_name, module] : algorithm.Modules()) {
        if (module_name != name) continue;
        const auto parameters = module->named_parameters();
        at::Tensor probe;
        if (!parameters.is_empty() &&
            !archive->try_read(networks::CheckpointKey(name, parameters.begin()->key()), probe,
                               /*is_buffer=*/true)) {
          absent.push_back(name);
        }
      }
    }
  }
  auto is_absent = [&](const std::string& name) {
    return std::find(absent.begin(), absent.end(), name) != absent.end();
  };
  try {
    for (auto& [name, module] : algorithm.Modules()) {
      if (is_absent(name)) continue;
      for (const auto& item : module->named_parameters()) {
        at::Tensor stored;
        if (!archive->try_read(networks::CheckpointKey(name, item.key()), stored,
                               /*is_buffer=*/true) ||
            !stored.sizes().equals(item.value().sizes())) {
          return absl::FailedPreconditionError(absl::StrCat(
              path, ": module '", name, "' parameter '", item.key(),
              "' is missing or has another shape (checkpoint of a different env or network?)"));
        }
        assignments.emplace_back(item.value(), stored);
      }
    }
    for (auto& [name, optimizer] : algorithm.Optimizers()) {
      if (is_absent(name)) continue;
      const std::string prefix = "optimizer." + name + ".";
      steps.emplace_back(optimizer, ReadScalar(*archive, prefix + "step"));
      for (size_t i = 0; i < optimizer->exp_avg().size(); ++i) {
        at::Tensor exp_avg, exp_avg_sq;
        archive->read(prefix + "exp_avg." + std::to_string(i), exp_avg, true);
        archive->read(prefix + "exp_avg_sq." + std::to_string(i), exp_avg_sq, true);
        if (!exp_avg.sizes().equals(optimizer->exp_avg()[i].sizes())) {
          return absl::FailedPreconditionError(
              absl::StrCat(path, ": optimizer '", name, "' state has another shape"));
        }
        assignments.emplace_back(optimizer->exp_avg()[i], exp_avg);
        assignments.emplace_back(optimizer->exp_avg_sq()[i], exp_avg_sq);
      }
    }
  } catch (const std::exception& e) {
    return absl::DataLossError(absl::StrCat(path, ": checkpoint incomplete or corrupt"));
  }
  at::NoGradGuard no_grad;
  for (auto& [target, source] : assignments) target.copy_(source);
  for (auto& [optimizer, step] : steps) optimizer->set_step(step);
  algorithm.set_updates(info.updates);
  algorithm.set_env_steps(info.env_steps);
  return info;
}

}  // namespace tandem::learner
