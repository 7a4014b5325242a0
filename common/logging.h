// Logging for every Tandem process: glog (Debian's LibTorch already uses it), configured once.
//
//   LOG(INFO) << "replay server listening on " << address;
//   LOG(WARNING) << "dropping torn WAL record at offset " << offset;
//   CHECK(ptr != nullptr) << "broken invariant";   // only for programming errors, never for input
#ifndef TANDEM_COMMON_LOGGING_H_
#define TANDEM_COMMON_LOGGING_H_

#include "glog/logging.h"

namespace tandem {

// Sends logs to stderr with one line per message, tagged with `program` (e.g. "tandem replay").
// The minimum level comes from TANDEM_LOG_LEVEL (INFO, WARNING, ERROR; default INFO). Safe to call
// more than once; only the first call configures.
void InitLogging(const char* program);

}  // namespace tandem

#endif  // TANDEM_COMMON_LOGGING_H_
