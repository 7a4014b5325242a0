#include "common/logging.h"

#include <cstdlib>
#include <mutex>
#include <string>

#include "absl/strings/ascii.h"

namespace tandem {

void InitLogging(const char* program) {
  static std::once_flag once;
  std::call_once(once, [program] {
    FLAGS_logtostderr = true;
    FLAGS_colorlogtostderr = false;
    int level = google::GLOG_INFO;
    if (const char* env = std::getenv("TANDEM_LOG_LEVEL")) {
      const std::string value = absl::AsciiStrToUpper(env);
      if (value == "WARNING") level = google::GLOG_WARNING;
      if (value == "ERROR") level = google::GLOG_ERROR;
    }
    FLAGS_minloglevel = level;
    if (!google::IsGoogleLoggingInitialized()) google::InitGoogleLogging(program);
  });
}

}  // namespace tandem
