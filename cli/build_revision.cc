#include "cli/build_revision.h"

// Generated into the build tree; only this file recompiles when the revision changes.
#include "tandem_build_revision.h"

namespace tandem::cli {

const char* BuildRevision() { return TANDEM_BUILD_REVISION; }

}  // namespace tandem::cli
