// The git revision the `tandem` binary was built from, recorded at build time
// (cmake/source_revision.cmake), so a run's git_revision.txt names the code that ran even when the
// binary was copied away or the tree moved on: a 40-digit hash, followed by " (with uncommitted
// changes)" when tracked files differed from it, or "unknown" outside a git checkout.
#ifndef TANDEM_CLI_BUILD_REVISION_H_
#define TANDEM_CLI_BUILD_REVISION_H_

namespace tandem::cli {

const char* BuildRevision();

}  // namespace tandem::cli

#endif  // TANDEM_CLI_BUILD_REVISION_H_
