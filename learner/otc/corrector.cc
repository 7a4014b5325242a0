#include "learner/otc/corrector.h"

#include <ATen/ATen.h>

#include <numeric>

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "learner/module_util.h"
#include "learner/otc/sampling.h"

namespace tandem::learner::otc {

absl::StatusOr<Sampling> ParseSampling(const std::string& text) {
  if (text == "uniform") return Sampling::kUniform;
  if (text == "online") return Sampling::kOnline;
  if (text == "balanced") return Sampling::kBalanced;
  if (text == "embedding") return Sampling::kEmbedding;
  if (text == "value") return Sampling::kValue;
  return absl::InvalidArgumentError(
      absl::StrCat("algorithm.otc.sampling must be \"uniform\", \"online\", \"balanced\", "
                   "\"embedding\" or \"value\", got \"",
                   text, "\""));
}

absl::StatusOr<CorrectorOptions> CorrectorOptionsFor(const AlgorithmContext& context,
                                                     const networks::BcqShapes& shapes) {
  const OtcConfig& otc = context.config.otc();
  if (otc.embedding_size() < 1 || otc.merged_minibatch() < 1 || otc.online_minibatch() < 1) {
    return absl::InvalidArgumentError(
        "algorithm.otc: embedding_size, merged_minibatch and online_minibatch must be >= 1");
  }
  if (!(otc.balanced_temperature() > 0) || !(otc.balanced_learning_rate() > 0)) {
    return absl::InvalidArgumentError(
        "algorithm.otc: balanced_temperature and balanced_learning_rate must be > 0");
  }
  if (otc.alpha() < 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("algorithm.otc.alpha must be >= 0, got ", otc.alpha()));
  }
  CorrectorOptions options;
  ASSIGN_OR_RETURN(options.sampling, ParseSampling(otc.sampling()));
  options.num_agents = shapes.num_agents;
  options.input_size = shapes.input_size;
  options.action_size = shapes.action_size;
  options.alpha = otc.alpha();
  options.adaptive_alpha = otc.adaptive_alpha();
  options.embedding_size = otc.embedding_size();
  options.hidden_sizes = shapes.hidden_sizes;
  options.vae_learning_rate = otc.vae_learning_rate();
  options.balanced_learning_rate = otc.balanced_learning_rate();
  options.balanced_temperature = otc.balanced_temperature();
  options.device = context.device;
  options.seed = context.seed ^ 0x07c0ffeeULL;
  options.train_batch = context.batch_size;
  return options;
}

CorrectorStateImpl::CorrectorStateImpl(int64_t num_agents, double initial_alpha) {
  // Parameters without gradients rather than buffers: checkpoints hold every module's parameters.
  alpha = register_parameter("alpha", at::full({num_agents}, initial_alpha, at::kDouble),
                             /*requires_grad=*/false);
  previous_distance = register_parameter("previous_distance", at::zeros({num_agents}, at::kDouble),
                                         /*requires_grad=*/false);
  deployments =
      register_parameter("deployments", at::zeros({1}, at::kDouble), /*requires_grad=*/false);
}

Corrector::Corrector(const CorrectorOptions& options)
    : options_(options),
      rng_(options.seed),
      state_(CorrectorState(options.num_agents, options.alpha)) {
  if (options.sampling == Sampling::kEmbedding) {
    cvae_ = networks::ConditionalVae(networks::ConditionalVaeOptions{
        options.num_agents, 2 * options.input_size, options.action_size, options.embedding_size,
        options.hidden_sizes});
    cvae_->to(options.device);
    FusedAdamOptions adam;
    adam.learning_rate = options.vae_learning_rate;
    adam.max_grad_norm = 0;
    cvae_optimizer_ = std::make_unique<FusedAdam>(ParametersOf({cvae_.get()}), adam);
  }
  if (options.sampling == Sampling::kBalanced) {
    density_ratio_ = networks::AgentMlp(networks::AgentMlpOptions{
        options.num_agents, options.input_size + options.action_size, options.hidden_sizes, 1});
    density_ratio_->to(options.device);
    FusedAdamOptions adam;
    adam.learning_rate = options.balanced_learning_rate;
    adam.max_grad_norm = 0;
    density_optimizer_ = std::make_unique<FusedAdam>(ParametersOf({density_ratio_.get()}), adam);
  }
}

at::Tensor Corrector::DensityRatio(const AgentBatch& batch) {
  return at::softplus(density_ratio_->forward(at::cat({batch.input, batch.actions}, -1)));
}

at::Tensor Corrector::BalancedProbabilities(const AgentBatch& merged, const AgentBatch& online,
                                            UpdateStats* stats) {
  const at::Tensor w_merged = DensityRatio(merged), w_online = DensityRatio(online);
  const at::Tensor loss = (-at::log(2.0 / (w_merged + 1) + 1e-10)).mean() -
                          at::log(2 * w_online / (w_online + 1) + 1e-10).mean();
  density_optimizer_->ZeroGrad();
  loss.backward();
  density_optimizer_->Step();
  (*stats)["balanced_loss"] = loss.item<double>();
  at::NoGradGuard no_grad;
  const at::Tensor tempered =
      DensityRatio(merged).squeeze(-1).pow(1.0 / options_.balanced_temperature);
  const at::Tensor priority =
      (tempered / (tempered.mean(-1, /*keepdim=*/true) + 1e-10)).clamp(0.001, 1000);
  return (priority / priority.sum(-1, /*keepdim=*/true)).to(at::kCPU, at::kDouble).contiguous();
}

at::Tensor Corrector::TrainAndEmbed(const AgentBatch& merged, const AgentBatch& online,
                                    at::Tensor* online_mu, UpdateStats* stats) {
  const at::Tensor condition = at::cat({merged.input, merged.next_input}, -1);
  auto [loss, reconstruction] = cvae_->Loss(condition, merged.actions);
  cvae_optimizer_->ZeroGrad();
  loss.backward();
  cvae_optimizer_->Step();
  (*stats)["cvae_loss"] = loss.item<double>();
  at::NoGradGuard no_grad;
  if (online_mu != nullptr) {
    *online_mu =
        cvae_->Encode(at::cat({online.input, online.next_input}, -1), online.actions).first;
  }
  return cvae_->Encode(condition, merged.actions).first;
}

std::vector<double> Corrector::alpha() const {
  const double* a = state_->alpha.data_ptr<double>();
  return std::vector<double>(a, a + options_.num_agents);
}

int Corrector::deployments() const {
  return static_cast<int>(state_->deployments.data_ptr<double>()[0]);
}

AgentBatch Corrector::Select(const AgentBatch& batch, const at::Tensor& online,
                             ValueFunction& values, UpdateStats* stats) {
  const at::Tensor online_rows =
      online.defined() ? online.to(at::kCPU).nonzero().view(-1) : at::Tensor();
  if (!online_rows.defined() || online_rows.numel() == 0) {
    // Offline training on B^0: every row, uniformly as sampled. The cVAE learns alongside.
    if (options_.sampling == Sampling::kEmbedding) TrainAndEmbed(batch, batch, nullptr, stats);
    return batch;
  }
  const at::Tensor merged_rows = online.to(at::kCPU).logical_not().nonzero().view(-1);
  const int64_t n = options_.num_agents, count = options_.train_batch;
  auto rows_of = [&](const at::Tensor& index) {
    return batch.Gather(index.to(batch.input.device()).unsqueeze(0).expand({n, index.numel()}));
  };
  const AgentBatch merged = rows_of(merged_rows);
  const AgentBatch deployment = rows_of(online_rows);
  // `count` rows of `from` per agent, uniformly with replacement.
  auto uniform = [&](const AgentBatch& from) {
    at::Tensor rows = at::empty({n, count}, at::kLong);
    int64_t* rp = rows.data_ptr<int64_t>();
    for (int64_t k = 0; k < n * count; ++k) {
      rp[k] = static_cast<int64_t>(UniformIndex(rng_, from.size()));
    }
    return from.Gather(rows);
  };
  if (options_.sampling == Sampling::kOnline) return uniform(deployment);
  if (merged.size() == 0) return batch;
  if (options_.sampling == Sampling::kUniform) return uniform(merged);
  if (options_.sampling == Sampling::kBalanced) {
    return merged.Gather(
        DrawByProbability(BalancedProbabilities(merged, deployment, stats), count, rng_));
  }
  at::Tensor match_b, match_d, next_b, next_d;
  if (options_.sampling == Sampling::kEmbedding) {
    match_b = next_b = TrainAndEmbed(merged, deployment, &match_d, stats);
    next_d = match_d;
  } else {
    at::NoGradGuard no_grad;
    match_b = values.QValue(merged.input, merged.actions);
    match_d = values.QValue(deployment.input, deployment.actions);
    next_b = NormalizeByMean(values.StateValue(merged.next_input).squeeze(-1)).unsqueeze(-1);
    next_d = NormalizeByMean(values.StateValue(deployment.next_input).squeeze(-1)).unsqueeze(-1);
  }
  const at::Tensor match = BestMatch(match_b, match_d, rng_);
  const at::Tensor distance = MatchedDistance(next_b, next_d, match);
  const at::Tensor mean = distance.to(at::kDouble).mean(-1).contiguous();
  const double* dist = mean.data_ptr<double>();
  // The state lives in CPU double buffers (checkpointed).
  double* alpha = state_->alpha.data_ptr<double>();
  double* previous = state_->previous_distance.data_ptr<double>();
  if (new_deployment_) {
    const double deployments = ++state_->deployments.data_ptr<double>()[0];
    for (int64_t i = 0; i < n; ++i) {
      if (deployments > 1 && options_.adaptive_alpha) {
        alpha[i] = AdaptAlpha(alpha[i], dist[i], previous[i]);
      }
      previous[i] = dist[i];
    }
    new_deployment_ = false;
  }
  const std::vector<double> alphas(alpha, alpha + n);
  const at::Tensor rows = DrawByProbability(RankProbabilities(distance, alphas), count, rng_);
  (*stats)["otc_alpha"] = std::accumulate(alphas.begin(), alphas.end(), 0.0) / n;
  (*stats)["otc_distance"] = mean.mean().item<double>();
  return merged.Gather(rows);
}

}  // namespace tandem::learner::otc
