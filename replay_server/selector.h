// How a table picks items to sample (Reverb's "selectors"). A table stores items in slots
// [0, capacity); the selector is told which slots hold items and draws slots from them.
//
// Thread-safety: a selector is used under its table's lock; implementations need none of their own.
#ifndef TANDEM_REPLAY_SERVER_SELECTOR_H_
#define TANDEM_REPLAY_SERVER_SELECTOR_H_

#include <cstdint>
#include <memory>
#include <string>

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
  virtual SelectedSlot Sample(Rng& rng) = 0;
  // Number of slots holding items.
  virtual int64_t size() const = 0;
  // Registered name, e.g. "uniform".
  virtual std::string name() const = 0;
};

// Uniform selection over a table whose live slots are always [0, size): a FIFO ring that fills
// from slot 0 and then overwrites in place, or a read-only table loaded once.
class UniformSelector : public Selector {
 public:
  explicit UniformSelector(int64_t capacity) : capacity_(capacity) {}
  void Insert(int64_t slot, double priority) override {
    if (slot >= size_) size_ = std::min(capacity_, slot + 1);
  }
  SelectedSlot Sample(Rng& rng) override {
    return {static_cast<int64_t>(UniformIndex(rng, static_cast<uint64_t>(size_))),
            1.0 / static_cast<double>(size_)};
  }
  int64_t size() const override { return size_; }
  std::string name() const override { return "uniform"; }

 private:
  const int64_t capacity_;
  int64_t size_ = 0;
};

}  // namespace tandem::replay

#endif  // TANDEM_REPLAY_SERVER_SELECTOR_H_
