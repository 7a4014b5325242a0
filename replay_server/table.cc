#include "replay_server/table.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <utility>

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "replay_server/prioritized_selector.h"

namespace tandem::replay {

Table::Table(std::string name, const TransitionSchema& schema, int64_t capacity,
             std::unique_ptr<Selector> selector)
    : name_(std::move(name)), schema_(schema), capacity_(capacity) {
  for (const Column& column : schema_.columns()) {
    // Deliberately uninitialised: pages are only touched when rows are written.
    columns_.emplace_back(new char[static_cast<size_t>(capacity_ * column.row_bytes)]);
  }
  slot_keys_.assign(static_cast<size_t>(capacity_), -1);
  selector_name_ = selector->name();
  selector_ = std::move(selector);
}

absl::StatusOr<std::unique_ptr<Table>> Table::Create(std::string name,
                                                     const TransitionSchema& schema,
                                                     int64_t capacity,
                                                     std::unique_ptr<Selector> selector) {
  if (capacity < 1) {
    return absl::InvalidArgumentError(absl::StrCat("table ", name, ": capacity must be >= 1"));
  }
  return std::unique_ptr<Table>(new Table(std::move(name), schema, capacity, std::move(selector)));
}

absl::StatusOr<std::unique_ptr<Table>> Table::CreateFromSource(std::string name,
                                                               OfflineDataSource& source) {
  ASSIGN_OR_RETURN(TransitionSchema schema, TransitionSchema::Create(source.spec()),
                   _.WithPrefix(absl::StrCat(source.description(), ": ")));
  const int64_t rows = source.size();
  ASSIGN_OR_RETURN(std::unique_ptr<Table> table,
                   Create(std::move(name), schema, rows, std::make_unique<UniformSelector>(rows)));
  absl::MutexLock lock(&table->mu_);
  for (size_t c = 0; c < schema.columns().size(); ++c) {
    RETURN_IF_ERROR(
        source.ReadColumn(schema.columns()[c].field, 0, rows, table->columns_[c].get()));
  }
  for (int64_t slot = 0; slot < rows; ++slot) {
    table->slot_keys_[slot] = slot;
    table->selector_->Insert(slot, 1.0);
  }
  table->inserted_ = rows;
  table->inserted_steps_ = rows;
  if (schema.episodic()) {
    const Column* filled = schema.Find(Field::kFilled);
    const int64_t filled_column = filled - schema.columns().data();
    const char* data = table->columns_[filled_column].get();
    int64_t entries = 0;
    for (int64_t i = 0; i < rows * filled->row_bytes; ++i) entries += static_cast<uint8_t>(data[i]);
    table->inserted_steps_ = entries - rows;
  }
  return table;
}

void Table::CopyIn(const TransitionBatch& batch, int64_t src_row, int64_t slot, int64_t rows) {
  const std::vector<Column>& columns = schema_.columns();
  for (size_t c = 0; c < columns.size(); ++c) {
    const int64_t row_bytes = columns[c].row_bytes;
    std::memcpy(columns_[c].get() + slot * row_bytes,
                GetField(batch, columns[c].field).data().data() + src_row * row_bytes,
                static_cast<size_t>(rows * row_bytes));
  }
}

std::unique_ptr<Selector> Table::MakeSelector(const TableConfig& config, int64_t capacity) {
  switch (config.selector()) {
    case TableConfig::SELECTOR_FIFO:
      return std::make_unique<FifoSelector>(capacity);
    case TableConfig::SELECTOR_PRIORITIZED:
      return std::make_unique<PrioritizedSelector>(capacity, config.priority_exponent());
    default:
      return std::make_unique<UniformSelector>(capacity);
  }
}

absl::StatusOr<int64_t> Table::UpdatePriorities(absl::Span<const int64_t> keys,
                                                absl::Span<const double> priorities) {
  if (keys.size() != priorities.size()) {
    return absl::InvalidArgumentError(absl::StrCat("table ", name_, ": ", keys.size(), " keys but ",
                                                   priorities.size(), " priorities"));
  }
  for (size_t i = 0; i < priorities.size(); ++i) {
    if (!std::isfinite(priorities[i]) || priorities[i] < 0) {
      return absl::InvalidArgumentError(absl::StrCat("table ", name_, ": priorities[", i, "] is ",
                                                     priorities[i], "; must be finite and >= 0"));
    }
  }
  absl::MutexLock lock(&mu_);
  int64_t missing = 0;
  for (size_t i = 0; i < keys.size(); ++i) {
    const int64_t key = keys[i];
    const int64_t slot = key >= 0 ? key % capacity_ : 0;
    if (key < 0 || key >= inserted_ || slot_keys_[slot] != key) {
      ++missing;
      continue;
    }
    absl::Status status = selector_->UpdatePriority(slot, priorities[i]);
    if (absl::IsUnimplemented(status)) {
      return absl::FailedPreconditionError(
          absl::StrCat("table ", name_, " has ", selector_->name(), " selection, no priorities"));
    }
    RETURN_IF_ERROR(status);
    max_priority_ = std::max(max_priority_, priorities[i]);
  }
  return missing;
}

int64_t Table::Insert(const TransitionBatch& batch, int64_t rows,
                      absl::Span<const double> priorities) {
  absl::MutexLock lock(&mu_);
  const int64_t first_key = inserted_;
  // Only the last `capacity_` rows of an oversized batch survive; skip the rest.
  const int64_t skip = std::max<int64_t>(0, rows - capacity_);
  int64_t key = first_key + skip;
  int64_t src = skip;
  while (src < rows) {
    const int64_t slot = key % capacity_;
    const int64_t run = std::min(rows - src, capacity_ - slot);
    CopyIn(batch, src, slot, run);
    for (int64_t i = 0; i < run; ++i) {
      slot_keys_[slot + i] = key + i;
      double priority = max_priority_;
      if (!priorities.empty()) {
        priority = priorities[src + i];
        max_priority_ = std::max(max_priority_, priority);
      }
      selector_->Insert(slot + i, priority);
    }
    src += run;
    key += run;
  }
  inserted_ += rows;
  inserted_steps_ += schema_.CountSteps(batch, rows);
  return first_key;
}

absl::Status Table::SampleInto(int64_t count, Rng& rng, TransitionBatch* out, int64_t offset,
                               int64_t* keys, double* probabilities) {
  if (count == 0) return absl::OkStatus();
  absl::ReaderMutexLock lock(&mu_);
  if (selector_->size() == 0) {
    return absl::FailedPreconditionError(absl::StrCat("table ", name_, " is empty"));
  }
  const std::vector<Column>& columns = schema_.columns();
  std::vector<char*> dst(columns.size());
  for (size_t c = 0; c < columns.size(); ++c) {
    dst[c] = MutableField(out, columns[c].field)->mutable_data()->data();
  }
  for (int64_t i = 0; i < count; ++i) {
    const SelectedSlot selected = selector_->Sample(rng);
    for (size_t c = 0; c < columns.size(); ++c) {
      const int64_t row_bytes = columns[c].row_bytes;
      std::memcpy(dst[c] + (offset + i) * row_bytes, columns_[c].get() + selected.slot * row_bytes,
                  static_cast<size_t>(row_bytes));
    }
    keys[i] = slot_keys_[selected.slot];
    probabilities[i] = selected.probability;
  }
  sampled_ += count;
  return absl::OkStatus();
}

absl::Status Table::ForEachChunk(int64_t chunk_rows,
                                 const std::function<absl::Status(const TransitionBatch&)>& visit) {
  absl::ReaderMutexLock lock(&mu_);
  const int64_t size = std::min(inserted_, capacity_);
  const int64_t oldest_key = inserted_ - size;
  TransitionBatch chunk;
  const std::vector<Column>& columns = schema_.columns();
  for (int64_t done = 0; done < size;) {
    const int64_t slot = (oldest_key + done) % capacity_;
    const int64_t run = std::min({chunk_rows, size - done, capacity_ - slot});
    schema_.Allocate(run, &chunk);
    for (size_t c = 0; c < columns.size(); ++c) {
      const int64_t row_bytes = columns[c].row_bytes;
      std::memcpy(MutableField(&chunk, columns[c].field)->mutable_data()->data(),
                  columns_[c].get() + slot * row_bytes, static_cast<size_t>(run * row_bytes));
    }
    RETURN_IF_ERROR(visit(chunk));
    done += run;
  }
  return absl::OkStatus();
}

int64_t Table::size() const {
  absl::ReaderMutexLock lock(&mu_);
  return std::min(inserted_, capacity_);
}

int64_t Table::inserted_steps() const {
  absl::ReaderMutexLock lock(&mu_);
  return inserted_steps_;
}

int64_t Table::inserted_total() const {
  absl::ReaderMutexLock lock(&mu_);
  return inserted_;
}

}  // namespace tandem::replay
