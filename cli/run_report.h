// What `tandem run` records about a run: live progress sampled from the children's /metrics,
// metrics.csv, the final before/after evaluation, summary.txt + result.json, and the PNG learning
// curve (rendered by gnuplot when it is installed; the .gp script and data stay in the run either
// way).
#ifndef TANDEM_CLI_RUN_REPORT_H_
#define TANDEM_CLI_RUN_REPORT_H_

#include <cmath>
#include <deque>
#include <map>
#include <ostream>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "actor/evaluator.h"
#include "cli/cluster.h"
#include "proto/config.pb.h"

namespace tandem {

struct Progress {
  std::string phase;
  double seconds = 0;     // since the run started
  int64_t env_steps = 0;  // online transitions stored by the replay server
  double env_steps_per_second = 0;
  int64_t updates = 0;
  double updates_per_second = 0;
  double q_loss = NAN, v_loss = NAN, policy_loss = NAN;
  int64_t weights_version = 0;
  int64_t replay_online_size = 0;
  double eval_offline = NAN, eval_online = NAN, eval_composed = NAN;
  // Combat maps: the latest test win rate of the online policy, and the actors' training win rate.
  double eval_win_rate = NAN, train_win_rate = NAN;
  // QMIX-style learners: the TD loss; with CQL its conservative term; online with OVM,
  // lambda_memory and the share of targets where the offline memory won the max.
  double td_loss = NAN, cql_loss = NAN, ovm_lambda = NAN, ovm_memory_share = NAN;
  // The unlearning probe (learner.probe_every_updates).
  double probe_q_tot = NAN, probe_greedy_agreement = NAN;
  double eta_seconds = NAN;
};

class RunReport {
 public:
  explicit RunReport(std::string run_dir);

  void set_config(const ExperimentConfig& config) { config_ = config; }
  void set_outcome(std::string outcome) { outcome_ = std::move(outcome); }
  void set_restarts(int restarts, std::map<std::string, int> by_role = {}) {
    restarts_ = restarts;
    restarts_by_role_ = std::move(by_role);
  }

  void BeginPhase(const std::string& phase);
  void EndPhase(const std::string& phase, double seconds);

  // Scrapes every child of `cluster` that serves metrics; values of children that are gone are
  // kept from their last scrape. Rates are over the time since the previous sample.
  Progress Sample(const std::string& phase, const Cluster& cluster);
  // Appends one row to metrics.csv (writing the header first).
  void AppendCsv(const Progress& progress);

  // The learner's final counters (from its checkpoint: the process is gone before a last scrape).
  void RecordLearnerResult(int64_t updates, int64_t env_steps);

  // Counts the latest sampled env steps and updates of a phase that was interrupted or failed
  // (the learner's counter had `updates_before_phase` when the phase began).
  void RecordUnfinishedPhase(int64_t updates_before_phase);

  void AddEvaluation(const std::string& policy, const actor::EvaluationResult& result);

  // summary.txt (also printed) and result.json.
  absl::Status WriteSummary(std::ostream& out);
  // learning_curve.gp + .dat, and learning_curve.png when gnuplot is available.
  void Plot(std::ostream& out);

 private:
  const std::string dir_;
  ExperimentConfig config_;
  absl::Time start_;
  std::string outcome_ = "running";
  int restarts_ = 0;
  std::map<std::string, int> restarts_by_role_;
  int64_t total_updates_ = 0;  // offline + online
  int64_t total_env_steps_ = 0;
  std::vector<std::pair<std::string, double>> phases_;
  std::vector<std::pair<std::string, actor::EvaluationResult>> evaluations_;
  Progress last_;
  absl::Time last_time_;
  struct Point {
    absl::Time time;
    int64_t env_steps, updates;
  };
  std::deque<Point> window_;              // recent samples for rates
  std::map<std::string, double> values_;  // latest scraped value per quantity
};

}  // namespace tandem

#endif  // TANDEM_CLI_RUN_REPORT_H_
