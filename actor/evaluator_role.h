// The evaluator role (`tandem actor --eval`): follows the learner's published weights and, every
// evaluation.every_versions versions, runs evaluation.episodes deterministic episodes of the online
// policy alone and of the CBS-composed policy (the frozen offline policy is evaluated once at
// start). Results go to gauges, to stdout, and optionally to a CSV file.
#ifndef TANDEM_ACTOR_EVALUATOR_ROLE_H_
#define TANDEM_ACTOR_EVALUATOR_ROLE_H_

#include <functional>
#include <memory>
#include <ostream>
#include <string>

#include "absl/status/status.h"
#include "common/metrics.h"
#include "grpcpp/channel.h"
#include "proto/config.pb.h"

namespace tandem::actor {

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
