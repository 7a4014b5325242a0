// Prioritized selection (Schaul et al.'s proportional variant, as Reverb's Prioritized selector):
// slot s is drawn with probability p_s^exponent / sum_k p_k^exponent over the live slots. A sum
// tree over the slots makes insert, priority update, removal and one draw O(log capacity).
//
// Thread-safety: none of its own (see selector.h): mutations under the table's exclusive lock,
// `Sample` (const) under its shared lock.
#ifndef TANDEM_REPLAY_SERVER_PRIORITIZED_SELECTOR_H_
#define TANDEM_REPLAY_SERVER_PRIORITIZED_SELECTOR_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "replay_server/selector.h"

namespace tandem::replay {

class PrioritizedSelector : public Selector {
 public:
  // `exponent` (alpha) >= 0: 0 is uniform over live slots, 1 proportional to priority.
  PrioritizedSelector(int64_t capacity, double exponent);

  // Slot `slot` holds a new item of `priority` (>= 0, finite; a negative or non-finite priority is
  // stored as 0, which is never drawn while any other slot has weight).
  void Insert(int64_t slot, double priority) override;
  SelectedSlot Sample(Rng& rng) const override;
  int64_t size() const override { return live_; }
  std::string name() const override { return "prioritized"; }
  absl::Status UpdatePriority(int64_t slot, double priority) override;
  absl::Status Remove(int64_t slot) override;

  // Sum of the live slots' weights p^exponent (for tests and metrics).
  double total_weight() const { return tree_[1]; }

 private:
  double Weight(double priority) const;
  void Set(int64_t slot, double weight);

  const int64_t capacity_;
  const double exponent_;
  // Leaves start at `leaves_` (a power of two >= capacity); node i sums nodes 2i and 2i + 1.
  int64_t leaves_ = 1;
  std::vector<double> tree_;
  std::vector<uint8_t> live_slots_;
  int64_t live_ = 0;
};

}  // namespace tandem::replay

#endif  // TANDEM_REPLAY_SERVER_PRIORITIZED_SELECTOR_H_
