#include "envs/mamujoco/mujoco_model.h"

#include <atomic>
#include <cstring>
#include <map>
#include <mutex>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "common/logging.h"

namespace tandem::envs {
namespace {

std::atomic<int64_t> g_warnings{0};

void HandleWarning(const char* message) {
  ++g_warnings;
  LOG(WARNING) << "MuJoCo: " << message;
}

void HandleError(const char* message) {
  // MuJoCo calls this only for internal invariant violations; it must not return.
  LOG(FATAL) << "MuJoCo error: " << message;
}

void InstallHandlers() {
  static std::once_flag once;
  std::call_once(once, [] {
    mju_user_warning = HandleWarning;
    mju_user_error = HandleError;
  });
}

struct ModelCache {
  absl::Mutex mu;
  std::map<std::string, MjModelPtr> models ABSL_GUARDED_BY(mu);
};

}  // namespace

absl::StatusOr<MjModelPtr> LoadSharedModel(const std::string& name, const std::string& xml,
                                           const std::function<void(mjModel*)>& edit) {
  InstallHandlers();
  static ModelCache* cache = new ModelCache();
  absl::MutexLock lock(&cache->mu);
  const std::string& key = name;
  if (auto it = cache->models.find(key); it != cache->models.end()) return it->second;

  // MuJoCo 2.2 reads XML only from files or a virtual file system; use the latter.
  auto vfs = std::make_unique<mjVFS>();
  mj_defaultVFS(vfs.get());
  const std::string file = name + ".xml";
  if (mj_makeEmptyFileVFS(vfs.get(), file.c_str(), static_cast<int>(xml.size())) != 0) {
    return absl::InternalError(absl::StrCat("MuJoCo VFS: cannot add ", file));
  }
  const int index = mj_findFileVFS(vfs.get(), file.c_str());
  std::memcpy(vfs->filedata[index], xml.data(), xml.size());
  char error[1024] = {0};
  mjModel* model = mj_loadXML(file.c_str(), vfs.get(), error, sizeof(error));
  mj_deleteVFS(vfs.get());
  if (model == nullptr) {
    return absl::InvalidArgumentError(absl::StrCat("MuJoCo model ", name, ": ", error));
  }
  if (error[0] != '\0') LOG(WARNING) << "MuJoCo model " << name << ": " << error;
  if (edit) edit(model);
  MjModelPtr shared(model, MjModelDeleter());
  cache->models.emplace(key, shared);
  return shared;
}

MjDataPtr MakeData(const mjModel* model) { return MjDataPtr(mj_makeData(model)); }

int64_t MujocoWarningCount() { return g_warnings.load(); }

}  // namespace tandem::envs
