#include "cli/sweep_command.h"

#include <signal.h>
#include <sys/wait.h>

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
      "offline_return", "online_return", "composed_return", "env_steps", "updates", "wall_seconds"};
  return *columns;
}

struct RunResult {
  std::string name;
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
    if (header[i] == "name") {
      result.name = row[i];
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
  std::map<std::string, std::vector<double>> values;
};

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
      for (const std::string& column : ResultColumns()) {
        auto it = result->values.find(column);
        aggregate.values[column].push_back(it == result->values.end() ? NAN : it->second);
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
  fs::create_directories(out_dir);
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

absl::Status RunSweep(const cli::Args& args, std::ostream& out) {
  const int64_t seeds = args.GetInt("seeds");
  const int64_t parallel = args.GetInt("parallel");
  if (seeds < 1) return absl::InvalidArgumentError("--seeds must be >= 1");
  if (parallel < 1) return absl::InvalidArgumentError("--parallel must be >= 1");
  const std::string out_dir = args.GetString("out");
  const int64_t first_seed = args.GetInt("first_seed");
  // Check every config (with the overrides) before starting anything.
  struct Job {
    std::string name, dir;
    std::vector<std::string> argv;
  };
  std::vector<Job> jobs;
  for (const std::string& path : args.positional()) {
    ASSIGN_OR_RETURN(ExperimentConfig config, LoadExperimentConfig(path, args.GetRepeated("set")));
    for (int64_t s = 0; s < seeds; ++s) {
      const int64_t seed = first_seed + s;
      Job job;
      job.name = config.name();
      job.dir = absl::StrCat(out_dir, "/", config.name(), "/seed-", seed);
      if (fs::exists(job.dir + "/summary.txt")) {
        out << "skipping " << job.dir << " (already finished)" << std::endl;
        continue;
      }
      job.argv = {CurrentExecutable(), "run", "--config", path, "--run_dir", job.dir};
      for (const std::string& assignment : args.GetRepeated("set")) {
        job.argv.push_back("--set");
        job.argv.push_back(assignment);
      }
      job.argv.push_back("--set");
      job.argv.push_back(absl::StrCat("seed=", seed));
      jobs.push_back(std::move(job));
    }
  }
  fs::create_directories(out_dir);
  InstallShutdownHandlers();
  out << "tandem sweep: " << jobs.size() << " runs (" << args.positional().size() << " configs x "
      << seeds << " seeds), " << parallel << " at a time, into " << out_dir << std::endl;
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
      {"out", cli::FlagKind::kString, "Sweep directory.", "runs/sweep", "DIR"},
      {"set", cli::FlagKind::kRepeated, "Override applied to every config (path=value).", "",
       "PATH=VALUE"},
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
