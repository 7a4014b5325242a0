#include "actor/episode_buffer.h"

#include "common/status_macros.h"
#include "common/tensor_proto.h"

namespace tandem::actor {
namespace {

template <typename T>
void Append(std::vector<T>& to, const T* from, int64_t count) {
  to.insert(to.end(), from, from + count);
}

}  // namespace

void EpisodeBuffer::Add(const float* obs, const float* state, const float* actions, float reward,
                        bool terminated, bool truncated, const float* next_obs,
                        const float* next_state) {
  const int64_t n = spec_->num_agents, o = spec_->obs_size, s = spec_->state_size;
  const int64_t a = spec_->action_size;
  Append(obs_, obs, n * o);
  Append(state_, state, s);
  Append(actions_, actions, n * a);
  reward_.push_back(reward);
  terminated_.push_back(terminated);
  truncated_.push_back(truncated);
  Append(next_obs_, next_obs, n * o);
  Append(next_state_, next_state, s);
  ++rows_;
  return_ += reward;
}

void EpisodeBuffer::MarkTruncated() {
  if (rows_ > 0) truncated_.back() = 1;
}

void EpisodeBuffer::Clear() {
  for (auto* v : {&obs_, &state_, &actions_, &reward_, &next_obs_, &next_state_}) v->clear();
  terminated_.clear();
  truncated_.clear();
  rows_ = 0;
  return_ = 0;
}

absl::Status EpisodeBuffer::FlushTo(DatasetWriter& writer) {
  if (rows_ == 0) return absl::OkStatus();
  const int64_t t = rows_, n = spec_->num_agents, o = spec_->obs_size;
  const int64_t s = spec_->state_size, a = spec_->action_size;
  TransitionBatch batch;
  SetTensor(DTYPE_FLOAT32, {t, n, o}, obs_.data(), t * n * o * 4, batch.mutable_obs());
  SetTensor(DTYPE_FLOAT32, {t, s}, state_.data(), t * s * 4, batch.mutable_state());
  SetTensor(DTYPE_FLOAT32, {t, n, a}, actions_.data(), t * n * a * 4, batch.mutable_actions());
  SetTensor(DTYPE_FLOAT32, {t}, reward_.data(), t * 4, batch.mutable_reward());
  SetTensor(DTYPE_UINT8, {t}, terminated_.data(), t, batch.mutable_terminated());
  SetTensor(DTYPE_UINT8, {t}, truncated_.data(), t, batch.mutable_truncated());
  SetTensor(DTYPE_FLOAT32, {t, n, o}, next_obs_.data(), t * n * o * 4, batch.mutable_next_obs());
  SetTensor(DTYPE_FLOAT32, {t, s}, next_state_.data(), t * s * 4, batch.mutable_next_state());
  RETURN_IF_ERROR(writer.Append(batch));
  Clear();
  return absl::OkStatus();
}

}  // namespace tandem::actor
