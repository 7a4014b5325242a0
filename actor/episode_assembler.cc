#include "actor/episode_assembler.h"

#include <algorithm>
#include <cstring>
#include <utility>

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"

namespace tandem::actor {
namespace {

template <typename T>
T* Entry(Tensor* tensor, int64_t t, int64_t per_entry) {
  return reinterpret_cast<T*>(tensor->mutable_data()->data()) + t * per_entry;
}

}  // namespace

absl::StatusOr<EpisodeAssembler> EpisodeAssembler::Create(const TransitionSpec& spec,
                                                          int num_envs) {
  ASSIGN_OR_RETURN(TransitionSchema schema, TransitionSchema::Create(spec));
  if (!schema.episodic()) {
    return absl::InvalidArgumentError(absl::StrCat("episode assembler: the spec (",
                                                   DescribeSpec(spec), ") has no episode layout"));
  }
  if (num_envs < 1) return absl::InvalidArgumentError("episode assembler: num_envs must be >= 1");
  return EpisodeAssembler(std::move(schema), num_envs);
}

EpisodeAssembler::EpisodeAssembler(TransitionSchema schema, int num_envs)
    : schema_(std::move(schema)) {
  const TransitionSpec& spec = schema_.spec();
  l_ = spec.episode_steps();
  n_ = spec.num_agents();
  o_ = spec.obs_size();
  s_ = spec.state_size();
  k_ = spec.action_size();
  growing_.resize(num_envs);
  for (TransitionBatch& item : growing_) {
    schema_.Allocate(1, &item);
    for (const Column& column : schema_.columns()) {
      std::string* data = MutableField(&item, column.field)->mutable_data();
      std::memset(data->data(), 0, data->size());
    }
  }
  steps_.assign(num_envs, 0);
  schema_.Allocate(0, &finished_);
}

void EpisodeAssembler::PutObservation(int e, int64_t t, const float* obs, const float* state,
                                      const uint8_t* avail) {
  TransitionBatch& item = growing_[e];
  std::memcpy(Entry<float>(item.mutable_obs(), t, n_ * o_), obs, n_ * o_ * sizeof(float));
  std::memcpy(Entry<float>(item.mutable_state(), t, s_), state, s_ * sizeof(float));
  std::memcpy(Entry<uint8_t>(item.mutable_avail_actions(), t, n_ * k_), avail, n_ * k_);
  *Entry<uint8_t>(item.mutable_filled(), t, 1) = 1;
}

void EpisodeAssembler::Add(int e, const EpisodeStep& step) {
  TransitionBatch& item = growing_[e];
  const int64_t t = steps_[e];
  PutObservation(e, t, step.obs, step.state, step.avail);
  std::memcpy(Entry<int32_t>(item.mutable_actions(), t, n_), step.actions, n_ * sizeof(int32_t));
  *Entry<float>(item.mutable_reward(), t, 1) = step.reward;
  *Entry<uint8_t>(item.mutable_terminated(), t, 1) = step.terminated ? 1 : 0;
  steps_[e] = t + 1;
  const bool ended = step.terminated || step.truncated;
  if (ended || steps_[e] == l_ - 1) {
    if (!ended) ++cut_;
    PutObservation(e, t + 1, step.next_obs, step.next_state, step.next_avail);
    Finish(e, step.terminated && step.won);
  }
}

void EpisodeAssembler::Cut(int e, const float* obs, const float* state, const uint8_t* avail) {
  if (steps_[e] == 0) return;
  PutObservation(e, steps_[e], obs, state, avail);
  Finish(e, false);
}

void EpisodeAssembler::Finish(int e, bool won) {
  TransitionBatch& item = growing_[e];
  // Entries 0..steps were written (the last holds the final observation); the rest are still 0.
  const int64_t written = std::min(steps_[e] + 1, l_);
  for (const Column& column : schema_.columns()) {
    Tensor* out = MutableField(&finished_, column.field);
    std::string* data = MutableField(&item, column.field)->mutable_data();
    out->mutable_data()->append(*data);
    out->set_shape(0, out->shape(0) + 1);
    std::memset(data->data(), 0, data->size() / l_ * written);
  }
  finished_won_.push_back(won ? 1 : 0);
  ++finished_items_;
  finished_steps_ += steps_[e];
  steps_[e] = 0;
}

TransitionBatch EpisodeAssembler::TakeFinished(std::vector<uint8_t>* won) {
  if (won != nullptr) *won = finished_won_;
  finished_won_.clear();
  TransitionBatch out = std::move(finished_);
  finished_ = TransitionBatch();
  schema_.Allocate(0, &finished_);
  finished_items_ = 0;
  finished_steps_ = 0;
  return out;
}

}  // namespace tandem::actor
