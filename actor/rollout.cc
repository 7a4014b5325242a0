#include "actor/rollout.h"

#include <algorithm>
#include <memory>
#include <vector>

#include "common/rng.h"
#include "common/status_macros.h"
#include "common/tensor_proto.h"

namespace tandem::actor {

namespace {

// One env's transitions since its episode started; flushed to the writer as one contiguous
// episode so the dataset's episode boundaries and return statistics are right.
struct EpisodeBuffer {
  std::vector<float> obs, state, actions, reward, next_obs, next_state;
  std::vector<uint8_t> terminated, truncated;
  int64_t rows = 0;

  void Clear() {
    for (auto* v : {&obs, &state, &actions, &reward, &next_obs, &next_state}) v->clear();
    terminated.clear();
    truncated.clear();
    rows = 0;
  }
};

template <typename T>
void Append(std::vector<T>& to, const T* from, int64_t count) {
  to.insert(to.end(), from, from + count);
}

absl::Status Flush(EpisodeBuffer& episode, const envs::EnvSpec& spec, DatasetWriter& writer) {
  if (episode.rows == 0) return absl::OkStatus();
  const int64_t t = episode.rows, n = spec.num_agents, o = spec.obs_size;
  const int64_t s = spec.state_size, a = spec.action_size;
  TransitionBatch batch;
  SetTensor(DTYPE_FLOAT32, {t, n, o}, episode.obs.data(), t * n * o * 4, batch.mutable_obs());
  SetTensor(DTYPE_FLOAT32, {t, s}, episode.state.data(), t * s * 4, batch.mutable_state());
  SetTensor(DTYPE_FLOAT32, {t, n, a}, episode.actions.data(), t * n * a * 4,
            batch.mutable_actions());
  SetTensor(DTYPE_FLOAT32, {t}, episode.reward.data(), t * 4, batch.mutable_reward());
  SetTensor(DTYPE_UINT8, {t}, episode.terminated.data(), t, batch.mutable_terminated());
  SetTensor(DTYPE_UINT8, {t}, episode.truncated.data(), t, batch.mutable_truncated());
  SetTensor(DTYPE_FLOAT32, {t, n, o}, episode.next_obs.data(), t * n * o * 4,
            batch.mutable_next_obs());
  SetTensor(DTYPE_FLOAT32, {t, s}, episode.next_state.data(), t * s * 4,
            batch.mutable_next_state());
  RETURN_IF_ERROR(writer.Append(batch));
  episode.Clear();
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<int64_t> RecordRollouts(envs::EnvPool& pool, const ActionFn& act, int64_t env_steps,
                                       DatasetWriter& writer) {
  const envs::EnvSpec& spec = pool.spec();
  const int64_t b = pool.size(), n = spec.num_agents, o = spec.obs_size, s = spec.state_size;
  const int64_t a = spec.action_size;
  std::vector<float> actions(b * n * a), obs(b * n * o), state(b * s);
  std::vector<EpisodeBuffer> episodes(b);
  int64_t recorded = 0;
  while (recorded < env_steps) {
    std::copy(pool.obs().begin(), pool.obs().end(), obs.begin());
    std::copy(pool.state().begin(), pool.state().end(), state.begin());
    RETURN_IF_ERROR(act(pool, absl::MakeSpan(actions)));
    RETURN_IF_ERROR(pool.Step(actions));
    for (int64_t i = 0; i < b && recorded < env_steps; ++i, ++recorded) {
      EpisodeBuffer& e = episodes[i];
      Append(e.obs, obs.data() + i * n * o, n * o);
      Append(e.state, state.data() + i * s, s);
      Append(e.actions, actions.data() + i * n * a, n * a);
      e.reward.push_back(pool.reward()[i]);
      e.terminated.push_back(pool.terminated()[i]);
      e.truncated.push_back(pool.truncated()[i]);
      Append(e.next_obs, pool.obs().data() + i * n * o, n * o);
      Append(e.next_state, pool.state().data() + i * s, s);
      ++e.rows;
      if (pool.terminated()[i] || pool.truncated()[i]) RETURN_IF_ERROR(Flush(e, spec, writer));
    }
    RETURN_IF_ERROR(pool.ResetFinished());
  }
  // Episodes cut by the end of collection are marked truncated: not terminal, just stopped.
  for (EpisodeBuffer& e : episodes) {
    if (e.rows == 0) continue;
    e.truncated.back() = 1;
    RETURN_IF_ERROR(Flush(e, spec, writer));
  }
  return recorded;
}

ActionFn UniformRandomActions(uint64_t seed) {
  auto rng = std::make_shared<Rng>(seed);
  return [rng](const envs::EnvPool& pool, absl::Span<float> actions) {
    const envs::EnvSpec& spec = pool.spec();
    const size_t per_env = spec.action_low.size();
    for (size_t j = 0; j < actions.size(); ++j) {
      const size_t k = j % per_env;
      actions[j] = static_cast<float>(
          spec.action_low[k] + (spec.action_high[k] - spec.action_low[k]) * UniformUnit(*rng));
    }
    return absl::OkStatus();
  };
}

}  // namespace tandem::actor
