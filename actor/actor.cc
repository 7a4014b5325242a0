#include "actor/actor.h"

#include <ATen/ATen.h>
#include <ATen/Parallel.h>

#include <cmath>
#include <cstring>
#include <tuple>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/config.h"
#include "common/grpc_security.h"
#include "common/logging.h"
#include "common/status_macros.h"
#include "common/transition_schema.h"

namespace tandem::actor {

Actor::~Actor() = default;

absl::StatusOr<std::unique_ptr<Actor>> Actor::Create(const ActorOptions& options) {
  const ExperimentConfig& config = options.config;
  std::unique_ptr<Actor> actor(new Actor());
  actor->options_ = options;
  const uint64_t seed =
      DeriveSeed(config.seed(), {SeedStream::kActor, static_cast<uint64_t>(options.actor_id)});
  ASSIGN_OR_RETURN(
      std::unique_ptr<envs::EnvPool> pool,
      envs::EnvPool::Create(
          config.env().name(), config.actors().envs_per_actor(), seed, config.actors().threads(),
          envs::EnvOptions(config.env().options().begin(), config.env().options().end())));
  const envs::EnvSpec& spec = pool->spec();
  const int64_t n = spec.num_agents, b = pool->size();
  ASSIGN_OR_RETURN(actor->policy_,
                   policies::CreateActingPolicy(policies::PolicyContext{
                       spec.ToTransitionSpec(), config.algorithm(), options.offline_checkpoint}));
  ASSIGN_OR_RETURN(std::unique_ptr<ActionSelector> selector,
                   CreateSelector(config.selector(), spec.action_type, spec.name,
                                  actor->policy_->capabilities()));
  StepLoopOptions loop;
  loop.seed = seed;
  loop.random_warmup_steps = config.actors().random_warmup_steps();
  ASSIGN_OR_RETURN(actor->loop_, StepLoop::Create(std::move(pool), actor->policy_.get(),
                                                  std::move(selector), loop));
  actor->returns_.assign(b, 0);
  actor->offline_choices_.assign(n, 0);

  TransitionSenderOptions sender;
  sender.max_buffered_transitions = config.actors().max_buffered_transitions();
  sender.initial_backoff = absl::Milliseconds(config.actors().reconnect_initial_ms());
  sender.max_backoff = absl::Milliseconds(config.actors().reconnect_max_ms());
  sender.metrics = options.metrics;
  const auto& tables = config.actors().tables();
  if (!tables.empty()) sender.table = tables[0];
  actor->sender_ = std::make_unique<TransitionSender>(options.replay, sender);
  for (int t = 1; t < tables.size(); ++t) {
    TransitionSenderOptions mirror = sender;
    mirror.metrics = nullptr;  // the transitions are counted once, by the first sender
    mirror.table = tables[t];
    actor->mirrors_.push_back(std::make_unique<TransitionSender>(options.replay, mirror));
  }
  if (options.parameters != nullptr) {
    ParameterSubscriberOptions subscriber;
    subscriber.initial_backoff = sender.initial_backoff;
    subscriber.max_backoff = sender.max_backoff;
    subscriber.metrics = options.metrics;
    ASSIGN_OR_RETURN(subscriber.auth_token, ResolveAuthToken(config.security()));
    actor->subscriber_ = std::make_unique<ParameterSubscriber>(options.parameters, subscriber);
  }
  if (MetricsRegistry* m = options.metrics) {
    actor->env_steps_metric_ = &m->GetCounter("tandem_actor_env_steps_total", "Env steps taken");
    actor->episodes_metric_ = &m->GetCounter("tandem_actor_episodes_total", "Episodes finished");
    actor->return_metric_ =
        &m->GetGauge("tandem_actor_episode_return", "Return of the last episode");
    actor->version_metric_ =
        &m->GetGauge("tandem_actor_weights_version", "Weights version the actor acts with");
    actor->action_seconds_ = &m->GetHistogram(
        "tandem_actor_action_selection_seconds",
        "Time to select the joint actions of all envs for one step", LatencyBuckets());
    actor->step_seconds_ = &m->GetHistogram("tandem_actor_step_seconds",
                                            "Time of one whole actor step", LatencyBuckets());
    if (actor->loop_->selector().needs().request.offline != policies::ProposalMode::kNone) {
      for (int i = 0; i < n; ++i) {
        actor->offline_share_.push_back(&m->GetGauge("tandem_actor_offline_action_share",
                                                     "Share of decisions taking the offline action",
                                                     {{"agent", std::to_string(i)}}));
      }
    }
  }
  if (!config.actors().record_dir().empty()) {
    if (spec.action_type != ACTION_TYPE_CONTINUOUS && !EpisodeItems(config.replay())) {
      return absl::InvalidArgumentError(
          "actors.record_dir: discrete-action envs are recorded as whole episodes; declare "
          "episode tables (replay.tables item_kind: ITEM_KIND_EPISODE)");
    }
    DatasetMetadata metadata;
    metadata.env_name = config.env().name();
    metadata.quality = "replay";
    metadata.behaviour_policy =
        absl::StrCat("actor ", options.actor_id, ", selector ", config.selector().name(), ", ",
                     config.algorithm().name(), " weights as they were published");
    metadata.source = "tandem actor (actors.record_dir)";
    const std::string prefix = absl::StrCat("actor-", options.actor_id);
    if (spec.action_type == ACTION_TYPE_CONTINUOUS) {
      ASSIGN_OR_RETURN(
          actor->recorder_,
          EpisodeRecorder::Create(config.actors().record_dir(), prefix, spec, b,
                                  config.actors().record_segment_transitions(), metadata));
    } else {
      ASSIGN_OR_RETURN(actor->recorder_,
                       EpisodeRecorder::CreateForEpisodes(
                           config.actors().record_dir(), prefix, spec, spec.ToEpisodeSpec(),
                           config.actors().record_segment_transitions(), metadata));
    }
  }
  if (EpisodeItems(config.replay())) {
    if (spec.action_type != ACTION_TYPE_DISCRETE || !spec.has_avail_actions ||
        spec.episode_limit < 1) {
      return absl::InvalidArgumentError(absl::StrCat(
          "replay.tables item_kind: episode items need a discrete env with availability masks and "
          "an episode limit; ",
          spec.name, " is not one"));
    }
    ASSIGN_OR_RETURN(actor->episodes_,
                     EpisodeAssembler::Create(spec.ToEpisodeSpec(), static_cast<int>(b)));
  } else {
    const TransitionSchema schema = *TransitionSchema::Create(spec.ToTransitionSpec());
    schema.Allocate(config.actors().send_batch_transitions(), &actor->outgoing_);
  }
  actor->lengths_.assign(b, 0);
  if (MetricsRegistry* m = options.metrics;
      m != nullptr && spec.action_type == ACTION_TYPE_DISCRETE) {
    actor->win_rate_metric_ =
        &m->GetGauge("tandem_actor_win_rate",
                     "Share of the actor's last 100 training episodes won (combat envs)");
  }
  if (MetricsRegistry* m = options.metrics;
      m != nullptr && !std::isnan(actor->loop_->selector().Exploration(0))) {
    actor->epsilon_metric_ = &m->GetGauge(
        "tandem_actor_epsilon", "Exploration probability of the actor's epsilon-greedy selector");
  }
  if (MetricsRegistry* m = options.metrics) {
    actor->episode_length_metric_ =
        &m->GetGauge("tandem_actor_episode_length", "Env steps of the last finished episode");
  }
  return actor;
}

absl::Status Actor::SyncWeights() {
  if (subscriber_ == nullptr) return absl::OkStatus();
  std::shared_ptr<const Weights> latest = subscriber_->Latest();
  if (latest == nullptr || latest->version() == stats_.weights_version) return absl::OkStatus();
  RETURN_IF_ERROR(policy_->LoadWeights(*latest));
  stats_.weights_version = latest->version();
  learner_step_ = latest->learner_step();
  if (version_metric_ != nullptr) version_metric_->Set(static_cast<double>(latest->version()));
  return absl::OkStatus();
}

void Actor::PutTransition(int64_t e) {
  const envs::EnvPool& pool = loop_->pool();
  const envs::EnvSpec& spec = pool.spec();
  const int64_t n = spec.num_agents, o = spec.obs_size, a = spec.action_size;
  const int64_t s = spec.state_size;
  auto put = [&](Tensor* tensor, const void* source, size_t bytes) {
    std::memcpy(tensor->mutable_data()->data() + outgoing_rows_ * bytes, source, bytes);
  };
  put(outgoing_.mutable_obs(), loop_->prev_obs().data() + e * n * o, n * o * 4);
  put(outgoing_.mutable_state(), loop_->prev_state().data() + e * s, s * 4);
  if (loop_->discrete()) {
    put(outgoing_.mutable_actions(), loop_->discrete_actions().data() + e * n, n * 4);
  } else {
    put(outgoing_.mutable_actions(), loop_->continuous_actions().data() + e * n * a, n * a * 4);
  }
  put(outgoing_.mutable_reward(), pool.reward().data() + e, 4);
  put(outgoing_.mutable_terminated(), pool.terminated().data() + e, 1);
  put(outgoing_.mutable_truncated(), pool.truncated().data() + e, 1);
  put(outgoing_.mutable_next_obs(), pool.obs().data() + e * n * o, n * o * 4);
  put(outgoing_.mutable_next_state(), pool.state().data() + e * s, s * 4);
  if (spec.has_avail_actions) {
    put(outgoing_.mutable_avail_actions(), loop_->prev_avail().data() + e * n * a, n * a);
    put(outgoing_.mutable_next_avail_actions(), pool.avail_actions().data() + e * n * a, n * a);
  }
}

absl::Status Actor::RecordStep() {
  const envs::EnvPool& pool = loop_->pool();
  const envs::EnvSpec& spec = pool.spec();
  const int64_t b = pool.size(), n = spec.num_agents, o = spec.obs_size, a = spec.action_size;
  const int64_t s = spec.state_size;
  const int64_t capacity = options_.config.actors().send_batch_transitions();
  for (int64_t e = 0; e < b; ++e) {
    if (episodes_.has_value()) {
      episodes_->Add(
          static_cast<int>(e),
          EpisodeStep{loop_->prev_obs().data() + e * n * o, loop_->prev_state().data() + e * s,
                      loop_->prev_avail().data() + e * n * a,
                      loop_->discrete_actions().data() + e * n, pool.reward()[e],
                      pool.terminated()[e] != 0, pool.truncated()[e] != 0,
                      pool.obs().data() + e * n * o, pool.state().data() + e * s,
                      pool.avail_actions().data() + e * n * a, pool.won()[e] != 0});
    } else {
      PutTransition(e);
      if (++outgoing_rows_ == capacity) {
        outgoing_.set_actor_id(options_.actor_id);
        outgoing_.set_weights_version(stats_.weights_version);
        Send(outgoing_);
        outgoing_rows_ = 0;
      }
    }
    if (recorder_ != nullptr && !episodes_.has_value()) {
      RETURN_IF_ERROR(recorder_->Add(
          static_cast<int>(e), loop_->prev_obs().data() + e * n * o,
          loop_->prev_state().data() + e * s, loop_->continuous_actions().data() + e * n * a,
          pool.reward()[e], pool.terminated()[e], pool.truncated()[e],
          pool.obs().data() + e * n * o, pool.state().data() + e * s, learner_step_));
    }
    returns_[e] += pool.reward()[e];
    ++lengths_[e];
    if (pool.terminated()[e] || pool.truncated()[e]) {
      ++stats_.episodes;
      stats_.last_episode_return = returns_[e];
      const bool won = pool.terminated()[e] && pool.won()[e];
      stats_.episodes_won += won ? 1 : 0;
      if (recent_wins_.size() < 100) {
        recent_wins_.push_back(won ? 1 : 0);
      } else {
        recent_wins_[recent_next_++ % recent_wins_.size()] = won ? 1 : 0;
      }
      if (episodes_metric_ != nullptr) {
        episodes_metric_->Increment();
        return_metric_->Set(returns_[e]);
        episode_length_metric_->Set(static_cast<double>(lengths_[e]));
      }
      if (win_rate_metric_ != nullptr) {
        int64_t wins = 0;
        for (uint8_t w : recent_wins_) wins += w;
        win_rate_metric_->Set(static_cast<double>(wins) / recent_wins_.size());
      }
      returns_[e] = 0;
      lengths_[e] = 0;
    }
    if (!offline_share_.empty() && loop_->selected()) {
      for (int64_t i = 0; i < n; ++i) offline_choices_[i] += (loop_->hybrids()[e] >> i) & 1;
      ++decisions_;
    }
  }
  if (episodes_.has_value() && episodes_->finished_steps() >= capacity) {
    RETURN_IF_ERROR(SendEpisodes());
  }
  stats_.env_steps += b;
  if (epsilon_metric_ != nullptr) {
    epsilon_metric_->Set(loop_->selector().Exploration(stats_.env_steps));
  }
  if (env_steps_metric_ != nullptr) env_steps_metric_->Increment(static_cast<double>(b));
  if (!offline_share_.empty() && decisions_ >= 100) {
    for (int64_t i = 0; i < n; ++i) {
      offline_share_[i]->Set(static_cast<double>(offline_choices_[i]) / decisions_);
      offline_choices_[i] = 0;
    }
    decisions_ = 0;
  }
  return absl::OkStatus();
}

absl::Status Actor::SendEpisodes(bool record) {
  std::vector<uint8_t> won;
  TransitionBatch batch = episodes_->TakeFinished(&won);
  if (recorder_ != nullptr && record) {
    // The episodes acted with weights published since the previous send (or before).
    RETURN_IF_ERROR(recorder_->AddEpisodes(batch, won, episodes_sent_step_, learner_step_));
    episodes_sent_step_ = learner_step_;
  }
  batch.set_actor_id(options_.actor_id);
  batch.set_weights_version(stats_.weights_version);
  Send(std::move(batch));
  return absl::OkStatus();
}

void Actor::Send(TransitionBatch batch) {
  for (auto& mirror : mirrors_) mirror->Enqueue(batch, stop_);
  sender_->Enqueue(std::move(batch), stop_);
}

void Actor::CloseSenders(absl::Duration grace) {
  sender_->Close(grace);
  for (auto& mirror : mirrors_) mirror->Close(grace);
}

absl::StatusOr<double> Actor::TimeSelection(int iterations) {
  RETURN_IF_ERROR(loop_->Begin());
  RETURN_IF_ERROR(loop_->Act(stats_.env_steps));  // warm-up
  const absl::Time start = absl::Now();
  for (int i = 0; i < iterations; ++i) RETURN_IF_ERROR(loop_->Act(stats_.env_steps));
  return absl::ToDoubleSeconds(absl::Now() - start) / iterations;
}

absl::Status Actor::Run(const std::function<bool()>& stop, int64_t max_env_steps) {
  stop_ = stop;
  RETURN_IF_ERROR(loop_->Begin());
  while (stats_.env_steps < max_env_steps && !(stop && stop())) {
    const absl::Time start = absl::Now();
    RETURN_IF_ERROR(SyncWeights());
    RETURN_IF_ERROR(loop_->Act(stats_.env_steps));
    const absl::Time selected = absl::Now();
    RETURN_IF_ERROR(loop_->Step());
    const absl::Time stepped = absl::Now();
    RETURN_IF_ERROR(RecordStep());
    const absl::Time recorded = absl::Now();
    RETURN_IF_ERROR(loop_->ResetFinished());
    stats_.env_seconds +=
        absl::ToDoubleSeconds(stepped - selected) + absl::ToDoubleSeconds(absl::Now() - recorded);
    if (action_seconds_ != nullptr) {
      action_seconds_->Observe(absl::ToDoubleSeconds(selected - start));
      step_seconds_->Observe(absl::ToDoubleSeconds(absl::Now() - start));
    }
  }
  if (episodes_.has_value()) {
    // Finished episodes go out (and to the recorder); those still running end here, cut by the
    // stop, and are sent (their last observation bootstraps) but not recorded: they are not whole.
    if (episodes_->finished_episodes() > 0) RETURN_IF_ERROR(SendEpisodes());
    const envs::EnvPool& pool = loop_->pool();
    const envs::EnvSpec& spec = pool.spec();
    const int64_t n = spec.num_agents, o = spec.obs_size, s = spec.state_size;
    const int64_t a = spec.action_size;
    for (int64_t e = 0; e < pool.size(); ++e) {
      episodes_->Cut(static_cast<int>(e), pool.obs().data() + e * n * o,
                     pool.state().data() + e * s, pool.avail_actions().data() + e * n * a);
    }
    if (episodes_->finished_episodes() > 0) RETURN_IF_ERROR(SendEpisodes(/*record=*/false));
  }
  if (outgoing_rows_ > 0) {
    // Send the partial batch: trim every column to the rows written.
    TransitionBatch partial = outgoing_;
    const TransitionSchema schema = *TransitionSchema::Create(loop_->spec().ToTransitionSpec());
    for (const Column& column : schema.columns()) {
      Tensor* tensor = MutableField(&partial, column.field);
      tensor->set_shape(0, outgoing_rows_);
      tensor->mutable_data()->resize(outgoing_rows_ * column.row_bytes);
    }
    partial.set_actor_id(options_.actor_id);
    partial.set_weights_version(stats_.weights_version);
    Send(std::move(partial));
    outgoing_rows_ = 0;
  }
  if (recorder_ != nullptr) RETURN_IF_ERROR(recorder_->Close());
  return absl::OkStatus();
}

}  // namespace tandem::actor
