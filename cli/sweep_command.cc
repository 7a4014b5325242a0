#include "cli/sweep_command.h"

#include <signal.h>
#include <sys/wait.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <iomanip>
#include <map>
#include <memory>
#include <sstream>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "cli/subprocess.h"
#include "common/config.h"
#include "common/files.h"
#include "common/shutdown.h"
#include "common/status_macros.h"

namespace tandem {
namespace {

namespace fs = std::filesystem;

// The columns of result.csv that `tandem results` aggregates (written by tandem run).
const std::vector<std::string>& ResultColumns() {
  static const auto* columns = new std::vector<std::string>{
      "offline_return", "online_return",    "composed_return", "env_steps",     "updates",
      "wall_seconds",   "offline_win_rate", "online_win_rate", "offline_score", "online_score",
      "composed_score", "method_return",    "method_score"};
  return *columns;
}

struct RunResult {
  std::string name;
  std::string env;  // runs written before result.csv named it: ""
  // The method's paper name and the dataset's tier (runs written before result.csv had them: "").
  std::string method, dataset;
  std::string dir;
  std::map<std::string, double> values;
};

absl::StatusOr<RunResult> ReadResult(const fs::path& csv) {
  ASSIGN_OR_RETURN(std::string text, ReadFile(csv.string()));
  std::vector<std::string> lines = absl::StrSplit(text, '\n', absl::SkipEmpty());
  if (lines.size() != 2) {
    return absl::InvalidArgumentError(absl::StrCat(csv.string(), ": expected a header and a row"));
  }
  std::vector<std::string> header = absl::StrSplit(lines[0], ',');
  std::vector<std::string> row = absl::StrSplit(lines[1], ',');
  if (header.size() != row.size()) {
    return absl::InvalidArgumentError(absl::StrCat(csv.string(), ": header and row differ"));
  }
  RunResult result;
  result.dir = csv.parent_path().string();
  for (size_t i = 0; i < header.size(); ++i) {
    if (header[i] == "name" || header[i] == "env" || header[i] == "method" ||
        header[i] == "dataset") {
      (header[i] == "name"     ? result.name
       : header[i] == "env"    ? result.env
       : header[i] == "method" ? result.method
                               : result.dataset) = row[i];
      continue;
    }
    double value = NAN;
    if (!row[i].empty() && !absl::SimpleAtod(row[i], &value)) value = NAN;
    result.values[header[i]] = value;
  }
  return result;
}

struct ConfigRuns {
  int runs = 0;
  std::string env, method, dataset;
  std::map<std::string, std::vector<double>> values;
  // Per run: its test win rate against online env steps (learning_curve.dat), from the offline
  // policy's at step 0 when it had one.
  std::vector<std::vector<std::pair<double, double>>> win_curves;
  // Per run with deployments (OTC): the offline policy's return and the evaluation return after
  // each deployment.
  std::vector<std::pair<double, std::vector<double>>> deployment_returns;
};

// The mean_return column of a run's deployments.csv, one value per deployment; empty when the run
// had no deployments or the file does not parse.
std::vector<double> ReadDeploymentReturns(const std::string& dir) {
  std::vector<double> returns;
  std::ifstream in(dir + "/deployments.csv");
  std::string line;
  int column = -1;
  while (std::getline(in, line)) {
    const std::vector<std::string> cells = absl::StrSplit(line, ',');
    if (column < 0) {
      auto it = std::find(cells.begin(), cells.end(), "mean_return");
      if (it == cells.end()) return {};
      column = static_cast<int>(it - cells.begin());
      continue;
    }
    double value = NAN;
    if (column >= static_cast<int>(cells.size()) || !absl::SimpleAtod(cells[column], &value)) {
      return {};
    }
    returns.push_back(value);
  }
  return returns;
}

// Median of the values that are not NaN; NaN when there are none.
double Median(std::vector<double> values) {
  values.erase(std::remove_if(values.begin(), values.end(), [](double v) { return std::isnan(v); }),
               values.end());
  if (values.empty()) return NAN;
  std::sort(values.begin(), values.end());
  const size_t n = values.size();
  return n % 2 ? values[n / 2] : 0.5 * (values[n / 2 - 1] + values[n / 2]);
}

// A run's test win rate at each evaluation (learning_curve.dat: env_steps ... online_win_rate).
std::vector<std::pair<double, double>> ReadWinCurve(const std::string& dir, double offline) {
  std::vector<std::pair<double, double>> curve;
  if (!std::isnan(offline)) curve.emplace_back(0.0, offline);
  std::ifstream data(dir + "/learning_curve.dat");
  std::string line;
  while (std::getline(data, line)) {
    if (line.empty() || line[0] == '#') continue;
    std::vector<std::string> f = absl::StrSplit(line, ' ', absl::SkipEmpty());
    double steps = 0, win_rate = 0;
    if (f.size() >= 5 && absl::SimpleAtod(f[0], &steps) && absl::SimpleAtod(f[4], &win_rate) &&
        !std::isnan(win_rate)) {
      curve.emplace_back(steps, win_rate);
    }
  }
  return curve;
}

// The median over runs of each run's latest win rate at or before `steps` (runs not yet evaluated
// there are left out); NaN when no run was.
double MedianAt(const std::vector<std::vector<std::pair<double, double>>>& curves, double steps) {
  std::vector<double> values;
  for (const auto& curve : curves) {
    double latest = NAN;
    for (const auto& [x, y] : curve) {
      if (x <= steps) latest = y;
    }
    values.push_back(latest);
  }
  return Median(values);
}

// OVMSE's Table 1 layout for runs that report wins: the median over seeds of the final test win
// rate per config and of each run's lowest win rate after the switch (printed, and win_rates.csv),
// and per env one figure of every config's median win rate against online env steps
// (results-<env>.png, the offline policy's at 0).
absl::Status WinRateTables(const std::map<std::string, ConfigRuns>& by_name,
                           const std::string& out_dir, std::ostream& out) {
  std::map<std::string, std::vector<std::string>> configs_by_env;
  for (const auto& [name, aggregate] : by_name) {
    if (std::isnan(Median(aggregate.values.at("online_win_rate")))) continue;
    configs_by_env[aggregate.env].push_back(name);
  }
  if (configs_by_env.empty()) return absl::OkStatus();
  out << "\ntest win rate, median over seeds (final evaluation; offline = before fine-tuning; "
         "lowest = each run's lowest evaluation after the switch):\n"
      << absl::StrFormat("%-28s %-14s %5s %9s %9s %13s %8s\n", "config", "env", "runs", "offline",
                         "online", "online range", "lowest");
  std::ostringstream csv;
  csv << "name,env,runs,offline_win_rate_median,online_win_rate_median,online_win_rate_min,"
         "online_win_rate_max,lowest_win_rate_median\n";
  std::string script =
      "# Renders results-<env>.png from curves-<env>.dat: gnuplot win_rates.gp\n"
      "set terminal pngcairo size 1200,600\nset xlabel 'online env steps (0: the switch from "
      "offline)'\nset ylabel 'test win rate, median over seeds'\nset yrange [0:1]\nset grid\n"
      "set key outside right top\n";
  for (const auto& [env, names] : configs_by_env) {
    std::string tag = env;
    std::replace(tag.begin(), tag.end(), '/', '-');
    std::ostringstream curves;
    std::string plot =
        absl::StrCat("set output 'results-", tag, ".png'\nset title '", env, "'\nplot ");
    int index = 0;
    for (const std::string& name : names) {
      const ConfigRuns& aggregate = by_name.at(name);
      const std::vector<double>& online = aggregate.values.at("online_win_rate");
      std::vector<double> finite;
      for (double v : online) {
        if (!std::isnan(v)) finite.push_back(v);
      }
      const double low = *std::min_element(finite.begin(), finite.end());
      const double high = *std::max_element(finite.begin(), finite.end());
      const double offline = Median(aggregate.values.at("offline_win_rate"));
      // Each run's lowest test win rate at the evaluations after the switch (the dip that OVM and
      // SE are meant to prevent), median over runs.
      std::vector<double> lowest;
      for (const auto& curve : aggregate.win_curves) {
        double run_low = NAN;
        for (const auto& [x, y] : curve) {
          if (x > 0 && (std::isnan(run_low) || y < run_low)) run_low = y;
        }
        lowest.push_back(run_low);
      }
      const double dip = Median(lowest);
      out << absl::StrFormat(
          "%-28s %-14s %5d %9s %9.3f %6.3f-%.3f %8s\n", name, env, aggregate.runs,
          std::isnan(offline) ? "-" : absl::StrFormat("%.3f", offline), Median(online), low, high,
          std::isnan(dip) ? "-" : absl::StrFormat("%.3f", dip));
      csv << name << "," << env << "," << aggregate.runs << ","
          << (std::isnan(offline) ? "" : absl::StrFormat("%.4f", offline)) << ","
          << absl::StrFormat("%.4f,%.4f,%.4f", Median(online), low, high) << ","
          << (std::isnan(dip) ? "" : absl::StrFormat("%.4f", dip)) << "\n";
      // Every evaluation point of any seed, each with the median over the seeds evaluated by then.
      std::vector<double> steps;
      for (const auto& curve : aggregate.win_curves) {
        for (const auto& point : curve) steps.push_back(point.first);
      }
      std::sort(steps.begin(), steps.end());
      steps.erase(std::unique(steps.begin(), steps.end()), steps.end());
      curves << "# " << name << "\n";
      for (double x : steps) {
        const double y = MedianAt(aggregate.win_curves, x);
        if (!std::isnan(y)) curves << absl::StrFormat("%.0f %.4f\n", x, y);
      }
      curves << "\n\n";
      absl::StrAppend(&plot, index ? ", \\\n     " : "", "'curves-", tag, ".dat' index ", index,
                      " using 1:2 with steps title '", name, "'");
      ++index;
    }
    RETURN_IF_ERROR(
        WriteFileAtomically(absl::StrCat(out_dir, "/curves-", tag, ".dat"), curves.str()));
    absl::StrAppend(&script, plot, "\n");
  }
  RETURN_IF_ERROR(WriteFileAtomically(out_dir + "/win_rates.csv", csv.str()));
  RETURN_IF_ERROR(WriteFileAtomically(out_dir + "/win_rates.gp", script));
  if (std::system("command -v gnuplot >/dev/null 2>&1") == 0 &&
      std::system(
          absl::StrCat("cd '", out_dir, "' && gnuplot win_rates.gp >/dev/null 2>&1").c_str()) ==
          0) {
    out << "win-rate curves: " << out_dir << "/results-<env>.png\n";
  }
  return absl::OkStatus();
}

// Mean and sample standard deviation of the values that are not NaN (runs that lack a column);
// count 0 when there are none.
struct Summary {
  int count = 0;
  double mean = NAN, std = 0;
};

Summary Summarize(const std::vector<double>& values) {
  Summary summary;
  double sum = 0, sum_sq = 0;
  for (double v : values) {
    if (std::isnan(v)) continue;
    sum += v;
    sum_sq += v * v;
    ++summary.count;
  }
  const int n = summary.count;
  if (n == 0) return summary;
  summary.mean = sum / n;
  summary.std =
      n > 1 ? std::sqrt(std::max(0.0, (sum_sq - n * summary.mean * summary.mean) / (n - 1))) : 0.0;
  return summary;
}

std::string MeanStd(const std::vector<double>& values) {
  const Summary s = Summarize(values);
  return s.count == 0 ? "-" : absl::StrFormat("%.1f +- %.1f", s.mean, s.std);
}

// Sim2O's Table I layout: one row per task and dataset, one column per method, each cell the
// method's own policy (composed for Sim2O and its ablations, online otherwise) over seeds:
// normalized score when the runs have reference returns, else raw return. Only for runs that name
// their method and dataset, and only when some row compares two methods or more.
void PaperTable(const std::map<std::string, ConfigRuns>& by_name, std::ostream& out) {
  std::vector<std::string> methods;  // in order of first appearance
  std::map<std::pair<std::string, std::string>, std::map<std::string, const ConfigRuns*>> rows;
  bool scored = false;
  for (const auto& [name, aggregate] : by_name) {
    if (aggregate.method.empty() || aggregate.dataset.empty()) continue;
    if (std::find(methods.begin(), methods.end(), aggregate.method) == methods.end()) {
      methods.push_back(aggregate.method);
    }
    rows[{aggregate.env, aggregate.dataset}][aggregate.method] = &aggregate;
    scored = scored || Summarize(aggregate.values.at("method_score")).count > 0;
  }
  bool compares = false;
  for (const auto& [key, cells] : rows) compares = compares || cells.size() >= 2;
  if (!compares) return;
  const std::string column = scored ? "method_score" : "method_return";
  out << "\n"
      << (scored ? "normalized score" : "return")
      << " of each method's own policy, mean +- std over seeds (runs):\n"
      << absl::StrFormat("%-40s", "task / dataset");
  for (const std::string& method : methods) out << absl::StrFormat(" %20s", method);
  out << "\n";
  for (const auto& [key, cells] : rows) {
    out << absl::StrFormat("%-40s", absl::StrCat(key.first, " ", key.second));
    for (const std::string& method : methods) {
      auto it = cells.find(method);
      out << absl::StrFormat(" %20s", it == cells.end()
                                          ? std::string("")
                                          : absl::StrCat(MeanStd(it->second->values.at(column)),
                                                         " (", it->second->runs, ")"));
    }
    out << "\n";
  }
}

// OTC's Table 1 layout for runs with deployments: per config the improvement at the last
// deployment over the offline policy, 100 (R_K - R_0) / |R_0| per run, mean +- std over seeds;
// deployments.csv (printed and written) and deployments.dat/.gp (Figure 3: every config's mean
// return after each deployment, the offline policy at 0).
absl::Status DeploymentTable(const std::map<std::string, ConfigRuns>& by_name,
                             const std::string& out_dir, std::ostream& out) {
  std::ostringstream csv, data;
  std::vector<std::string> plotted;
  size_t longest = 0;
  for (const auto& [name, aggregate] : by_name) {
    longest = std::max(longest, aggregate.deployment_returns.empty()
                                    ? size_t{0}
                                    : aggregate.deployment_returns.front().second.size());
  }
  if (longest == 0) return absl::OkStatus();
  out << "\nimprovement at the last deployment over the offline policy, 100 (R_K - R_0) / |R_0|, "
         "mean +- std over seeds (OTC's Table 1):\n"
      << absl::StrFormat("%-36s %5s %12s %20s %20s %16s\n", "config", "runs", "deployments",
                         "offline return", "last deployment", "improvement %");
  csv << "name,runs,deployments,offline_return_mean,last_return_mean,improvement_mean,"
         "improvement_std\n";
  // Mean return per deployment (row) and config (column); NaN where a config has fewer.
  std::vector<std::vector<double>> curves;
  for (const auto& [name, aggregate] : by_name) {
    if (aggregate.deployment_returns.empty()) continue;
    std::vector<double> improvement, last, offline_used;
    size_t k = aggregate.deployment_returns.front().second.size();
    std::vector<double> curve(longest + 1, 0.0);
    std::vector<int> counts(longest + 1, 0);
    for (const auto& [r0, returns] : aggregate.deployment_returns) {
      k = std::min(k, returns.size());
      if (returns.empty() || std::isnan(r0)) continue;
      last.push_back(returns.back());
      offline_used.push_back(r0);
      improvement.push_back(r0 != 0 ? 100.0 * (returns.back() - r0) / std::abs(r0) : NAN);
      curve[0] += r0;
      ++counts[0];
      for (size_t d = 0; d < returns.size() && d < longest; ++d) {
        curve[d + 1] += returns[d];
        ++counts[d + 1];
      }
    }
    const Summary s = Summarize(improvement);
    out << absl::StrFormat("%-36s %5d %12d %20s %20s %16s\n", name, s.count, k,
                           MeanStd(offline_used), MeanStd(last), MeanStd(improvement));
    csv << name << "," << s.count << "," << k << "," << Summarize(offline_used).mean << ","
        << Summarize(last).mean << "," << s.mean << "," << s.std << "\n";
    for (size_t d = 0; d <= longest; ++d) curve[d] = counts[d] ? curve[d] / counts[d] : NAN;
    curves.push_back(curve);
    plotted.push_back(name);
  }
  for (size_t d = 0; d <= longest; ++d) {
    data << d;
    for (const auto& curve : curves) data << " " << absl::StrFormat("%.4f", curve[d]);
    data << "\n";
  }
  std::string script =
      "# Renders deployments.png from deployments.dat: gnuplot deployments.gp\n"
      "set terminal pngcairo size 1000,600\nset output 'deployments.png'\n"
      "set xlabel 'deployment (0: the offline policy)'\n"
      "set ylabel 'evaluation return (mean over seeds)'\nset key bottom right\nset grid\nplot ";
  for (size_t c = 0; c < plotted.size(); ++c) {
    absl::StrAppend(&script, c ? ", \\\n     " : "", "'deployments.dat' using 1:", c + 2,
                    " with linespoints title '", plotted[c], "'");
  }
  script += "\n";
  RETURN_IF_ERROR(WriteFileAtomically(out_dir + "/deployments.csv", csv.str()));
  RETURN_IF_ERROR(WriteFileAtomically(out_dir + "/deployments.dat", data.str()));
  RETURN_IF_ERROR(WriteFileAtomically(out_dir + "/deployments.gp", script));
  out << "wrote " << out_dir << "/deployments.csv";
  if (std::system("command -v gnuplot >/dev/null 2>&1") == 0 &&
      std::system(
          absl::StrCat("cd '", out_dir, "' && gnuplot deployments.gp >/dev/null 2>&1").c_str()) ==
          0) {
    out << " and " << out_dir << "/deployments.png";
  }
  out << std::endl;
  return absl::OkStatus();
}

// Aggregates every result.csv under `roots` by run name; prints the table, writes results.csv
// and (with gnuplot) results.png into `out_dir`.
absl::Status AggregateResults(const std::vector<std::string>& roots, const std::string& out_dir,
                              std::ostream& out) {
  std::map<std::string, ConfigRuns> by_name;
  int found = 0;
  for (const std::string& root : roots) {
    if (!fs::exists(root)) return absl::NotFoundError(absl::StrCat(root, ": no such directory"));
    for (const auto& entry : fs::recursive_directory_iterator(root)) {
      if (entry.path().filename() != "result.csv") continue;
      absl::StatusOr<RunResult> result = ReadResult(entry.path());
      if (!result.ok()) {
        out << "skipping " << result.status().message() << "\n";
        continue;
      }
      ++found;
      ConfigRuns& aggregate = by_name[result->name];
      ++aggregate.runs;
      if (!result->env.empty()) aggregate.env = result->env;
      if (!result->method.empty()) aggregate.method = result->method;
      if (!result->dataset.empty()) aggregate.dataset = result->dataset;
      for (const std::string& column : ResultColumns()) {
        auto it = result->values.find(column);
        aggregate.values[column].push_back(it == result->values.end() ? NAN : it->second);
      }
      if (std::vector<double> returns = ReadDeploymentReturns(result->dir); !returns.empty()) {
        aggregate.deployment_returns.emplace_back(aggregate.values["offline_return"].back(),
                                                  std::move(returns));
      }
      if (!std::isnan(aggregate.values["online_win_rate"].back())) {
        aggregate.win_curves.push_back(
            ReadWinCurve(result->dir, aggregate.values["offline_win_rate"].back()));
      }
    }
  }
  if (found == 0) {
    return absl::NotFoundError("no result.csv found (tandem run writes one per finished run)");
  }
  out << absl::StrFormat("%-28s %5s %20s %20s %20s %12s\n", "config", "runs", "offline return",
                         "online return", "composed return", "env steps");
  std::ostringstream csv, data;
  csv << "name,runs";
  for (const std::string& column : ResultColumns())
    csv << "," << column << "_mean," << column << "_std";
  csv << "\n";
  int index = 0;
  for (const auto& [name, aggregate] : by_name) {
    out << absl::StrFormat("%-28s %5d %20s %20s %20s %12s\n", name, aggregate.runs,
                           MeanStd(aggregate.values.at("offline_return")),
                           MeanStd(aggregate.values.at("online_return")),
                           MeanStd(aggregate.values.at("composed_return")),
                           MeanStd(aggregate.values.at("env_steps")));
    csv << name << "," << aggregate.runs;
    data << index++ << " \"" << name << "\"";
    for (const std::string& column : ResultColumns()) {
      const Summary c = Summarize(aggregate.values.at(column));
      csv << "," << (c.count ? absl::StrFormat("%.4f", c.mean) : "") << ","
          << (c.count ? absl::StrFormat("%.4f", c.std) : "");
      data << " " << (c.count ? absl::StrFormat("%.4f %.4f", c.mean, c.std) : "NaN NaN");
    }
    data << "\n";
  }
  // D4RL-style normalized scores, for the runs whose config or dataset had reference returns.
  bool scored = false;
  for (const auto& [name, aggregate] : by_name) {
    scored = scored || Summarize(aggregate.values.at("online_score")).count > 0;
  }
  if (scored) {
    out << "\nnormalized score, 100 (R - random) / (expert - random), mean +- std over seeds:\n"
        << absl::StrFormat("%-28s %5s %20s %20s %20s\n", "config", "runs", "offline (before)",
                           "online (after)", "composed (after)");
    for (const auto& [name, aggregate] : by_name) {
      if (Summarize(aggregate.values.at("online_score")).count == 0) continue;
      out << absl::StrFormat("%-28s %5d %20s %20s %20s\n", name, aggregate.runs,
                             MeanStd(aggregate.values.at("offline_score")),
                             MeanStd(aggregate.values.at("online_score")),
                             MeanStd(aggregate.values.at("composed_score")));
    }
  }
  PaperTable(by_name, out);
  fs::create_directories(out_dir);
  RETURN_IF_ERROR(DeploymentTable(by_name, out_dir, out));
  RETURN_IF_ERROR(WinRateTables(by_name, out_dir, out));
  RETURN_IF_ERROR(WriteFileAtomically(out_dir + "/results.csv", csv.str()));
  RETURN_IF_ERROR(WriteFileAtomically(out_dir + "/results.dat", data.str()));
  RETURN_IF_ERROR(WriteFileAtomically(
      out_dir + "/results.gp",
      "# Renders results.png from results.dat: gnuplot results.gp\n"
      "set terminal pngcairo size 1000,600\nset output 'results.png'\n"
      "set ylabel 'evaluation return (mean +- std over seeds)'\nset key top left\nset grid\n"
      "set xtics rotate by -20\nset offsets 0.5,0.5,0,0\n"
      "plot 'results.dat' using ($1-0.15):3:4:xtic(2) with yerrorbars title 'offline (before)', "
      "\\\n"
      "     '' using 1:5:6 with yerrorbars title 'online (after)', \\\n"
      "     '' using ($1+0.15):7:8 with yerrorbars title 'CBS-composed (after)'\n"));
  out << "wrote " << out_dir << "/results.csv";
  if (std::system("command -v gnuplot >/dev/null 2>&1") == 0 &&
      std::system(
          absl::StrCat("cd '", out_dir, "' && gnuplot results.gp >/dev/null 2>&1").c_str()) == 0) {
    out << " and " << out_dir << "/results.png";
  }
  out << std::endl;
  return absl::OkStatus();
}

// One point of the --vary grid: the values it sets and the label its runs' names get.
struct Variant {
  std::vector<std::pair<std::string, std::string>> values;
  std::string label;
};

// A value's part of a run name: a path's file name without its extension
// (data/HalfCheetah-6x1-medium.h5 -> HalfCheetah-6x1-medium), else the value itself.
std::string VariantLabel(const std::string& value) {
  if (value.find('/') == std::string::npos) return value;
  return fs::path(value).stem().string();
}

// `--vary PATH=V1,V2,...` flags -> their cartesian product (one variant without values when there
// is no flag). INVALID_ARGUMENT names a malformed flag.
absl::StatusOr<std::vector<Variant>> ParseVariants(const std::vector<std::string>& flags) {
  std::vector<Variant> variants = {Variant{}};
  for (const std::string& flag : flags) {
    const size_t equals = flag.find('=');
    const std::string field = flag.substr(0, equals);
    const std::vector<std::string> values = equals == std::string::npos
                                                ? std::vector<std::string>{}
                                                : absl::StrSplit(flag.substr(equals + 1), ',');
    const bool empty_value =
        std::any_of(values.begin(), values.end(), [](const std::string& v) { return v.empty(); });
    if (field.empty() || values.empty() || empty_value) {
      return absl::InvalidArgumentError(
          absl::StrCat("--vary ", flag, ": want PATH=V1,V2,... (a config field and its values)"));
    }
    std::vector<Variant> grown;
    for (const Variant& variant : variants) {
      for (const std::string& value : values) {
        Variant next = variant;
        next.values.emplace_back(field, value);
        next.label = next.label.empty() ? VariantLabel(value)
                                        : absl::StrCat(next.label, "-", VariantLabel(value));
        grown.push_back(std::move(next));
      }
    }
    variants = std::move(grown);
  }
  return variants;
}

absl::Status RunSweep(const cli::Args& args, std::ostream& out) {
  const int64_t seeds = args.GetInt("seeds");
  const int64_t parallel = args.GetInt("parallel");
  if (seeds < 1) return absl::InvalidArgumentError("--seeds must be >= 1");
  if (parallel < 1) return absl::InvalidArgumentError("--parallel must be >= 1");
  const std::string out_dir = args.GetString("out");
  const int64_t first_seed = args.GetInt("first_seed");
  struct Job {
    std::string name, dir;
    std::vector<std::string> argv;
  };
  ASSIGN_OR_RETURN(const std::vector<Variant> variants, ParseVariants(args.GetRepeated("vary")));
  // Every (variant, config) run, checked before anything starts: its config with the overrides,
  // the variant's values and, for a variant, the name suffixed with the values' labels.
  struct Planned {
    std::string path;
    ExperimentConfig config;
    std::vector<std::string> sets;
  };
  std::vector<Planned> planned;
  std::map<std::string, std::string> path_of_name;
  for (const Variant& variant : variants) {
    for (const std::string& path : args.positional()) {
      Planned run{path, {}, args.GetRepeated("set")};
      for (const auto& [field, value] : variant.values) {
        run.sets.push_back(absl::StrCat(field, "=", value));
      }
      ASSIGN_OR_RETURN(run.config, LoadExperimentConfig(path, run.sets));
      if (!variant.label.empty()) {
        run.config.set_name(absl::StrCat(run.config.name(), "-", variant.label));
        run.sets.push_back(absl::StrCat("name=", run.config.name()));
      }
      const auto [named, added] = path_of_name.emplace(run.config.name(), path);
      if (!added) {
        return absl::InvalidArgumentError(absl::StrCat(
            path, " and ", named->second, " are both named '", named->first,
            "': their runs would share ", out_dir, "/", named->first, "; give one another name"));
      }
      planned.push_back(std::move(run));
    }
  }
  // Seed by seed: a sweep stopped early leaves whole seeds, every config run on the same ones.
  std::vector<Job> jobs;
  for (int64_t s = 0; s < seeds; ++s) {
    const int64_t seed = first_seed + s;
    for (const Planned& run : planned) {
      const std::string& path = run.path;
      const ExperimentConfig& config = run.config;
      Job job;
      job.name = config.name();
      job.dir = absl::StrCat(out_dir, "/", config.name(), "/seed-", seed);
      if (fs::exists(job.dir + "/summary.txt")) {
        out << "skipping " << job.dir << " (already finished)" << std::endl;
        continue;
      }
      job.argv = {CurrentExecutable(), "run", "--config", path, "--run_dir", job.dir};
      for (const std::string& assignment : run.sets) {
        job.argv.push_back("--set");
        job.argv.push_back(assignment);
      }
      job.argv.push_back("--set");
      job.argv.push_back(absl::StrCat("seed=", seed));
      if (args.GetBool("share_pretraining") && config.run().pretrain_cache_dir().empty()) {
        job.argv.push_back("--set");
        job.argv.push_back(absl::StrCat("run.pretrain_cache_dir=",
                                        fs::absolute(out_dir + "/pretrain-cache").string()));
      }
      jobs.push_back(std::move(job));
    }
  }
  fs::create_directories(out_dir);
  InstallShutdownHandlers();
  out << "tandem sweep: " << jobs.size() << " runs (" << args.positional().size() << " configs x "
      << (variants.size() > 1 ? absl::StrCat(variants.size(), " variants x ") : "") << seeds
      << " seeds), " << parallel << " at a time, into " << out_dir << std::endl;
  struct Active {
    Job job;
    std::unique_ptr<Subprocess> process;
    absl::Time start;
  };
  std::vector<Active> active;
  size_t next = 0, failed = 0, done = 0;
  while (next < jobs.size() || !active.empty()) {
    while (next < jobs.size() && static_cast<int64_t>(active.size()) < parallel &&
           !ShutdownRequested()) {
      fs::create_directories(jobs[next].dir);
      ASSIGN_OR_RETURN(auto process,
                       Subprocess::Spawn(jobs[next].argv, jobs[next].dir + "/tandem-run.log"));
      out << "  started " << jobs[next].dir << std::endl;
      active.push_back({jobs[next], std::move(process), absl::Now()});
      ++next;
    }
    for (auto it = active.begin(); it != active.end();) {
      if (it->process->Running()) {
        ++it;
        continue;
      }
      const int status = *it->process->Wait(absl::ZeroDuration());
      const bool ok = WIFEXITED(status) && WEXITSTATUS(status) == 0;
      ++done;
      if (!ok) ++failed;
      out << "  [" << done << "/" << jobs.size() << "] " << it->job.dir << ": "
          << (ok ? "done" : Subprocess::DescribeStatus(status)) << " in "
          << absl::StrFormat("%.0f s", absl::ToDoubleSeconds(absl::Now() - it->start))
          << (ok ? "" : absl::StrCat(" (see ", it->job.dir, "/tandem-run.log)")) << std::endl;
      it = active.erase(it);
    }
    if (ShutdownRequested()) {
      for (Active& a : active) a.process->Signal(SIGTERM);
      for (Active& a : active) (void)a.process->Wait(absl::Seconds(60));
      return absl::CancelledError("interrupted");
    }
    absl::SleepFor(absl::Milliseconds(200));
  }
  RETURN_IF_ERROR(AggregateResults({out_dir}, out_dir, out));
  if (failed > 0) {
    return absl::AbortedError(absl::StrCat(failed, " of ", jobs.size(), " runs failed"));
  }
  return absl::OkStatus();
}

}  // namespace

cli::Command SweepCommand() {
  cli::Command command(
      "sweep",
      "Run every CONFIG for several seeds with `tandem run` (locally, --parallel at "
      "a time) into DIR/<name>/seed-<s>, then aggregate them like `tandem results`.",
      "CONFIG...");
  command.min_positional = 1;
  command.max_positional = 1000;
  command.flags = {
      {"seeds", cli::FlagKind::kInt, "Seeds per config.", "3", "N"},
      {"first_seed", cli::FlagKind::kInt, "The first seed; seeds are consecutive.", "1", "S"},
      {"parallel", cli::FlagKind::kInt, "Runs at a time.", "1", "P"},
      {"share_pretraining", cli::FlagKind::kBool,
       "Pretrain each seed's offline phase once: runs whose configs differ only in online, "
       "acting or evaluation settings start from the first one's offline checkpoint "
       "(run.pretrain_cache_dir = DIR/pretrain-cache).",
       "true", ""},
      {"out", cli::FlagKind::kString, "Sweep directory.", "runs/sweep", "DIR"},
      {"set", cli::FlagKind::kRepeated, "Override applied to every config (path=value).", "",
       "PATH=VALUE"},
      {"vary", cli::FlagKind::kRepeated,
       "Run every config once per value (several flags: every combination), the value appended "
       "to the run's name: a path by its file name, e.g. --vary "
       "dataset.path=data/Ant-4x2-medium.h5,data/Ant-4x2-medium-replay.h5.",
       "", "PATH=V1,V2,..."},
  };
  command.run = cli::StatusHandler("tandem sweep", RunSweep);
  return command;
}

cli::Command ResultsCommand() {
  cli::Command command(
      "results",
      "Aggregate finished runs (every result.csv under DIR...) by config name: "
      "mean +- std over seeds of the before/after returns, as a table, a CSV and a "
      "plot.",
      "DIR...");
  command.min_positional = 1;
  command.max_positional = 1000;
  command.flags = {
      {"out", cli::FlagKind::kString, "Where results.csv/.png go (default: the first DIR).", "",
       "DIR"},
  };
  command.run = cli::StatusHandler("tandem results", [](const cli::Args& args, std::ostream& out) {
    const std::string out_dir =
        args.GetString("out").empty() ? args.positional().front() : args.GetString("out");
    return AggregateResults(args.positional(), out_dir, out);
  });
  return command;
}

}  // namespace tandem
