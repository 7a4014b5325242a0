#include "actor/evaluator_role.h"

#include <cmath>
#include <fstream>
#include <iomanip>
#include <map>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "actor/evaluator.h"
#include "common/grpc_security.h"
#include "common/parameter_client.h"
#include "common/status_macros.h"

namespace tandem::actor {
namespace {

class EvaluationLog {
 public:
  EvaluationLog(const EvaluatorOptions& options, std::ostream& out)
      : config_(options.config), metrics_(options.metrics), out_(out) {
    if (!options.csv_path.empty()) {
      const bool fresh = !std::ifstream(options.csv_path).good();
      csv_.open(options.csv_path, std::ios::app);
      if (fresh)
        csv_ << "version,learner_step,env_steps,policy,episodes,mean,std,min,max,normalized,"
                "win_rate\n";
    }
  }

  // `won_flag`: the env reports wins (combat maps), so the win rate is shown and exported.
  void Record(const Weights* weights, const std::string& policy, const EvaluationResult& r,
              bool won_flag) {
    const EvaluationConfig& eval = config_.evaluation();
    const bool normalized = !std::isnan(eval.random_return()) && !std::isnan(eval.expert_return());
    const double score =
        normalized ? NormalizedScore(r.mean_return, eval.random_return(), eval.expert_return())
                   : std::nan("");
    const uint64_t version = weights ? weights->version() : 0;
    const int64_t step = weights ? weights->learner_step() : 0;
    const int64_t env_steps = weights ? weights->env_steps() : 0;
    out_ << "evaluation " << policy << " (weights version " << version << ", " << env_steps
         << " env steps): return " << absl::StrFormat("%.1f +- %.1f", r.mean_return, r.std_return)
         << " over " << r.episodes << " episodes"
         << (normalized ? absl::StrFormat(", normalized score %.1f", score) : "")
         << (won_flag ? absl::StrFormat(", win rate %.3f", r.win_rate) : "") << std::endl;
    if (csv_.is_open()) {
      csv_ << absl::StrFormat("%d,%d,%d,%s,%d,%.4f,%.4f,%.4f,%.4f,%.4f,%s\n", version, step,
                              env_steps, policy, r.episodes, r.mean_return, r.std_return,
                              r.min_return, r.max_return, score,
                              won_flag ? absl::StrFormat("%.4f", r.win_rate) : "")
           << std::flush;
    }
    if (metrics_ != nullptr) {
      metrics_
          ->GetGauge("tandem_eval_return", "Mean return of the latest evaluation",
                     {{"policy", policy}})
          .Set(r.mean_return);
      metrics_
          ->GetGauge("tandem_eval_return_std", "Std of the latest evaluation's returns",
                     {{"policy", policy}})
          .Set(r.std_return);
      if (normalized) {
        metrics_
            ->GetGauge("tandem_eval_normalized_score", "Normalized score of the latest evaluation",
                       {{"policy", policy}})
            .Set(score);
      }
      if (won_flag) {
        metrics_
            ->GetGauge("tandem_eval_win_rate", "Win rate of the latest evaluation",
                       {{"policy", policy}})
            .Set(r.win_rate);
      }
      metrics_->GetGauge("tandem_eval_weights_version", "Weights version last evaluated")
          .Set(static_cast<double>(version));
      metrics_->GetGauge("tandem_eval_env_steps", "Online env steps at the last evaluation")
          .Set(static_cast<double>(env_steps));
    }
  }

 private:
  const ExperimentConfig& config_;
  MetricsRegistry* metrics_;
  std::ostream& out_;
  std::ofstream csv_;
};

}  // namespace

bool EvaluationSchedule::Due(uint64_t version, int64_t env_steps) {
  if (evaluated_ && version >= version_) {
    const bool wait = every_env_steps_ > 0 ? env_steps < env_steps_ + every_env_steps_
                                           : version < version_ + every_versions_;
    if (wait) return false;
  }
  evaluated_ = true;
  version_ = version;
  env_steps_ = env_steps;
  return true;
}

absl::Status RunEvaluator(const EvaluatorOptions& options, const std::function<bool()>& stop,
                          std::ostream& out) {
  const ExperimentConfig& config = options.config;
  const envs::EnvOptions env_options(config.env().options().begin(), config.env().options().end());
  ASSIGN_OR_RETURN(auto env, envs::CreateEnv(config.env().name(), env_options));
  const envs::EnvSpec spec = env->spec();
  env.reset();
  const std::string& offline_checkpoint = config.learner().offline_checkpoint();
  if (offline_checkpoint.empty() && options.parameters == nullptr) {
    return absl::InvalidArgumentError(
        "the evaluator needs learner.offline_checkpoint, a learner address, or both");
  }
  ASSIGN_OR_RETURN(std::unique_ptr<policies::ActingPolicy> policy,
                   policies::CreateActingPolicy(policies::PolicyContext{
                       spec.ToTransitionSpec(), config.algorithm(), offline_checkpoint}));
  const int episodes = config.evaluation().episodes();
  const uint64_t seed = config.seed();
  const int beam_width = config.selector().beam_width();
  EvaluationLog log(options, out);
  auto evaluate = [&](const Weights* weights, const std::string& which) -> absl::Status {
    ASSIGN_OR_RETURN(EvaluationResult result,
                     EvaluateNamedPolicy(config.env().name(), env_options, *policy, which,
                                         beam_width, episodes, seed));
    log.Record(weights, which, result, spec.action_type == ACTION_TYPE_DISCRETE);
    return absl::OkStatus();
  };
  // The composed policy needs a critic that scores hybrids; recurrent Q agents have none.
  const bool composed = !offline_checkpoint.empty() && policy->capabilities().factorized_critic;
  if (!offline_checkpoint.empty()) RETURN_IF_ERROR(evaluate(nullptr, "offline"));
  if (options.parameters == nullptr) return absl::OkStatus();

  ParameterSubscriberOptions subscriber_options;
  subscriber_options.metrics = options.metrics;
  ASSIGN_OR_RETURN(subscriber_options.auth_token, ResolveAuthToken(config.security()));
  ParameterSubscriber subscriber(options.parameters, subscriber_options);
  EvaluationSchedule schedule(config.evaluation().every_versions(),
                              config.evaluation().every_env_steps());
  uint64_t seen = 0;  // the version last looked at
  while (!stop()) {
    if (!subscriber.WaitForChange(seen, absl::Milliseconds(250))) continue;
    std::shared_ptr<const Weights> weights = subscriber.Latest();
    seen = weights->version();
    if (!schedule.Due(weights->version(), weights->env_steps())) continue;
    RETURN_IF_ERROR(policy->LoadWeights(*weights));
    RETURN_IF_ERROR(evaluate(weights.get(), "online"));
    if (composed) RETURN_IF_ERROR(evaluate(weights.get(), "composed"));
  }
  return absl::OkStatus();
}

}  // namespace tandem::actor
