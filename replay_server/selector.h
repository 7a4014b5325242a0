// How a table picks items to sample (Reverb's "selectors"). A table stores items in slots
// [0, capacity); the selector is told which slots hold items and draws slots from them.
//
// Thread-safety: a selector is used under its table's lock and needs none of its own. Mutations
// (Insert, UpdatePriority, Remove) run under the exclusive lock; `Sample` is const (it reads the
// selector and draws from the caller's generator), so many samplers may call it at once under the
// shared lock.
#ifndef TANDEM_REPLAY_SERVER_SELECTOR_H_
#define TANDEM_REPLAY_SERVER_SELECTOR_H_

#include <algorithm>
#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "common/rng.h"

namespace tandem::replay {

// One drawn slot and the probability with which it was drawn.
struct SelectedSlot {
  int64_t slot;
  double probability;
};

class Selector {
 public:
  virtual ~Selector() = default;
  // Slot `slot` now holds a new item with `priority` (ignored by uniform selection).
  virtual void Insert(int64_t slot, double priority) = 0;
  // Draws one slot among those holding items; requires at least one.
  virtual SelectedSlot Sample(Rng& rng) const = 0;
  // Number of slots holding items.
  virtual int64_t size() const = 0;
  // Registered name, e.g. "uniform".
  virtual std::string name() const = 0;
  // Changes the priority of the item in `slot` (selectors that weigh items by priority).
  virtual absl::Status UpdatePriority(int64_t slot, double priority) {
    return absl::UnimplementedError(name() + " selection has no priorities");
  }
  // Takes the item in `slot` out of selection (selectors that support removal).
  virtual absl::Status Remove(int64_t slot) {
    return absl::UnimplementedError(name() + " selection cannot remove single items");
  }
};

// Uniform selection over a table whose live slots are always [0, size): a FIFO ring that fills
// from slot 0 and then overwrites in place, or a read-only table loaded once.
class UniformSelector : public Selector {
 public:
  explicit UniformSelector(int64_t capacity) : capacity_(capacity) {}
  void Insert(int64_t slot, double priority) override {
    if (slot >= size_) size_ = std::min(capacity_, slot + 1);
  }
  SelectedSlot Sample(Rng& rng) const override {
    return {static_cast<int64_t>(UniformIndex(rng, static_cast<uint64_t>(size_))),
            1.0 / static_cast<double>(size_)};
  }
  int64_t size() const override { return size_; }
  std::string name() const override { return "uniform"; }

 private:
  const int64_t capacity_;
  int64_t size_ = 0;
};

// FIFO selection: always the oldest live item (Reverb's Fifo selector), probability 1.
class FifoSelector : public Selector {
 public:
  explicit FifoSelector(int64_t capacity) : live_(static_cast<size_t>(capacity), 0) {}
  void Insert(int64_t slot, double priority) override {
    if (live_[slot]) {
      // A ring overwrites its oldest slot, which is the front; anything else is searched for.
      if (!order_.empty() && order_.front() == slot) {
        order_.pop_front();
      } else {
        order_.erase(std::find(order_.begin(), order_.end(), slot));
      }
    }
    live_[slot] = 1;
    order_.push_back(slot);
  }
  SelectedSlot Sample(Rng&) const override { return {order_.front(), 1.0}; }
  int64_t size() const override { return static_cast<int64_t>(order_.size()); }
  std::string name() const override { return "fifo"; }

 private:
  std::vector<uint8_t> live_;
  std::deque<int64_t> order_;
};

}  // namespace tandem::replay

#endif  // TANDEM_REPLAY_SERVER_SELECTOR_H_
