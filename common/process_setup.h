// Process-wide settings every Tandem binary applies at startup, before any thread starts.
#ifndef TANDEM_COMMON_PROCESS_SETUP_H_
#define TANDEM_COMMON_PROCESS_SETUP_H_

namespace tandem {

// Keeps freed tensor-sized blocks in the heap instead of returning them to the kernel. glibc
// otherwise serves every allocation over ~128 KiB with a fresh mmap and unmaps it on free, so a
// learner that allocates and frees activations every update spends much of its time in page
// faults (measured: HalfCheetah-6x1 OMIGA updates/s roughly halved and erratic).
void TuneAllocatorForLargeBuffers();

}  // namespace tandem

#endif  // TANDEM_COMMON_PROCESS_SETUP_H_
