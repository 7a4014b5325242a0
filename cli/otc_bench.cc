#include "cli/otc_bench.h"

#include <ATen/ATen.h>
#include <ATen/Parallel.h>

#include <iomanip>

#include "absl/time/clock.h"
#include "common/config.h"
#include "common/status_macros.h"
#include "envs/registry.h"
#include "learner/learner_bench.h"
#include "learner/otc/bcq.h"
#include "learner/otc/sampling.h"

namespace tandem {
namespace {

// `rows` random transitions of `spec`; the last `online` of them are tagged deployment data.
learner::TrainingBatch SyntheticTransitions(const TransitionSpec& spec, int64_t rows,
                                            int64_t online) {
  const int64_t n = spec.num_agents();
  learner::TrainingBatch b;
  b.obs = at::randn({rows, n, spec.obs_size()});
  b.state = at::randn({rows, spec.state_size()});
  b.actions = at::rand({rows, n, spec.action_size()}) * 2 - 1;
  b.reward = at::randn({rows});
  b.terminated = at::zeros({rows});
  b.truncated = at::zeros({rows});
  b.next_obs = at::randn({rows, n, spec.obs_size()});
  b.next_state = at::randn({rows, spec.state_size()});
  b.offline = at::arange(rows) < rows - online;
  return b;
}

// Updates/s of `algorithm` (Table 3's hidden sizes) with `sampling` on batches of `rows` rows,
// `online` of them deployment data.
absl::StatusOr<double> UpdatesPerSecond(const TransitionSpec& spec, const std::string& sampling,
                                        int64_t rows, int64_t online, absl::Duration duration,
                                        const std::string& algorithm = "dec_bcq") {
  learner::AlgorithmContext context;
  context.spec = spec;
  FillDefaults(&context.config);
  context.config.set_name(algorithm);
  context.config.mutable_otc()->set_sampling(sampling);
  context.batch_size = 128;
  ASSIGN_OR_RETURN(auto bcq, learner::CreateAlgorithm(context));
  std::vector<learner::TrainingBatch> batches;
  for (int i = 0; i < 4; ++i) batches.push_back(SyntheticTransitions(spec, rows, online));
  for (int i = 0; i < 3; ++i) RETURN_IF_ERROR(bcq->Update(batches[i]).status());
  int64_t updates = 0;
  const absl::Time start = absl::Now();
  while (absl::Now() - start < duration) {
    RETURN_IF_ERROR(bcq->Update(batches[updates % batches.size()]).status());
    ++updates;
  }
  return updates / absl::ToDoubleSeconds(absl::Now() - start);
}

absl::Status RunOtcBench(const cli::Args& args, std::ostream& out) {
  const absl::Duration duration = absl::Seconds(args.GetDouble("seconds"));
  const int threads = static_cast<int>(args.GetInt("threads"));
  at::set_num_threads(threads);
  out << "tandem bench otc: " << absl::FormatDuration(duration) << " per measurement, " << threads
      << " threads\n";
  out << "  machine: " << std::fixed << std::setprecision(0)
      << learner::MatmulGflops(absl::Seconds(1)) << " GFLOP/s in 768x256 @ 256x256 products\n";
  out << "  decentralized BCQ (Table 3: hidden 64, 64; batch 128; 10 sampled actions), OTC with "
         "|B| = 512 merged and |D| = 2000 deployment rows per update:\n";
  for (const std::string env : {"mamujoco/HalfCheetah-2x3", "mpe/CooperativeNavigation-3"}) {
    ASSIGN_OR_RETURN(auto probe, envs::CreateEnv(env));
    const TransitionSpec spec = probe->spec().ToTransitionSpec();
    ASSIGN_OR_RETURN(const double plain, UpdatesPerSecond(spec, "uniform", 128, 0, duration));
    out << "    " << std::left << std::setw(28) << env << std::right << " plain "
        << std::setprecision(1) << plain << " updates/s";
    for (const std::string sampling : {"embedding", "value", "balanced"}) {
      ASSIGN_OR_RETURN(const double rate, UpdatesPerSecond(spec, sampling, 2512, 2000, duration));
      out << "; "
          << (sampling == "embedding" ? "d_e "
              : sampling == "value"   ? "d_q "
                                      : "Balanced Replay ")
          << rate << " (cost " << std::setprecision(2) << plain / rate << "x)"
          << std::setprecision(1);
    }
    out << "\n";
  }
  // The base algorithms without correction, Table 3's networks, on Cooperative Navigation-3.
  {
    ASSIGN_OR_RETURN(auto probe, envs::CreateEnv("mpe/CooperativeNavigation-3"));
    const TransitionSpec spec = probe->spec().ToTransitionSpec();
    out << "  base algorithms, CooperativeNavigation-3, batch 128, no correction:";
    for (const std::string algorithm : {"dec_bcq", "dec_td3_bc", "dec_awac", "dec_cql"}) {
      ASSIGN_OR_RETURN(const double rate,
                       UpdatesPerSecond(spec, "uniform", 128, 0, duration, algorithm));
      out << " " << algorithm << " " << std::setprecision(1) << rate;
    }
    out << " updates/s\n";
  }
  // The best-match search alone, per update: every agent's 512 merged rows against 2000.
  out << "  best-match search, 512 x 2000 rows per agent, 2 agents:";
  for (const int64_t width : {1, 10}) {
    const at::Tensor query = at::randn({2, 512, width}), candidates = at::randn({2, 2000, width});
    Rng rng(1);
    learner::otc::BestMatch(query, candidates, rng);
    int64_t calls = 0;
    const absl::Time start = absl::Now();
    while (absl::Now() - start < absl::Seconds(1)) {
      learner::otc::BestMatch(query, candidates, rng);
      ++calls;
    }
    out << " " << std::setprecision(2) << 1000 * absl::ToDoubleSeconds(absl::Now() - start) / calls
        << " ms (" << (width == 1 ? "d_q, 1 feature" : "d_e, 10 features") << ")";
  }
  out << "\n";
  return absl::OkStatus();
}

}  // namespace

cli::Command OtcBenchCommand() {
  cli::Command command(
      "otc",
      "Decentralized BCQ updates/s plain and with OTC's transition correction by d_e and d_q "
      "and with Balanced Replay's sampling (the cost of an update as a multiple of a plain one), "
      "on HalfCheetah-2x3 and CooperativeNavigation-3 shapes, and the four base algorithms' "
      "updates/s.");
  command.flags = {
      {"seconds", cli::FlagKind::kDouble, "Duration of each measurement.", "3", "S"},
      {"threads", cli::FlagKind::kInt, "LibTorch intra-op threads.", "2", "N"},
  };
  command.run = cli::StatusHandler("tandem bench otc", RunOtcBench);
  return command;
}

}  // namespace tandem
