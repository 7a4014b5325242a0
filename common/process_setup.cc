#include "common/process_setup.h"

#include <malloc.h>

namespace tandem {

void TuneAllocatorForLargeBuffers() {
  // Blocks up to 256 MiB come from the heap; the heap top is trimmed only beyond 1 GiB free.
  mallopt(M_MMAP_THRESHOLD, 256 << 20);
  mallopt(M_TRIM_THRESHOLD, 1 << 30);
}

}  // namespace tandem
