// Small file helpers shared by the processes: atomic writes for files other processes wait on
// (port files, run summaries) and whole-file reads.
#ifndef TANDEM_COMMON_FILES_H_
#define TANDEM_COMMON_FILES_H_

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace tandem {

// Writes `contents` to `path` atomically: a temporary file beside it, then rename. A reader sees
// either the old file or the whole new one, never a part.
absl::Status WriteFileAtomically(const std::string& path, const std::string& contents);

// The whole file; NOT_FOUND when it cannot be opened.
absl::StatusOr<std::string> ReadFile(const std::string& path);

}  // namespace tandem

#endif  // TANDEM_COMMON_FILES_H_
