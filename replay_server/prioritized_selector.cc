#include "replay_server/prioritized_selector.h"

#include <cmath>

#include "absl/strings/str_cat.h"

namespace tandem::replay {

PrioritizedSelector::PrioritizedSelector(int64_t capacity, double exponent)
    : capacity_(capacity), exponent_(exponent) {
  while (leaves_ < capacity_) leaves_ *= 2;
  tree_.assign(static_cast<size_t>(2 * leaves_), 0.0);
  live_slots_.assign(static_cast<size_t>(capacity_), 0);
}

double PrioritizedSelector::Weight(double priority) const {
  if (!std::isfinite(priority) || priority <= 0) return exponent_ == 0 ? 1.0 : 0.0;
  return exponent_ == 1 ? priority : std::pow(priority, exponent_);
}

void PrioritizedSelector::Set(int64_t slot, double weight) {
  int64_t node = leaves_ + slot;
  tree_[node] = weight;
  // Recompute the parents from their children (not by adding a difference), so rounding never
  // accumulates over millions of updates.
  for (node /= 2; node >= 1; node /= 2) tree_[node] = tree_[2 * node] + tree_[2 * node + 1];
}

void PrioritizedSelector::Insert(int64_t slot, double priority) {
  if (!live_slots_[slot]) {
    live_slots_[slot] = 1;
    ++live_;
  }
  Set(slot, Weight(priority));
}

absl::Status PrioritizedSelector::UpdatePriority(int64_t slot, double priority) {
  if (slot < 0 || slot >= capacity_ || !live_slots_[slot]) {
    return absl::NotFoundError(absl::StrCat("slot ", slot, " holds no item"));
  }
  if (!std::isfinite(priority) || priority < 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("priority ", priority, " must be finite and >= 0"));
  }
  Set(slot, Weight(priority));
  return absl::OkStatus();
}

absl::Status PrioritizedSelector::Remove(int64_t slot) {
  if (slot < 0 || slot >= capacity_ || !live_slots_[slot]) {
    return absl::NotFoundError(absl::StrCat("slot ", slot, " holds no item"));
  }
  live_slots_[slot] = 0;
  --live_;
  Set(slot, 0.0);
  return absl::OkStatus();
}

SelectedSlot PrioritizedSelector::Sample(Rng& rng) const {
  const double total = tree_[1];
  if (!(total > 0)) {
    // Every live item has weight 0: draw uniformly among the live slots.
    int64_t pick = static_cast<int64_t>(UniformIndex(rng, static_cast<uint64_t>(live_)));
    for (int64_t slot = 0; slot < capacity_; ++slot) {
      if (live_slots_[slot] && pick-- == 0) return {slot, 1.0 / static_cast<double>(live_)};
    }
  }
  double u = UniformUnit(rng) * total;
  int64_t node = 1;
  while (node < leaves_) {
    const double left = tree_[2 * node];
    if (u < left || tree_[2 * node + 1] <= 0) {
      node = 2 * node;
    } else {
      u -= left;
      node = 2 * node + 1;
    }
  }
  // Rounding can end on a zero-weight leaf next to the last positive one: step back to it.
  int64_t slot = node - leaves_;
  while (tree_[leaves_ + slot] <= 0 && slot > 0) --slot;
  return {slot, tree_[leaves_ + slot] / total};
}

}  // namespace tandem::replay
