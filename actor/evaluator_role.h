// The evaluator role (`tandem actor --eval`): follows the learner's published weights and, every
// evaluation.every_versions versions (or evaluation.every_env_steps online env steps), runs
// evaluation.episodes deterministic episodes of the online policy alone and of the CBS-composed
// policy (the frozen offline policy is evaluated once at start). Results go to gauges, to stdout,
// and optionally to a CSV file.
#ifndef TANDEM_ACTOR_EVALUATOR_ROLE_H_
#define TANDEM_ACTOR_EVALUATOR_ROLE_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <ostream>
#include <string>

#include "absl/status/status.h"
#include "common/metrics.h"
#include "grpcpp/channel.h"
#include "proto/config.pb.h"

namespace tandem::actor {

// Which published weights the evaluator evaluates: the first it sees, then every `every_versions`
// versions or, when `every_env_steps` > 0, the first published that many env steps after the last
// evaluated one. A lower version than the last evaluated (a learner restarted from a checkpoint)
// starts the count again.
class EvaluationSchedule {
 public:
  EvaluationSchedule(int64_t every_versions, int64_t every_env_steps)
      : every_versions_(every_versions < 1 ? 1 : every_versions),
        every_env_steps_(every_env_steps) {}
  // Whether to evaluate these weights; when true, they become the last evaluated.
  bool Due(uint64_t version, int64_t env_steps);

 private:
  const int64_t every_versions_;
  const int64_t every_env_steps_;
  bool evaluated_ = false;
  uint64_t version_ = 0;
  int64_t env_steps_ = 0;
};

struct EvaluatorOptions {
  ExperimentConfig config;
  // The learner's weights address (nullptr: evaluate the offline checkpoint once and stop).
  std::shared_ptr<grpc::Channel> parameters;
  // CSV of every evaluation ("" = none): version,learner_step,env_steps,policy,episodes,mean,std,
  // min,max,normalized.
  std::string csv_path;
  MetricsRegistry* metrics = nullptr;
};

// Runs until `stop()` returns true (or, without a subscription, after the one evaluation).
absl::Status RunEvaluator(const EvaluatorOptions& options, const std::function<bool()>& stop,
                          std::ostream& out);

}  // namespace tandem::actor

#endif  // TANDEM_ACTOR_EVALUATOR_ROLE_H_
