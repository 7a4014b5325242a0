#include "cli/run_report.h"

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "cli/method_label.h"
#include "common/dataset.h"
#include "common/files.h"
#include "common/metrics_scrape.h"

namespace tandem {
namespace {

std::string Number(double value) { return std::isnan(value) ? "" : absl::StrFormat("%.6g", value); }

std::string JsonNumber(double value) {
  return std::isfinite(value) ? absl::StrFormat("%.6g", value) : "null";
}

}  // namespace

RunReport::RunReport(std::string run_dir)
    : dir_(std::move(run_dir)), start_(absl::Now()), last_time_(absl::Now()) {}

void RunReport::BeginPhase(const std::string& phase) {
  // Rates restart with each phase (different processes).
  last_ = Progress();
  last_.phase = phase;
  last_time_ = absl::Now();
  window_.clear();
  values_.erase("updates");
  values_.erase("env_steps");
}

void RunReport::EndPhase(const std::string& phase, double seconds) {
  phases_.emplace_back(phase, seconds);
}

Progress RunReport::Sample(const std::string& phase, const Cluster& cluster) {
  for (const auto& child : cluster.children()) {
    if (child->ports.empty() || child->finished) continue;
    absl::StatusOr<MetricSamples> samples =
        ScrapeMetrics("127.0.0.1", child->ports.back(), absl::Seconds(1));
    if (!samples.ok()) continue;  // busy or restarting: keep the last values
    const std::string& role = child->spec.role;
    if (role == "replay") {
      values_["env_steps"] =
          SampleOr(*samples, "tandem_replay_inserted_transitions_total", "table=\"online\"", 0);
      values_["replay_online_size"] =
          SampleOr(*samples, "tandem_replay_table_size", "table=\"online\"", 0);
    } else if (role == "learner") {
      values_["updates"] = SumSamples(*samples, "tandem_learner_updates_total");
      values_["q_loss"] = SampleOr(*samples, "tandem_learner_loss", "term=\"q\"", NAN);
      values_["v_loss"] = SampleOr(*samples, "tandem_learner_loss", "term=\"v\"", NAN);
      values_["policy_loss"] = SampleOr(*samples, "tandem_learner_loss", "term=\"policy\"", NAN);
      values_["td_loss"] = SampleOr(*samples, "tandem_learner_loss", "term=\"td\"", NAN);
      values_["cql_loss"] = SampleOr(*samples, "tandem_learner_loss", "term=\"cql\"", NAN);
      for (const char* name :
           {"ovm_lambda", "ovm_memory_share", "probe_q_tot", "probe_greedy_agreement"}) {
        values_[name] = SampleOr(*samples, "tandem_learner_statistic",
                                 absl::StrCat("name=\"", name, "\""), NAN);
      }
      values_["weights_version"] = SumSamples(*samples, "tandem_learner_weights_version");
    } else if (role == "evaluator") {
      for (const char* policy : {"offline", "online", "composed"}) {
        const double value =
            SampleOr(*samples, "tandem_eval_return", absl::StrCat("policy=\"", policy, "\""), NAN);
        if (!std::isnan(value)) values_[absl::StrCat("eval_", policy)] = value;
      }
      const double win_rate = SampleOr(*samples, "tandem_eval_win_rate", "policy=\"online\"", NAN);
      if (!std::isnan(win_rate)) values_["eval_win_rate"] = win_rate;
    } else if (role == "actor") {
      const double win_rate = SampleOr(*samples, "tandem_actor_win_rate", "", NAN);
      if (!std::isnan(win_rate)) values_["train_win_rate"] = win_rate;
    }
  }
  auto get = [&](const std::string& key, double fallback) {
    auto it = values_.find(key);
    return it == values_.end() ? fallback : it->second;
  };
  Progress p;
  p.phase = phase;
  const absl::Time now = absl::Now();
  p.seconds = absl::ToDoubleSeconds(now - start_);
  p.env_steps = static_cast<int64_t>(get("env_steps", 0));
  p.updates = static_cast<int64_t>(get("updates", 0));
  p.q_loss = get("q_loss", NAN);
  p.v_loss = get("v_loss", NAN);
  p.policy_loss = get("policy_loss", NAN);
  p.weights_version = static_cast<int64_t>(get("weights_version", 0));
  p.replay_online_size = static_cast<int64_t>(get("replay_online_size", 0));
  p.eval_offline = get("eval_offline", NAN);
  p.eval_online = get("eval_online", NAN);
  p.eval_composed = get("eval_composed", NAN);
  p.eval_win_rate = get("eval_win_rate", NAN);
  p.train_win_rate = get("train_win_rate", NAN);
  p.td_loss = get("td_loss", NAN);
  p.cql_loss = get("cql_loss", NAN);
  p.ovm_lambda = get("ovm_lambda", NAN);
  p.ovm_memory_share = get("ovm_memory_share", NAN);
  p.probe_q_tot = get("probe_q_tot", NAN);
  p.probe_greedy_agreement = get("probe_greedy_agreement", NAN);
  // Rates over a trailing window of about 20 s: inserts and updates arrive in bursts (the rate
  // limiter releases actors in steps), so a rate over one short interval swings between 0 and 2x.
  window_.push_back({now, p.env_steps, p.updates});
  while (window_.size() > 2 && now - window_[1].time >= absl::Seconds(20)) window_.pop_front();
  const double dt = absl::ToDoubleSeconds(now - window_.front().time);
  if (dt > 0.5) {
    p.env_steps_per_second = (p.env_steps - window_.front().env_steps) / dt;
    p.updates_per_second = (p.updates - window_.front().updates) / dt;
  }
  last_ = p;
  last_time_ = now;
  if (phase == "online" && p.env_steps_per_second > 0) {
    p.eta_seconds = (config_.learner().online_env_steps() - p.env_steps) / p.env_steps_per_second;
  } else if (phase == "pretrain" && p.updates_per_second > 0) {
    p.eta_seconds = (config_.learner().offline_updates() - p.updates) / p.updates_per_second;
  }
  return p;
}

void RunReport::AppendCsv(const Progress& p) {
  const std::string path = dir_ + "/metrics.csv";
  const bool fresh = !std::filesystem::exists(path);
  std::ofstream csv(path, std::ios::app);
  if (fresh) {
    csv << "seconds,phase,env_steps,env_steps_per_second,updates,updates_per_second,q_loss,v_loss,"
           "policy_loss,weights_version,replay_online_size,eval_offline,eval_online,"
           "eval_composed,td_loss,eval_win_rate,train_win_rate,cql_loss,ovm_lambda,"
           "ovm_memory_share,probe_q_tot,probe_greedy_agreement\n";
  }
  csv << absl::StrFormat("%.1f,%s,%d,%.1f,%d,%.2f,", p.seconds, p.phase, p.env_steps,
                         p.env_steps_per_second, p.updates, p.updates_per_second)
      << Number(p.q_loss) << "," << Number(p.v_loss) << "," << Number(p.policy_loss) << ","
      << p.weights_version << "," << p.replay_online_size << "," << Number(p.eval_offline) << ","
      << Number(p.eval_online) << "," << Number(p.eval_composed) << "," << Number(p.td_loss) << ","
      << Number(p.eval_win_rate) << "," << Number(p.train_win_rate) << "," << Number(p.cql_loss)
      << "," << Number(p.ovm_lambda) << "," << Number(p.ovm_memory_share) << ","
      << Number(p.probe_q_tot) << "," << Number(p.probe_greedy_agreement) << "\n";
}

void RunReport::RecordLearnerResult(int64_t updates, int64_t env_steps) {
  values_["updates"] = static_cast<double>(updates);
  last_.updates = updates;
  total_updates_ += updates;
  total_env_steps_ += std::max(env_steps, last_.env_steps);
  last_ = Progress();  // counted
}

void RunReport::RecordUnfinishedPhase(int64_t updates_before_phase) {
  total_env_steps_ += last_.env_steps;
  total_updates_ += std::max<int64_t>(0, last_.updates - updates_before_phase);
  last_ = Progress();
}

void RunReport::AddEvaluation(const std::string& policy, const actor::EvaluationResult& result) {
  evaluations_.emplace_back(policy, result);
}

namespace {

// The dataset's quality tier when the file records one, else its file name; "-" without data.
std::string DatasetLabel(const std::string& path) {
  if (path.empty()) return "-";
  absl::StatusOr<DatasetMetadata> metadata = ReadDatasetMetadata(path);
  if (metadata.ok() && !metadata->quality.empty()) return metadata->quality;
  return std::filesystem::path(path).stem().string();
}

}  // namespace

absl::Status RunReport::WriteSummary(std::ostream& out) {
  const EvaluationConfig& eval = config_.evaluation();
  const bool normalized = !std::isnan(eval.random_return()) && !std::isnan(eval.expert_return());
  std::ostringstream text;
  text << "Tandem run " << config_.name() << " (" << dir_ << "): " << outcome_ << "\n"
       << "  env " << config_.env().name() << ", algorithm " << config_.algorithm().name()
       << ", selector " << config_.selector().name() << ", seed " << config_.seed() << "\n"
       << "  wall time " << absl::StrFormat("%.1f", absl::ToDoubleSeconds(absl::Now() - start_))
       << " s";
  for (const auto& [phase, seconds] : phases_) {
    text << absl::StrFormat(", %s %.1f s", phase, seconds);
  }
  text << "\n  online env steps " << total_env_steps_ << ", learner updates " << total_updates_
       << ", process restarts " << restarts_;
  if (!restarts_by_role_.empty()) {
    std::vector<std::string> roles;
    for (const auto& [role, count] : restarts_by_role_) {
      roles.push_back(absl::StrCat(role, " ", count));
    }
    text << " (" << absl::StrJoin(roles, ", ") << ")";
  }
  text << "\n";
  if (!evaluations_.empty()) {
    const bool wins = evaluations_.front().second.reports_wins;
    text << absl::StrFormat("\n  %-30s %10s %8s %8s %8s %9s%s%s\n", "policy", "return", "std",
                            "min", "max", "episodes", wins ? "  win rate" : "",
                            normalized ? "  normalized" : "");
    for (const auto& [policy, r] : evaluations_) {
      text << absl::StrFormat("  %-30s %10.1f %8.1f %8.1f %8.1f %9d", policy, r.mean_return,
                              r.std_return, r.min_return, r.max_return, r.episodes);
      if (wins) text << absl::StrFormat("  %8.3f", r.win_rate);
      if (normalized) {
        text << absl::StrFormat(
            "  %10.1f",
            actor::NormalizedScore(r.mean_return, eval.random_return(), eval.expert_return()));
      }
      text << "\n";
    }
  }
  out << "\n" << text.str() << std::flush;
  if (absl::Status s = WriteFileAtomically(dir_ + "/summary.txt", text.str()); !s.ok()) return s;

  std::string json = absl::StrCat(
      "{\n  \"name\": \"", config_.name(), "\",\n  \"seed\": ", config_.seed(),
      ",\n  \"outcome\": \"", outcome_.substr(0, outcome_.find(':')), "\",\n  \"env\": \"",
      config_.env().name(), "\",\n  \"selector\": \"", config_.selector().name(),
      "\",\n  \"wall_seconds\": ", JsonNumber(absl::ToDoubleSeconds(absl::Now() - start_)),
      ",\n  \"env_steps\": ", total_env_steps_, ",\n  \"updates\": ", total_updates_,
      ",\n  \"returns\": {");
  for (size_t i = 0; i < evaluations_.size(); ++i) {
    const auto& [policy, r] = evaluations_[i];
    absl::StrAppend(&json, i ? "," : "", "\n    \"", policy.substr(0, policy.find(' ')),
                    "\": {\"mean\": ", JsonNumber(r.mean_return),
                    ", \"std\": ", JsonNumber(r.std_return), ", \"episodes\": ", r.episodes,
                    r.reports_wins ? absl::StrCat(", \"win_rate\": ", JsonNumber(r.win_rate)) : "",
                    "}");
  }
  absl::StrAppend(&json, "\n  }\n}\n");
  if (absl::Status s = WriteFileAtomically(dir_ + "/result.json", json); !s.ok()) return s;
  if (outcome_ != "completed") return absl::OkStatus();
  // One row for `tandem results` (finished runs only).
  auto mean_of = [&](const std::string& prefix) {
    for (const auto& [policy, r] : evaluations_) {
      if (policy.rfind(prefix, 0) == 0) return absl::StrFormat("%.4f", r.mean_return);
    }
    return std::string();
  };
  auto score_of = [&](const std::string& prefix) {
    const EvaluationConfig& eval = config_.evaluation();
    if (std::isnan(eval.random_return()) || std::isnan(eval.expert_return())) return std::string();
    for (const auto& [policy, r] : evaluations_) {
      if (policy.rfind(prefix, 0) == 0) {
        return absl::StrFormat("%.4f", actor::NormalizedScore(r.mean_return, eval.random_return(),
                                                              eval.expert_return()));
      }
    }
    return std::string();
  };
  auto win_rate_of = [&](const std::string& prefix) {
    for (const auto& [policy, r] : evaluations_) {
      if (policy.rfind(prefix, 0) == 0 && r.reports_wins) {
        return absl::StrFormat("%.4f", r.win_rate);
      }
    }
    return std::string();
  };
  // Which evaluated policy is the method's own (Sim2O and its ablations act with the composed
  // policy, everything else with the online one), its label and the dataset's, for the paper-style
  // table of `tandem results` (tasks x datasets rows, methods columns).
  const Sim2OMethod method = Sim2OMethodOf(config_);
  const char* own = method.composed ? "cbs-composed" : "online";
  return WriteFileAtomically(
      dir_ + "/result.csv",
      absl::StrCat("name,seed,offline_return,online_return,composed_return,env_steps,updates,"
                   "wall_seconds,env,offline_win_rate,online_win_rate,offline_score,online_score,"
                   "composed_score,method,dataset,method_return,method_score\n",
                   config_.name(), ",", config_.seed(), ",", mean_of("offline"), ",",
                   mean_of("online"), ",", mean_of("cbs-composed"), ",", total_env_steps_, ",",
                   total_updates_, ",",
                   absl::StrFormat("%.1f", absl::ToDoubleSeconds(absl::Now() - start_)), ",",
                   config_.env().name(), ",", win_rate_of("offline"), ",", win_rate_of("online"),
                   ",", score_of("offline"), ",", score_of("online"), ",", score_of("cbs-composed"),
                   ",", method.label, ",", DatasetLabel(config_.dataset().path()), ",",
                   mean_of(own), ",", score_of(own), "\n"));
}

void RunReport::Plot(std::ostream& out) {
  // learning_curve.dat: env_steps, online, composed, offline (from the evaluator's eval.csv).
  std::ifstream eval(dir_ + "/eval.csv");
  std::map<int64_t, std::map<std::string, double>> rows;
  double offline = NAN;
  bool wins = false;  // the env reports wins: the top panel shows the test win rate
  std::string line;
  std::getline(eval, line);  // header
  while (std::getline(eval, line)) {
    std::vector<std::string> f = absl::StrSplit(line, ',');
    int64_t steps = 0;
    double mean = 0, win_rate = 0;
    if (f.size() < 6 || !absl::SimpleAtoi(f[2], &steps) || !absl::SimpleAtod(f[5], &mean)) continue;
    if (f[3] == "offline") {
      offline = mean;
    } else {
      rows[steps][f[3]] = mean;
    }
    if (f.size() >= 11 && f[3] == "online" && absl::SimpleAtod(f[10], &win_rate)) {
      rows[steps]["win_rate"] = win_rate;
      wins = true;
    }
  }
  std::ostringstream data;
  data << "# env_steps online composed offline online_win_rate\n";
  for (const auto& [steps, values] : rows) {
    auto get = [&](const char* key) {
      auto it = values.find(key);
      return it == values.end() ? std::string("NaN") : absl::StrFormat("%.3f", it->second);
    };
    data << steps << " " << get("online") << " " << get("composed") << " "
         << (std::isnan(offline) ? "NaN" : absl::StrFormat("%.3f", offline)) << " "
         << get("win_rate") << "\n";
  }
  (void)WriteFileAtomically(dir_ + "/learning_curve.dat", data.str());
  if (rows.empty()) {
    out << "learning curve: no evaluation finished in this run (evaluation.episodes = "
        << config_.evaluation().episodes() << "), nothing to plot" << std::endl;
    return;
  }
  const std::string script = absl::StrCat(
      "# Renders learning_curve.png from learning_curve.dat and metrics.csv: gnuplot "
      "learning_curve.gp\n",
      "set terminal pngcairo size 1000,700\nset output 'learning_curve.png'\n",
      "set datafile separator whitespace\nset multiplot layout 2,1 title '", config_.name(), " (",
      config_.env().name(), ", ", config_.selector().name(), ")'\n",
      "set xlabel 'online env steps'\nset key bottom right\nset grid\n",
      wins ? "set ylabel 'test win rate'\nset yrange [0:1]\n"
             "plot 'learning_curve.dat' using 1:5 with linespoints title 'online policy (greedy)'\n"
             "set autoscale y\n"
           : "set ylabel 'evaluation return'\n"
             "plot 'learning_curve.dat' using 1:2 with linespoints title 'online policy', \\\n"
             "     '' using 1:3 with linespoints title 'CBS-composed', \\\n"
             "     '' using 1:4 with lines dashtype 2 title 'offline policy (frozen)'\n",
      "set datafile separator ','\nset xlabel 'seconds'\nset ylabel 'per second'\n",
      "set key top left\n",
      "plot 'metrics.csv' using 1:4 every ::1 with lines title 'env steps/s', \\\n",
      "     '' using 1:6 every ::1 with lines title 'learner updates/s'\n", "unset multiplot\n");
  (void)WriteFileAtomically(dir_ + "/learning_curve.gp", script);
  if (std::system("command -v gnuplot >/dev/null 2>&1") != 0) {
    out << "learning curve: gnuplot is not installed; data and script are in " << dir_
        << "/learning_curve.{dat,gp}" << std::endl;
    return;
  }
  const std::string command =
      absl::StrCat("cd '", dir_, "' && gnuplot learning_curve.gp > logs/gnuplot.log 2>&1");
  if (std::system(command.c_str()) == 0) {
    out << "learning curve: " << dir_ << "/learning_curve.png" << std::endl;
  } else {
    out << "learning curve: gnuplot failed (see " << dir_ << "/logs/gnuplot.log)" << std::endl;
  }
}

}  // namespace tandem
