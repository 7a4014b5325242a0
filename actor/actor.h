// The actor process: a pool of B environments, the algorithm's acting policy (the frozen offline
// policy loaded once from the offline checkpoint, the online networks replaced between steps when
// the learner publishes a newer version) and one registered selector (selection/selector.h), all
// driven by the shared StepLoop. Every decision step runs one batched forward per network over all
// B envs; transitions (with availability masks on discrete envs) stream to the replay server in
// batches, or whole padded episodes when the replay tables hold episodes (recurrent agents).
#ifndef TANDEM_ACTOR_ACTOR_H_
#define TANDEM_ACTOR_ACTOR_H_

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "actor/episode_assembler.h"
#include "actor/episode_recorder.h"
#include "actor/step_loop.h"
#include "actor/transition_sender.h"
#include "common/metrics.h"
#include "common/parameter_client.h"
#include "common/replay_client.h"
#include "envs/env_pool.h"
#include "proto/config.pb.h"

namespace tandem::actor {

struct ActorOptions {
  ExperimentConfig config;
  int actor_id = 0;
  // Where transitions go and where weights come from ("" = no subscription).
  std::shared_ptr<replay::ReplayClient> replay;
  std::shared_ptr<grpc::Channel> parameters;
  // The offline checkpoint ("" = no offline policy: selectors needing it are refused).
  std::string offline_checkpoint;
  MetricsRegistry* metrics = nullptr;
};

struct ActorStats {
  int64_t env_steps = 0;
  int64_t episodes = 0;
  uint64_t weights_version = 0;
  double last_episode_return = 0;
  // Combat envs: episodes won (the env's `won` flag) among `episodes`.
  int64_t episodes_won = 0;
  // Wall time spent stepping and resetting the envs themselves (the rest of Run is the actor's
  // own work: selection, weight sync, assembling and sending).
  double env_seconds = 0;
};

class Actor {
 public:
  static absl::StatusOr<std::unique_ptr<Actor>> Create(const ActorOptions& options);
  ~Actor();

  // Steps the pool until `stop()` returns true or `max_env_steps` env steps were taken.
  absl::Status Run(const std::function<bool()>& stop, int64_t max_env_steps);

  // Resets the envs and times `iterations` action selections for the current observations
  // (`tandem bench cbs`); returns seconds per selection.
  absl::StatusOr<double> TimeSelection(int iterations);

  const ActorStats& stats() const { return stats_; }
  // The sender to the first of actors.tables (the others receive copies of every batch).
  TransitionSender& sender() { return *sender_; }
  // Closes every sender, each with up to `grace` to drain.
  void CloseSenders(absl::Duration grace);

 private:
  Actor() = default;
  // Swaps in a newer published version, if any.
  absl::Status SyncWeights();
  absl::Status RecordStep();
  // Copies env e's transition of the last step into row `outgoing_rows_` of outgoing_.
  void PutTransition(int64_t e);
  // Sends (and records, with actors.record_dir) the finished episodes (episode tables).
  absl::Status SendEpisodes(bool record = true);
  // Queues `batch` on every sender.
  void Send(TransitionBatch batch);

  ActorOptions options_;
  std::unique_ptr<policies::ActingPolicy> policy_;
  std::unique_ptr<StepLoop> loop_;
  std::unique_ptr<TransitionSender> sender_;
  // Senders to the further tables of actors.tables.
  std::vector<std::unique_ptr<TransitionSender>> mirrors_;
  std::unique_ptr<ParameterSubscriber> subscriber_;
  std::vector<double> returns_;
  std::vector<int64_t> offline_choices_;
  int64_t decisions_ = 0;
  TransitionBatch outgoing_;
  int64_t outgoing_rows_ = 0;
  // Episode tables (replay.tables item_kind): whole episodes instead of transitions.
  std::optional<EpisodeAssembler> episodes_;
  // Learner step of the weights at the previous SendEpisodes (the oldest that acted since).
  int64_t episodes_sent_step_ = 0;
  Gauge* win_rate_metric_ = nullptr;
  Gauge* epsilon_metric_ = nullptr;
  Gauge* episode_length_metric_ = nullptr;
  std::vector<int64_t> lengths_;
  // Train win rate over the last episodes (a window of 100).
  std::vector<uint8_t> recent_wins_;
  size_t recent_next_ = 0;
  ActorStats stats_;
  // actors.record_dir: everything generated, as whole episodes on disk.
  std::unique_ptr<EpisodeRecorder> recorder_;
  // Learner steps of the weights acting now.
  int64_t learner_step_ = 0;
  std::function<bool()> stop_;  // Run's stop condition, also ends back-pressure waits

  Counter* env_steps_metric_ = nullptr;
  Counter* episodes_metric_ = nullptr;
  Gauge* return_metric_ = nullptr;
  Gauge* version_metric_ = nullptr;
  Histogram* action_seconds_ = nullptr;
  Histogram* step_seconds_ = nullptr;
  std::vector<Gauge*> offline_share_;
};

}  // namespace tandem::actor

#endif  // TANDEM_ACTOR_ACTOR_H_
