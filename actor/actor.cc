#include "actor/actor.h"

#include <ATen/ATen.h>
#include <ATen/Parallel.h>

#include <cstring>
#include <tuple>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "actor/selection/beam_search.h"
#include "actor/selection/exploration.h"
#include "actor/selection/hybrid_scorer.h"
#include "common/logging.h"
#include "common/networks/weights.h"
#include "common/status_macros.h"
#include "common/transition_schema.h"

namespace tandem::actor {
namespace {

bool NeedsCritic(const std::string& selector) {
  return selector == "cbs" || selector == "cbs-greedy" || selector == "cbs-random" ||
         selector == "exhaustive" || selector == "pex";
}

bool NeedsOffline(const std::string& selector) {
  return NeedsCritic(selector) || selector == "offline";
}

const std::vector<std::string>& KnownSelectors() {
  static const auto* known =
      new std::vector<std::string>{"cbs",    "cbs-greedy", "cbs-random", "exhaustive",        "pex",
                                   "online", "offline",    "epsilon",    "sequential-epsilon"};
  return *known;
}

AgentOrder ToAgentOrder(SelectorConfig::AgentOrder order) {
  switch (order) {
    case SelectorConfig::AGENT_ORDER_FORWARD:
      return AgentOrder::kForward;
    case SelectorConfig::AGENT_ORDER_REVERSE:
      return AgentOrder::kReverse;
    default:
      return AgentOrder::kRandom;
  }
}

}  // namespace

Actor::~Actor() = default;

absl::StatusOr<std::unique_ptr<Actor>> Actor::Create(const ActorOptions& options) {
  const ExperimentConfig& config = options.config;
  const std::string& selector = config.selector().name();
  if (std::find(KnownSelectors().begin(), KnownSelectors().end(), selector) ==
      KnownSelectors().end()) {
    return absl::InvalidArgumentError(absl::StrCat("selector.name: unknown selector '", selector,
                                                   "' (known: cbs, cbs-greedy, cbs-random, "
                                                   "exhaustive, pex, online, offline, epsilon, "
                                                   "sequential-epsilon)"));
  }
  if (NeedsOffline(selector) && options.offline_checkpoint.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "selector ", selector, " needs the frozen offline policy: set learner.offline_checkpoint"));
  }
  std::unique_ptr<Actor> actor(new Actor());
  actor->options_ = options;
  const uint64_t seed =
      DeriveSeed(config.seed(), {SeedStream::kActor, static_cast<uint64_t>(options.actor_id)});
  ASSIGN_OR_RETURN(
      actor->pool_,
      envs::EnvPool::Create(
          config.env().name(), config.actors().envs_per_actor(), seed, config.actors().threads(),
          envs::EnvOptions(config.env().options().begin(), config.env().options().end())));
  const envs::EnvSpec& spec = actor->pool_->spec();
  if (spec.action_type != ACTION_TYPE_CONTINUOUS) {
    return absl::UnimplementedError(
        "actor: discrete-action envs need the QMIX critic, which is not built yet");
  }
  const int64_t n = spec.num_agents, a = spec.action_size;
  ASSIGN_OR_RETURN(actor->nets_,
                   PolicySet::Create(spec, config.algorithm(), options.offline_checkpoint));
  actor->rng_.seed(seed);
  actor->generator_ = at::detail::createCPUGenerator(seed);
  const int64_t b = actor->pool_->size();
  actor->ids_ = at::eye(n).unsqueeze(0).expand({b, n, n}).contiguous();
  actor->actions_.assign(b * n * a, 0.f);
  actor->hybrids_.assign(b, 0);
  actor->returns_.assign(b, 0);
  actor->offline_choices_.assign(n, 0);

  TransitionSenderOptions sender;
  sender.max_buffered_transitions = config.actors().max_buffered_transitions();
  sender.initial_backoff = absl::Milliseconds(config.actors().reconnect_initial_ms());
  sender.max_backoff = absl::Milliseconds(config.actors().reconnect_max_ms());
  sender.metrics = options.metrics;
  actor->sender_ = std::make_unique<TransitionSender>(options.replay, sender);
  if (options.parameters != nullptr) {
    ParameterSubscriberOptions subscriber;
    subscriber.initial_backoff = sender.initial_backoff;
    subscriber.max_backoff = sender.max_backoff;
    subscriber.metrics = options.metrics;
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
    for (int i = 0; i < n; ++i) {
      actor->offline_share_.push_back(&m->GetGauge("tandem_actor_offline_action_share",
                                                   "Share of decisions taking the offline action",
                                                   {{"agent", std::to_string(i)}}));
    }
  }
  if (!config.actors().record_dir().empty()) {
    DatasetMetadata metadata;
    metadata.env_name = config.env().name();
    metadata.quality = "replay";
    metadata.behaviour_policy =
        absl::StrCat("actor ", options.actor_id, ", selector ", selector, ", ",
                     config.algorithm().name(), " weights as they were published");
    metadata.source = "tandem actor (actors.record_dir)";
    ASSIGN_OR_RETURN(actor->recorder_,
                     EpisodeRecorder::Create(
                         config.actors().record_dir(), absl::StrCat("actor-", options.actor_id),
                         spec, b, config.actors().record_segment_transitions(), metadata));
  }
  const TransitionSchema schema = *TransitionSchema::Create(spec.ToTransitionSpec());
  schema.Allocate(config.actors().send_batch_transitions(), &actor->outgoing_);
  return actor;
}

absl::Status Actor::SyncWeights() {
  if (subscriber_ == nullptr) return absl::OkStatus();
  std::shared_ptr<const Weights> latest = subscriber_->Latest();
  if (latest == nullptr || latest->version() == stats_.weights_version) return absl::OkStatus();
  RETURN_IF_ERROR(nets_.Update(*latest));
  stats_.weights_version = latest->version();
  learner_step_ = latest->learner_step();
  if (version_metric_ != nullptr) version_metric_->Set(static_cast<double>(latest->version()));
  return absl::OkStatus();
}

absl::Status Actor::SelectActions() {
  const envs::EnvSpec& spec = pool_->spec();
  const int64_t b = pool_->size(), n = spec.num_agents, o = spec.obs_size, a = spec.action_size;
  const SelectorConfig& selector = options_.config.selector();
  const std::string& name = selector.name();
  at::InferenceMode inference;
  const at::Tensor obs = at::from_blob(const_cast<float*>(pool_->obs().data()), {b, n, o});
  const at::Tensor input = at::cat({obs, ids_}, -1);

  if (stats_.env_steps < options_.config.actors().random_warmup_steps()) {
    // Warm-up (training from scratch): uniform random actions in every agent's box.
    for (int64_t e = 0; e < b; ++e) {
      for (int64_t i = 0; i < n; ++i) {
        RandomContinuousAction(absl::MakeConstSpan(spec.action_low).subspan(i * a, a),
                               absl::MakeConstSpan(spec.action_high).subspan(i * a, a), rng_,
                               absl::MakeSpan(actions_).subspan((e * n + i) * a, a));
      }
      hybrids_[e] = 0;
    }
    return absl::OkStatus();
  }
  if (name == "epsilon" || name == "sequential-epsilon") {
    const at::Tensor greedy = nets_.online_policy->Deterministic(input).contiguous();
    std::memcpy(actions_.data(), greedy.data_ptr<float>(), actions_.size() * sizeof(float));
    const double epsilon = EpsilonAt(selector.epsilon_start(), selector.epsilon_end(),
                                     selector.epsilon_anneal_env_steps(), stats_.env_steps);
    const ExplorationRule rule = name == "epsilon" ? ExplorationRule::kIndependent
                                 : selector.decentralized()
                                     ? ExplorationRule::kSequentialDecentralized
                                     : ExplorationRule::kSequentialCentralized;
    for (int64_t e = 0; e < b; ++e) {
      const Hybrid explorers = ChooseExplorers(rule, epsilon, static_cast<int>(n), rng_);
      for (int64_t i = 0; i < n; ++i) {
        if (!((explorers >> i) & 1)) continue;
        const size_t offset = (e * n + i) * a;
        RandomContinuousAction(absl::MakeConstSpan(spec.action_low).subspan(i * a, a),
                               absl::MakeConstSpan(spec.action_high).subspan(i * a, a), rng_,
                               absl::MakeSpan(actions_).subspan(offset, a));
      }
    }
    return absl::OkStatus();
  }

  if (name == "online" || name == "offline") {
    const at::Tensor chosen = name == "online"
                                  ? nets_.online_policy->Sample(input, generator_).contiguous()
                                  : nets_.offline_policy->Deterministic(input).contiguous();
    std::memcpy(actions_.data(), chosen.data_ptr<float>(), actions_.size() * sizeof(float));
    return absl::OkStatus();
  }

  // Critic-guided selection needs both proposals and the local critic on each, plus one mixer
  // pass. The offline branch and the online branch are independent, so with two or more actor
  // threads they run in parallel (branch 0 on this thread, which owns the sampling generator).
  const at::Tensor state = at::from_blob(const_cast<float*>(pool_->state().data()),
                                         {b, static_cast<int64_t>(spec.state_size)});
  at::Tensor online, offline, q_online, q_offline, w, bias;
  RETURN_IF_ERROR(pool_->workers().ForEach(2, [&](int branch) -> absl::Status {
    at::InferenceMode branch_inference;  // thread-local: the helper thread needs its own
    at::init_num_threads();              // and the process's intra-op thread count
    try {
      if (branch == 0) {
        online = nets_.online_policy->Sample(input, generator_).contiguous();
        q_online = nets_.q->forward(at::cat({obs, online, ids_}, -1)).squeeze(-1).contiguous();
        std::tie(w, bias) = nets_.mixer->forward(state);
        w = w.contiguous();
        bias = bias.contiguous();
      } else {
        offline = nets_.offline_policy->Deterministic(input).contiguous();
        q_offline = nets_.q->forward(at::cat({obs, offline, ids_}, -1)).squeeze(-1).contiguous();
      }
    } catch (const std::exception& e) {
      return absl::InternalError(absl::StrCat("actor: inference failed: ", e.what()));
    }
    return absl::OkStatus();
  }));
  const float* q_off = q_offline.data_ptr<float>();
  const float* q_on = q_online.data_ptr<float>();
  const float* w_data = w.data_ptr<float>();
  const float* b_data = bias.data_ptr<float>();
  const float* off_data = offline.data_ptr<float>();
  const float* on_data = online.data_ptr<float>();
  BeamSearchOptions beam{selector.beam_width(), selector.temperature(),
                         ToAgentOrder(selector.agent_order()), BeamRule::kSample};
  if (name == "cbs-greedy") beam.rule = BeamRule::kGreedy;
  if (name == "cbs-random") beam.rule = BeamRule::kRandom;
  for (int64_t e = 0; e < b; ++e) {
    FactorizedScorer scorer(std::vector<double>(w_data + e * n, w_data + (e + 1) * n),
                            std::vector<double>(q_off + e * n, q_off + (e + 1) * n),
                            std::vector<double>(q_on + e * n, q_on + (e + 1) * n), b_data[e]);
    Hybrid hybrid = 0;
    if (name == "exhaustive") {
      ASSIGN_OR_RETURN(hybrid, ExhaustiveSearch(scorer));
    } else if (name == "pex") {
      hybrid = PolicyExpansionChoice(scorer, selector.temperature(), rng_);
    } else {
      hybrid = CoordinatedBeamSearch(scorer, beam, rng_).executed;
    }
    hybrids_[e] = hybrid;
    for (int64_t i = 0; i < n; ++i) {
      const float* from = ((hybrid >> i) & 1) ? off_data : on_data;
      std::memcpy(actions_.data() + (e * n + i) * a, from + (e * n + i) * a, a * sizeof(float));
      offline_choices_[i] += (hybrid >> i) & 1;
    }
    ++decisions_;
  }
  return absl::OkStatus();
}

absl::Status Actor::RecordStep() {
  const envs::EnvSpec& spec = pool_->spec();
  const int64_t b = pool_->size(), n = spec.num_agents, o = spec.obs_size, a = spec.action_size;
  const int64_t s = spec.state_size;
  const int64_t capacity = options_.config.actors().send_batch_transitions();
  auto put = [&](Tensor* tensor, const void* source, size_t bytes) {
    std::memcpy(tensor->mutable_data()->data() + outgoing_rows_ * bytes, source, bytes);
  };
  for (int64_t e = 0; e < b; ++e) {
    put(outgoing_.mutable_obs(), prev_obs_.data() + e * n * o, n * o * 4);
    put(outgoing_.mutable_state(), prev_state_.data() + e * s, s * 4);
    put(outgoing_.mutable_actions(), actions_.data() + e * n * a, n * a * 4);
    put(outgoing_.mutable_reward(), pool_->reward().data() + e, 4);
    put(outgoing_.mutable_terminated(), pool_->terminated().data() + e, 1);
    put(outgoing_.mutable_truncated(), pool_->truncated().data() + e, 1);
    put(outgoing_.mutable_next_obs(), pool_->obs().data() + e * n * o, n * o * 4);
    put(outgoing_.mutable_next_state(), pool_->state().data() + e * s, s * 4);
    if (++outgoing_rows_ == capacity) {
      outgoing_.set_actor_id(options_.actor_id);
      outgoing_.set_weights_version(stats_.weights_version);
      sender_->Enqueue(outgoing_, stop_);
      outgoing_rows_ = 0;
    }
    if (recorder_ != nullptr) {
      RETURN_IF_ERROR(recorder_->Add(static_cast<int>(e), prev_obs_.data() + e * n * o,
                                     prev_state_.data() + e * s, actions_.data() + e * n * a,
                                     pool_->reward()[e], pool_->terminated()[e],
                                     pool_->truncated()[e], pool_->obs().data() + e * n * o,
                                     pool_->state().data() + e * s, learner_step_));
    }
    returns_[e] += pool_->reward()[e];
    if (pool_->terminated()[e] || pool_->truncated()[e]) {
      ++stats_.episodes;
      stats_.last_episode_return = returns_[e];
      if (episodes_metric_ != nullptr) {
        episodes_metric_->Increment();
        return_metric_->Set(returns_[e]);
      }
      returns_[e] = 0;
    }
  }
  stats_.env_steps += b;
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

absl::StatusOr<double> Actor::TimeSelection(int iterations) {
  RETURN_IF_ERROR(pool_->ResetAll());
  RETURN_IF_ERROR(SelectActions());  // warm-up
  const absl::Time start = absl::Now();
  for (int i = 0; i < iterations; ++i) RETURN_IF_ERROR(SelectActions());
  return absl::ToDoubleSeconds(absl::Now() - start) / iterations;
}

absl::Status Actor::Run(const std::function<bool()>& stop, int64_t max_env_steps) {
  stop_ = stop;
  RETURN_IF_ERROR(pool_->ResetAll());
  while (stats_.env_steps < max_env_steps && !(stop && stop())) {
    const absl::Time start = absl::Now();
    RETURN_IF_ERROR(SyncWeights());
    RETURN_IF_ERROR(SelectActions());
    const absl::Time selected = absl::Now();
    prev_obs_.assign(pool_->obs().begin(), pool_->obs().end());
    prev_state_.assign(pool_->state().begin(), pool_->state().end());
    RETURN_IF_ERROR(pool_->Step(actions_));
    RETURN_IF_ERROR(RecordStep());
    RETURN_IF_ERROR(pool_->ResetFinished());
    if (action_seconds_ != nullptr) {
      action_seconds_->Observe(absl::ToDoubleSeconds(selected - start));
      step_seconds_->Observe(absl::ToDoubleSeconds(absl::Now() - start));
    }
  }
  if (outgoing_rows_ > 0) {
    // Send the partial batch: trim every column to the rows written.
    TransitionBatch partial = outgoing_;
    const TransitionSchema schema = *TransitionSchema::Create(pool_->spec().ToTransitionSpec());
    for (const Column& column : schema.columns()) {
      Tensor* tensor = MutableField(&partial, column.field);
      tensor->set_shape(0, outgoing_rows_);
      tensor->mutable_data()->resize(outgoing_rows_ * column.row_bytes);
    }
    partial.set_actor_id(options_.actor_id);
    partial.set_weights_version(stats_.weights_version);
    sender_->Enqueue(std::move(partial), stop_);
    outgoing_rows_ = 0;
  }
  if (recorder_ != nullptr) RETURN_IF_ERROR(recorder_->Close());
  return absl::OkStatus();
}

}  // namespace tandem::actor
