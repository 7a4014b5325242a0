// Builds episode items (the episode layout of proto/transition.proto: whole episodes padded to
// L = episode limit + 1 entries) from the steps of a pool of envs. Each env grows one episode; when
// it ends, the episode joins the finished batch, which the actor sends to the replay server.
//
//   EpisodeAssembler episodes(spec, num_envs);
//   episodes.Add(e, step);                        // after every pool step, for every env
//   if (episodes.finished_steps() >= 256) Send(episodes.TakeFinished());
#ifndef TANDEM_ACTOR_EPISODE_ASSEMBLER_H_
#define TANDEM_ACTOR_EPISODE_ASSEMBLER_H_

#include <cstdint>
#include <vector>

#include "absl/status/statusor.h"
#include "common/transition_schema.h"
#include "proto/transition.pb.h"

namespace tandem::actor {

// One env step as the assembler needs it; pointers into the step loop's and the pool's buffers.
struct EpisodeStep {
  const float* obs;        // [N, O] the agents acted on
  const float* state;      // [S]
  const uint8_t* avail;    // [N, K]
  const int32_t* actions;  // [N]
  float reward;
  bool terminated;            // s' is terminal
  bool truncated;             // the episode was cut at s' (time limit)
  const float* next_obs;      // [N, O] s', the final observation when the episode ended
  const float* next_state;    // [S]
  const uint8_t* next_avail;  // [N, K]
  bool won = false;           // the episode ended with the team's win (combat envs)
};

class EpisodeAssembler {
 public:
  // `spec` must have the episode layout (episode_steps > 0).
  static absl::StatusOr<EpisodeAssembler> Create(const TransitionSpec& spec, int num_envs);

  // Appends env `e`'s step. An episode that ends (terminated or truncated) joins the finished
  // batch. One that reaches L - 1 steps without ending is cut there (treated as truncated; counted
  // by cut_episodes()) so an item never overflows, and the next step starts a new item.
  void Add(int e, const EpisodeStep& step);
  // Ends env `e`'s episode where it stands (as truncated, with the env's current observation as
  // the final one), e.g. when the actor stops; an episode without a step is discarded.
  void Cut(int e, const float* obs, const float* state, const uint8_t* avail);

  int64_t finished_episodes() const { return finished_items_; }
  // Env steps in the finished episodes.
  int64_t finished_steps() const { return finished_steps_; }
  int64_t cut_episodes() const { return cut_; }
  // The finished episodes as one batch (actor id and weights version left for the caller), and a
  // fresh empty batch behind them. `won`, when given, receives each episode's outcome.
  TransitionBatch TakeFinished(std::vector<uint8_t>* won = nullptr);

 private:
  EpisodeAssembler(TransitionSchema schema, int num_envs);
  // Writes the entry `t` observation, state and mask of env `e`.
  void PutObservation(int e, int64_t t, const float* obs, const float* state, const uint8_t* avail);
  // Moves env `e`'s episode (its steps so far) to the finished batch and clears the env's item.
  void Finish(int e, bool won);

  TransitionSchema schema_;
  int64_t l_, n_, o_, s_, k_;
  // Per env: one item (all columns, one row) and the steps taken so far.
  std::vector<TransitionBatch> growing_;
  std::vector<int64_t> steps_;
  TransitionBatch finished_;
  std::vector<uint8_t> finished_won_;
  int64_t finished_items_ = 0;
  int64_t finished_steps_ = 0;
  int64_t cut_ = 0;
};

}  // namespace tandem::actor

#endif  // TANDEM_ACTOR_EPISODE_ASSEMBLER_H_
