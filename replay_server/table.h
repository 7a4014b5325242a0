// A replay table: items (transitions, or whole padded episodes) stored columnar and contiguous, one
// buffer per column, so a sampled batch is assembled with one memcpy per column per item and never
// by building protos field by field.
//
// The online table is a bounded FIFO ring: item k (the k-th ever inserted) lives in slot
// k % capacity and is overwritten by item k + capacity. The offline table is loaded once and
// read-only.
//
// Thread-safety: all methods are thread-safe. Inserts take the table's lock exclusively; samples
// share it, so many samplers run in parallel.
#ifndef TANDEM_REPLAY_SERVER_TABLE_H_
#define TANDEM_REPLAY_SERVER_TABLE_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/types/span.h"
#include "common/dataset.h"
#include "common/rng.h"
#include "common/transition_schema.h"
#include "proto/config.pb.h"
#include "replay_server/selector.h"

namespace tandem::replay {

class Table {
 public:
  // An empty table for `capacity` (>= 1) transitions of `schema`.
  static absl::StatusOr<std::unique_ptr<Table>> Create(std::string name,
                                                       const TransitionSchema& schema,
                                                       int64_t capacity,
                                                       std::unique_ptr<Selector> selector);

  // A table holding exactly the transitions of `source` (the offline dataset).
  static absl::StatusOr<std::unique_ptr<Table>> CreateFromSource(std::string name,
                                                                 OfflineDataSource& source);

  Table(const Table&) = delete;
  Table& operator=(const Table&) = delete;

  // Builds the selector a table config asks for, for `capacity` slots.
  static std::unique_ptr<Selector> MakeSelector(const TableConfig& config, int64_t capacity);

  // Appends the first `rows` transitions of a batch already validated against the schema,
  // evicting the oldest items beyond capacity. `priorities` (empty, or one per row, checked by
  // the caller) weigh the new items for prioritized selection; empty gives each the highest
  // priority seen so far (1 in a fresh table). Returns the key of the first appended item.
  int64_t Insert(const TransitionBatch& batch, int64_t rows,
                 absl::Span<const double> priorities = {}) ABSL_LOCKS_EXCLUDED(mu_);

  // Sets the priority of the items with `keys` (same length as `priorities`, each finite and
  // >= 0, checked first: nothing changes on a bad one). Items already evicted are skipped;
  // returns how many were. FAILED_PRECONDITION when the selector has no priorities.
  absl::StatusOr<int64_t> UpdatePriorities(absl::Span<const int64_t> keys,
                                           absl::Span<const double> priorities)
      ABSL_LOCKS_EXCLUDED(mu_);

  // Draws `count` items and copies them into rows [offset, offset + count) of `out`, whose columns
  // must already hold at least offset + count rows (TransitionSchema::Allocate). Writes each item's
  // key and draw probability to `keys` and `probabilities` (count entries each). Fails with
  // FAILED_PRECONDITION when the table is empty.
  absl::Status SampleInto(int64_t count, Rng& rng, TransitionBatch* out, int64_t offset,
                          int64_t* keys, double* probabilities) ABSL_LOCKS_EXCLUDED(mu_);

  // Calls `visit` with the live items, oldest first, in batches of at most `chunk_rows`
  // (snapshots). The table is locked for reading throughout.
  absl::Status ForEachChunk(int64_t chunk_rows,
                            const std::function<absl::Status(const TransitionBatch&)>& visit)
      ABSL_LOCKS_EXCLUDED(mu_);

  const std::string& name() const { return name_; }
  // The selector's name ("uniform", "fifo", "prioritized").
  const std::string& selector_name() const { return selector_name_; }
  const TransitionSchema& schema() const { return schema_; }
  int64_t capacity() const { return capacity_; }
  // Items currently held.
  int64_t size() const ABSL_LOCKS_EXCLUDED(mu_);
  // Items ever inserted (the next item's key).
  int64_t inserted_total() const ABSL_LOCKS_EXCLUDED(mu_);
  // Env steps ever inserted: equal to inserted_total() for transitions, the sum of the episodes'
  // lengths for episode items (the learner's online step budget counts these; rate limiters count
  // items).
  int64_t inserted_steps() const ABSL_LOCKS_EXCLUDED(mu_);
  // Items ever sampled.
  int64_t sampled_total() const { return sampled_.load(); }
  // Bytes held in the column buffers.
  int64_t memory_bytes() const { return capacity_ * schema_.row_bytes(); }

 private:
  Table(std::string name, const TransitionSchema& schema, int64_t capacity,
        std::unique_ptr<Selector> selector);

  // Copies `rows` rows starting at slot `slot` from `batch` rows starting at `src_row`.
  void CopyIn(const TransitionBatch& batch, int64_t src_row, int64_t slot, int64_t rows)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const std::string name_;
  std::string selector_name_;
  const TransitionSchema schema_;
  const int64_t capacity_;

  mutable absl::Mutex mu_;
  // One buffer per schema column, capacity * row_bytes bytes, left uninitialised until written
  // so untouched capacity costs no memory.
  std::vector<std::unique_ptr<char[]>> columns_ ABSL_GUARDED_BY(mu_);
  // Key of the item in each slot.
  std::vector<int64_t> slot_keys_ ABSL_GUARDED_BY(mu_);
  std::unique_ptr<Selector> selector_ ABSL_GUARDED_BY(mu_);
  int64_t inserted_ ABSL_GUARDED_BY(mu_) = 0;
  int64_t inserted_steps_ ABSL_GUARDED_BY(mu_) = 0;
  // Highest priority inserted or set so far: the default priority of new items.
  double max_priority_ ABSL_GUARDED_BY(mu_) = 1.0;
  // Updated by concurrent samplers holding the lock shared.
  std::atomic<int64_t> sampled_{0};
};

}  // namespace tandem::replay

#endif  // TANDEM_REPLAY_SERVER_TABLE_H_
