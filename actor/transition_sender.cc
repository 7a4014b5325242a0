#include "actor/transition_sender.h"

#include <vector>

#include "common/logging.h"
#include "common/transition_schema.h"

namespace tandem::actor {

TransitionSender::TransitionSender(std::shared_ptr<replay::ReplayClient> client,
                                   const TransitionSenderOptions& options)
    : client_(std::move(client)), options_(options) {
  if (MetricsRegistry* m = options.metrics) {
    sent_metric_ = &m->GetCounter("tandem_actor_transitions_sent_total",
                                  "Transitions acknowledged by the replay server");
    dropped_metric_ = &m->GetCounter("tandem_actor_transitions_dropped_total",
                                     "Transitions dropped because the local buffer was full");
    buffered_metric_ = &m->GetGauge("tandem_actor_buffered_transitions",
                                    "Transitions waiting in the actor's local buffer");
  }
  thread_ = std::thread([this] { Run(); });
}

TransitionSender::~TransitionSender() { Close(); }

bool TransitionSender::Enqueue(TransitionBatch batch, const std::function<bool()>& stop) {
  const int64_t rows = NumSteps(batch);
  absl::MutexLock lock(&mu_);
  // Connected: hold at most a few batches beyond those in flight, so the replay server's rate
  // limiter throttles the actor instead of a deep local queue going stale. Away: keep up to
  // max_buffered_transitions and drop beyond that.
  const size_t connected_window = static_cast<size_t>(options_.max_in_flight) + 2;
  auto room = [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    if (closing_ || pending_.empty()) return true;
    if (!connected_) return true;
    return pending_.size() < connected_window &&
           buffered_ + rows <= options_.max_buffered_transitions;
  };
  while (!mu_.AwaitWithTimeout(absl::Condition(&room), absl::Milliseconds(100))) {
    if (stop && stop()) break;  // shutting down while throttled: count the batch as dropped
  }
  if (closing_ || (buffered_ + rows > options_.max_buffered_transitions && !pending_.empty())) {
    dropped_ += rows;
    if (dropped_metric_ != nullptr) dropped_metric_->Increment(static_cast<double>(rows));
    return false;
  }
  buffered_ += rows;
  pending_.push_back(std::move(batch));
  if (buffered_metric_ != nullptr) buffered_metric_->Set(static_cast<double>(buffered_));
  return true;
}

void TransitionSender::Run() {
  absl::Duration backoff = options_.initial_backoff;
  while (true) {
    {
      absl::MutexLock lock(&mu_);
      auto ready = [this]()
                       ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return closing_ || !pending_.empty(); };
      mu_.Await(absl::Condition(&ready));
      if (pending_.empty()) return;  // closing with nothing left
    }
    // One stream until it breaks. Batch k written on it gets sequence k; batches stay at the front
    // of `pending_` until acknowledged, so a broken stream's unacknowledged ones are resent.
    std::unique_ptr<replay::ReplayWriter> writer = client_->NewWriter(options_.max_in_flight, options_.table);
    {
      absl::MutexLock lock(&mu_);
      active_writer_ = writer.get();
    }
    size_t written = 0;    // batches of pending_ written on this stream and still held
    uint64_t removed = 0;  // acknowledged batches already popped
    auto pop_acknowledged = [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
      const uint64_t acked = writer->acknowledged_sequence();
      while (removed < acked && !pending_.empty() && written > 0) {
        const int64_t rows = NumSteps(pending_.front());
        buffered_ -= rows;
        acknowledged_ += rows;
        if (sent_metric_ != nullptr) sent_metric_->Increment(static_cast<double>(rows));
        pending_.pop_front();
        --written;
        ++removed;
      }
      if (buffered_metric_ != nullptr) buffered_metric_->Set(static_cast<double>(buffered_));
    };
    absl::Status status = absl::OkStatus();
    while (status.ok()) {
      const TransitionBatch* next = nullptr;
      {
        absl::MutexLock lock(&mu_);
        pop_acknowledged();
        auto ready = [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
          return closing_ || pending_.size() > written;
        };
        mu_.AwaitWithTimeout(absl::Condition(&ready), absl::Milliseconds(50));
        if (pending_.size() > written) {
          next = &pending_[written];  // deque references stay valid while we only push_back
        } else if (closing_) {
          break;
        }
      }
      if (next != nullptr) {
        status = writer->Write(*next);
        absl::MutexLock lock(&mu_);
        connected_ = status.ok();
        if (status.ok()) ++written;
      }
    }
    const absl::Status finished = writer->Finish();
    if (status.ok()) status = finished;
    bool closing;
    {
      absl::MutexLock lock(&mu_);
      active_writer_ = nullptr;
      pop_acknowledged();
      if (!status.ok()) {
        ++reconnects_;
        connected_ = false;
      }
      closing = closing_;
      if (closing && (status.ok() || pending_.empty())) return;
    }
    if (status.ok()) {
      backoff = options_.initial_backoff;
      continue;
    }
    if (closing) return;  // give up resending at shutdown; the rest counts as buffered
    VLOG(1) << "replay stream broke (" << status.message() << "); retrying in "
            << absl::FormatDuration(backoff);
    absl::SleepFor(backoff);
    backoff = std::min(backoff * 2, options_.max_backoff);
  }
}

void TransitionSender::Close(absl::Duration grace) {
  {
    absl::MutexLock lock(&mu_);
    auto drained = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return pending_.empty(); };
    mu_.AwaitWithTimeout(absl::Condition(&drained), grace);
    closing_ = true;
    // Batches still unacknowledged after the grace period will not be: stop waiting for them.
    if (!pending_.empty() && active_writer_ != nullptr) active_writer_->Cancel();
  }
  if (thread_.joinable()) thread_.join();
}

int64_t TransitionSender::acknowledged_transitions() const {
  absl::MutexLock lock(&mu_);
  return acknowledged_;
}
int64_t TransitionSender::dropped_transitions() const {
  absl::MutexLock lock(&mu_);
  return dropped_;
}
int64_t TransitionSender::buffered_transitions() const {
  absl::MutexLock lock(&mu_);
  return buffered_;
}
int64_t TransitionSender::reconnects() const {
  absl::MutexLock lock(&mu_);
  return reconnects_;
}

}  // namespace tandem::actor
