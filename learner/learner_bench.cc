#include "learner/learner_bench.h"

#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <torch/csrc/autograd/profiler_legacy.h>
#include <torch/cuda.h>

#include <algorithm>
#include <iomanip>
#include <map>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/config.h"
#include "common/status_macros.h"
#include "learner/algorithm.h"

namespace tandem::learner {
namespace {

struct Task {
  const char* name;
  int agents, obs, action;
};

// Floating-point operations of the linear layers in one OMIGA update of `batch` transitions with
// hidden width `h` (2 per multiply-add): target critic and target V forward, critic, V and policy
// forward + backward (backward = 2 forwards). The matrix products are nearly all of the work, so
// updates/s x this / the machine's matmul rate is the fraction of the matmul floor reached.
double UpdateFlops(const Task& task, int batch, int h) {
  auto layers = [h](double in, double out) { return in * h + 1.0 * h * h + 1.0 * h * out; };
  const double q = layers(task.obs + task.action + task.agents, 1);
  const double v = layers(task.obs + task.agents, 1);
  const double policy = layers(task.obs + task.agents, 2.0 * task.action);
  return 2.0 * batch * task.agents * (4 * q + 4 * v + 3 * policy);
}

// A synthetic in-memory table of `rows` transitions in OMIGA's layout (state = all agents' obs).
struct Table {
  at::Tensor obs, state, actions, reward, terminated, next_obs, next_state;
};

Table MakeTable(const Task& task, int64_t rows, const c10::Device& device) {
  const auto options = at::TensorOptions().device(device);
  Table t;
  t.obs = at::randn({rows, task.agents, task.obs}, options);
  t.state = t.obs.reshape({rows, task.agents * task.obs});
  t.actions = at::rand({rows, task.agents, task.action}, options) * 2 - 1;
  t.reward = at::randn({rows}, options);
  t.terminated = (at::rand({rows}, options) < 0.01).to(at::kFloat);
  t.next_obs = at::randn({rows, task.agents, task.obs}, options);
  t.next_state = t.next_obs.reshape({rows, task.agents * task.obs});
  return t;
}

TrainingBatch Sample(const Table& table, int64_t batch, at::Generator& generator) {
  const at::Tensor index =
      at::randint(table.reward.size(0), {batch}, generator,
                  at::TensorOptions().dtype(at::kLong).device(table.reward.device()));
  TrainingBatch b;
  b.obs = table.obs.index_select(0, index);
  b.state = table.state.index_select(0, index);
  b.actions = table.actions.index_select(0, index);
  b.reward = table.reward.index_select(0, index);
  b.terminated = table.terminated.index_select(0, index);
  b.next_obs = table.next_obs.index_select(0, index);
  b.next_state = table.next_state.index_select(0, index);
  return b;
}

absl::StatusOr<double> Measure(const Task& task, const c10::Device& device, int streams, int batch,
                               absl::Duration duration, const std::string& profile) {
  AlgorithmContext context;
  context.spec.set_num_agents(task.agents);
  context.spec.set_obs_size(task.obs);
  context.spec.set_state_size(task.agents * task.obs);
  context.spec.set_action_type(ACTION_TYPE_CONTINUOUS);
  context.spec.set_action_size(task.action);
  FillDefaults(&context.config);
  context.device = device;
  context.update_streams = streams;
  ASSIGN_OR_RETURN(std::unique_ptr<Algorithm> algorithm, CreateAlgorithm(context));
  Table table = MakeTable(task, 100000, device);
  at::Generator generator = at::globalContext().defaultGenerator(device);
  for (int i = 0; i < 20; ++i)
    RETURN_IF_ERROR(algorithm->Update(Sample(table, batch, generator)).status());
  if (device.is_cuda()) torch::cuda::synchronize();
  if (!profile.empty()) {
    // A chrome://tracing trace of 20 updates, for finding where the time goes.
    torch::autograd::profiler::RecordProfile guard(profile);
    for (int i = 0; i < 20; ++i)
      RETURN_IF_ERROR(algorithm->Update(Sample(table, batch, generator)).status());
  }
  int64_t updates = 0;
  const absl::Time start = absl::Now();
  while (absl::Now() - start < duration) {
    for (int i = 0; i < 10; ++i, ++updates) {
      RETURN_IF_ERROR(algorithm->Update(Sample(table, batch, generator)).status());
    }
  }
  if (device.is_cuda()) torch::cuda::synchronize();
  return updates / absl::ToDoubleSeconds(absl::Now() - start);
}

absl::Status RunBench(const cli::Args& args, std::ostream& out) {
  const int threads = static_cast<int>(args.GetInt("threads"));
  const int batch = static_cast<int>(args.GetInt("batch"));
  const absl::Duration duration = absl::Seconds(args.GetDouble("seconds"));
  const std::vector<Task> tasks = {{"HalfCheetah-6x1", 6, 23, 1}, {"Ant-2x4", 2, 113, 4}};
  // CPU: the two ways to use the cores (learner.update_streams), then CUDA when present.
  struct Mode {
    c10::Device device;
    int streams, intra_op_threads;
    std::string label;
  };
  std::vector<Mode> modes = {
      {c10::Device(c10::kCPU), 2, 1, "cpu, 2 streams x 1 thread"},
      {c10::Device(c10::kCPU), 1, threads, absl::StrCat("cpu, 1 stream x ", threads, " threads")}};
  if (torch::cuda::is_available()) modes.push_back({c10::Device(c10::kCUDA, 0), 1, 1, "cuda"});
  out << "tandem bench learner: OMIGA, batch " << batch << ", " << absl::FormatDuration(duration)
      << " per measurement\n";
  at::set_num_threads(threads);
  const double gflops = MatmulGflops(absl::Seconds(1));
  out << "  machine: " << std::fixed << std::setprecision(0) << gflops
      << " GFLOP/s in 768x256 @ 256x256 products on " << threads << " threads\n";
  AlgorithmConfig defaults;
  FillDefaults(&defaults);
  std::map<std::string, std::map<int, double>> cpu_rates;  // task -> streams -> updates/s
  for (const Mode& mode : modes) {
    at::set_num_threads(mode.intra_op_threads);
    for (const Task& task : tasks) {
      const std::string profile =
          args.GetString("profile").empty()
              ? std::string()
              : absl::StrCat(args.GetString("profile"), ".", mode.device.str(), ".", mode.streams,
                             "streams.", task.name, ".json");
      ASSIGN_OR_RETURN(double rate,
                       Measure(task, mode.device, mode.streams, batch, duration, profile));
      out << "  " << std::left << std::setw(28) << mode.label << std::setw(17) << task.name
          << std::right << std::fixed << std::setprecision(1) << std::setw(7) << rate
          << " updates/s";
      if (mode.device.is_cpu()) {
        cpu_rates[task.name][mode.streams] = rate;
        const double flops = UpdateFlops(task, batch, defaults.hidden_size());
        out << "  " << std::setprecision(2) << flops / 1e9 << " GFLOP/update, "
            << std::setprecision(2) << rate * flops / (gflops * 1e9) << " of the matmul floor";
      }
      out << "\n";
    }
  }
  // learner.update_streams: 0 (the default) measures both modes at startup and takes the faster.
  for (const Task& task : tasks) {
    const std::map<int, double>& rate = cpu_rates[task.name];
    out << "  default (update_streams 0) on this machine, " << task.name << ": "
        << (rate.at(2) >= rate.at(1) ? "2 streams" : "1 stream") << "\n";
  }
  return absl::OkStatus();
}

}  // namespace

// The shape that dominates the HalfCheetah-6x1 update (768 agent-rows through a 256x256 layer). The
// CPU updates are bound by it, so printing it beside them tells a slow machine from a slow learner
// (shared VMs vary by a third).
double MatmulGflops(absl::Duration duration) {
  const at::Tensor a = at::randn({768, 256}), b = at::randn({256, 256});
  at::Tensor c = at::mm(a, b);
  int64_t products = 0;
  const absl::Time start = absl::Now();
  while (absl::Now() - start < duration) {
    for (int i = 0; i < 50; ++i, ++products) at::mm_out(c, a, b);
  }
  return products * 2.0 * 768 * 256 * 256 / absl::ToDoubleSeconds(absl::Now() - start) / 1e9;
}

cli::Command LearnerBenchCommand() {
  cli::Command command("learner",
                       "OMIGA updates/s on synthetic data for HalfCheetah-6x1 and Ant-2x4, on CPU "
                       "and (when present) CUDA.");
  command.flags = {
      {"batch", cli::FlagKind::kInt, "Transitions per update.", "128", "B"},
      {"seconds", cli::FlagKind::kDouble, "Duration of each measurement.", "5", "S"},
      {"profile", cli::FlagKind::kString,
       "Write a chrome://tracing profile of 20 updates per task to PREFIX.<device>.<task>.json.",
       "", "PREFIX"},
      {"threads", cli::FlagKind::kInt,
       "LibTorch intra-op threads of the one-stream CPU measurement (the two-stream one uses 1 "
       "per stream).",
       "2", "N"},
  };
  command.run = cli::StatusHandler("tandem bench learner", RunBench);
  return command;
}

}  // namespace tandem::learner
