#include "learner/omiga.h"

#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <torch/utils.h>

#include <cmath>
#include <functional>
#include <tuple>

#include "absl/strings/str_cat.h"
#include "common/networks/architectures.h"
#include "common/status_macros.h"
#include "learner/module_util.h"
#include "learner/ovm.h"

namespace tandem::learner {

Omiga::Omiga(const AlgorithmContext& context)
    : context_(context), num_agents_(context.spec.num_agents()) {}

absl::StatusOr<std::unique_ptr<Omiga>> Omiga::Create(const AlgorithmContext& context) {
  const TransitionSpec& spec = context.spec;
  if (spec.action_type() != ACTION_TYPE_CONTINUOUS) {
    return absl::InvalidArgumentError(
        "algorithm omiga: needs continuous actions (MA-MuJoCo); this spec is discrete");
  }
  std::unique_ptr<Omiga> omiga(new Omiga(context));
  const std::string& online_update = context.config.omiga().online_update();
  if (online_update == "awac") {
    omiga->online_update_ = OnlineUpdate::kAwac;
  } else if (online_update == "proto") {
    omiga->online_update_ = OnlineUpdate::kProto;
  } else if (online_update == "rlpd") {
    omiga->online_update_ = OnlineUpdate::kRlpd;
  } else if (online_update != "omiga") {
    return absl::InvalidArgumentError(
        absl::StrCat("algorithm.omiga.online_update: must be omiga, awac, proto or rlpd, got \"",
                     online_update, "\""));
  }
  torch::manual_seed(context.seed);
  omiga->policy_ = networks::TanhGaussianPolicy(networks::OmigaPolicyOptions(spec, context.config));
  const auto q_options = networks::OmigaCriticOptions(spec, context.config);
  const auto v_options = networks::OmigaValueOptions(spec, context.config);
  const auto mixer_options = networks::OmigaMixerOptionsFor(spec, context.config);
  omiga->q_ = networks::Mlp(q_options);
  omiga->v_ = networks::Mlp(v_options);
  omiga->mixer_ = networks::OmigaMixer(mixer_options);
  omiga->q_target_ = networks::Mlp(q_options);
  omiga->v_target_ = networks::Mlp(v_options);
  omiga->mixer_target_ = networks::OmigaMixer(mixer_options);
  CopyParameters(*omiga->q_, *omiga->q_target_);
  CopyParameters(*omiga->v_, *omiga->v_target_);
  CopyParameters(*omiga->mixer_, *omiga->mixer_target_);
  for (auto& [name, module] : omiga->Modules()) module->to(context.device);
  Freeze(*omiga->q_target_);
  Freeze(*omiga->v_target_);
  Freeze(*omiga->mixer_target_);

  FusedAdamOptions adam;
  adam.learning_rate = context.config.learning_rate();
  adam.max_grad_norm = context.config.max_grad_norm();
  omiga->policy_optimizer_ =
      std::make_unique<FusedAdam>(ParametersOf({omiga->policy_.get()}), adam);
  omiga->q_optimizer_ =
      std::make_unique<FusedAdam>(ParametersOf({omiga->q_.get(), omiga->mixer_.get()}), adam);
  omiga->v_optimizer_ = std::make_unique<FusedAdam>(ParametersOf({omiga->v_.get()}), adam);
  omiga->target_parameters_ =
      ParametersOf({omiga->q_target_.get(), omiga->v_target_.get(), omiga->mixer_target_.get()});
  omiga->online_parameters_ = ParametersOf({omiga->q_.get(), omiga->v_.get(), omiga->mixer_.get()});
  if (context.device.is_cpu() && context.update_streams >= 2) {
    omiga->streams_ = std::make_unique<WorkerPool>(2);
  }
  // After OMIGA's networks, so they are initialised exactly as in every other variant.
  if (omiga->online_update_ == OnlineUpdate::kRlpd) omiga->CreateEnsemble();
  return omiga;
}

std::vector<std::pair<std::string, torch::nn::Module*>> Omiga::Modules() {
  std::vector<std::pair<std::string, torch::nn::Module*>> modules = {
      {"policy", policy_.get()},
      {"q", q_.get()},
      {"v", v_.get()},
      {"mixer", mixer_.get()},
      {"q_target", q_target_.get()},
      {"v_target", v_target_.get()},
      {"mixer_target", mixer_target_.get()}};
  if (q_memory_) {
    modules.emplace_back("q_memory", q_memory_.get());
    modules.emplace_back("mixer_memory", mixer_memory_.get());
  }
  if (reference_policy_) modules.emplace_back("reference_policy", reference_policy_.get());
  if (temperature_) modules.emplace_back("temperature", temperature_.get());
  for (size_t k = 0; k < ensemble_q_.size(); ++k) {
    modules.emplace_back(absl::StrCat("rlpd_q", k), ensemble_q_[k].get());
    modules.emplace_back(absl::StrCat("rlpd_mixer", k), ensemble_mixer_[k].get());
    modules.emplace_back(absl::StrCat("rlpd_q_target", k), ensemble_q_target_[k].get());
    modules.emplace_back(absl::StrCat("rlpd_mixer_target", k), ensemble_mixer_target_[k].get());
  }
  return modules;
}

std::vector<std::pair<std::string, FusedAdam*>> Omiga::Optimizers() {
  std::vector<std::pair<std::string, FusedAdam*>> optimizers = {
      {"policy", policy_optimizer_.get()}, {"q", q_optimizer_.get()}, {"v", v_optimizer_.get()}};
  if (temperature_optimizer_) optimizers.emplace_back("temperature", temperature_optimizer_.get());
  for (size_t k = 0; k < ensemble_optimizers_.size(); ++k) {
    optimizers.emplace_back(absl::StrCat("rlpd_critic", k), ensemble_optimizers_[k].get());
  }
  return optimizers;
}

std::vector<std::pair<std::string, torch::nn::Module*>> Omiga::PublishedModules() {
  return {{"policy", policy_.get()}, {"q", q_.get()}, {"mixer", mixer_.get()}};
}

void Omiga::BeginOnlinePhase() {
  q_memory_ = networks::Mlp(networks::OmigaCriticOptions(context_.spec, context_.config));
  mixer_memory_ =
      networks::OmigaMixer(networks::OmigaMixerOptionsFor(context_.spec, context_.config));
  q_memory_->to(context_.device);
  mixer_memory_->to(context_.device);
  CopyParameters(*q_target_, *q_memory_);
  CopyParameters(*mixer_target_, *mixer_memory_);
  Freeze(*q_memory_);
  Freeze(*mixer_memory_);
  ovm_active_ = context_.config.ovm().enabled();
  online_ = true;
  if (online_update_ == OnlineUpdate::kProto) {
    // pi_k starts as the offline policy (PROTO copies the actor at the switch).
    reference_policy_ =
        networks::TanhGaussianPolicy(networks::OmigaPolicyOptions(context_.spec, context_.config));
    reference_policy_->to(context_.device);
    CopyParameters(*policy_, *reference_policy_);
    Freeze(*reference_policy_);
    temperature_ = Temperature();
    temperature_->to(context_.device);
    {
      at::NoGradGuard no_grad;
      temperature_->log_alpha.fill_(
          std::log(context_.config.omiga().proto().initial_temperature()));
    }
    FusedAdamOptions adam;
    adam.learning_rate = context_.config.learning_rate();
    adam.max_grad_norm = 0;
    temperature_optimizer_ = std::make_unique<FusedAdam>(ParametersOf({temperature_.get()}), adam);
    policy_parameters_ = ParametersOf({policy_.get()});
    reference_parameters_ = ParametersOf({reference_policy_.get()});
  }
}

at::Tensor Omiga::WithIds(const at::Tensor& obs) {
  const int64_t b = obs.size(0);
  if (!ids_.defined() || ids_.size(0) != b || ids_.device() != obs.device()) {
    ids_ = at::eye(num_agents_, obs.options()).unsqueeze(0).expand({b, num_agents_, num_agents_});
  }
  return at::cat({obs, ids_}, -1);
}

Omiga::UpdateInputs Omiga::Inputs(const TrainingBatch& batch) {
  UpdateInputs in;
  in.obs = WithIds(batch.obs);
  in.next_obs = WithIds(batch.next_obs);
  in.q_inputs = at::cat({batch.obs, batch.actions, ids_}, -1);
  return in;
}

void Omiga::ComputeVHalf(const TrainingBatch& batch, const UpdateInputs& in, OmigaLosses* losses) {
  const double alpha = context_.config.omiga().alpha();
  const double z_clip = context_.config.omiga().z_clip();
  at::Tensor w_target, q_target;
  {
    at::NoGradGuard no_grad;
    w_target = mixer_target_->forward(batch.state).first;
    q_target = q_target_->forward(in.q_inputs).squeeze(-1);
  }
  losses->v = v_->forward(in.obs).squeeze(-1);
  losses->z = ((w_target * q_target - w_target * losses->v) / alpha).clamp(-z_clip, z_clip);
  const at::Tensor max_z = at::clamp_min(losses->z.max(), -1.0).detach();
  losses->v_loss =
      (at::exp(losses->z - max_z) + at::exp(-max_z) * w_target * losses->v / alpha).mean();
}

void Omiga::ComputeQHalf(const TrainingBatch& batch, const UpdateInputs& in, OmigaLosses* losses) {
  const double gamma = context_.config.discount();
  at::Tensor memory_target;
  {
    at::NoGradGuard no_grad;
    auto [w_next, b_next] = mixer_target_->forward(batch.next_state);
    const at::Tensor v_next = v_target_->forward(in.next_obs).squeeze(-1);
    losses->td_target = batch.reward + gamma * (1 - batch.terminated) *
                                           networks::OmigaMixerImpl::Mix(w_next, b_next, v_next);
    if (ovm_active_) {
      auto [w_memory, b_memory] = mixer_memory_->forward(batch.state);
      memory_target = networks::OmigaMixerImpl::Mix(w_memory, b_memory,
                                                    q_memory_->forward(in.q_inputs).squeeze(-1));
    }
  }
  std::tie(losses->w, losses->b) = mixer_->forward(batch.state);
  losses->q_tot =
      networks::OmigaMixerImpl::Mix(losses->w, losses->b, q_->forward(in.q_inputs).squeeze(-1));
  if (ovm_active_) {
    const double lambda = MemoryCoefficient(context_.config.ovm().lambda_end(),
                                            context_.config.ovm().anneal_env_steps(), env_steps_);
    losses->q_loss = OvmLoss(losses->q_tot, losses->td_target, memory_target, lambda);
  } else {
    losses->q_loss = (losses->q_tot - losses->td_target).pow(2).mean();
  }
}

at::Tensor Omiga::PolicyLossPart(const TrainingBatch& batch, const UpdateInputs& in,
                                 const at::Tensor& weights, int64_t begin, int64_t end) {
  const at::Tensor log_prob =
      policy_->LogProb(in.obs.slice(0, begin, end), batch.actions.slice(0, begin, end));
  return -(weights.slice(0, begin, end) * log_prob).sum() / static_cast<double>(weights.numel());
}

OmigaLosses Omiga::ComputeLosses(const TrainingBatch& batch) {
  const UpdateInputs in = Inputs(batch);
  OmigaLosses losses;
  ComputeQHalf(batch, in, &losses);
  ComputeVHalf(batch, in, &losses);
  losses.policy_loss = PolicyLossPart(batch, in, at::exp(losses.z).detach(), 0, batch.obs.size(0));
  return losses;
}

absl::StatusOr<OmigaLosses> Omiga::BackwardInTwoStreams(const TrainingBatch& batch) {
  const UpdateInputs in = Inputs(batch);  // fills the id cache before the streams read it
  OmigaLosses losses;
  at::Tensor weights;
  // Each stream runs with the process's intra-op thread count and reports a LibTorch exception as
  // an error instead of letting it escape the thread.
  auto guarded = [](int stream, const std::function<void()>& work) -> absl::Status {
    at::init_num_threads();
    try {
      work();
    } catch (const std::exception& e) {
      return absl::InternalError(absl::StrCat("omiga update, stream ", stream, ": ", e.what()));
    }
    return absl::OkStatus();
  };
  // The V half and the Q half: disjoint parameters and disjoint graphs (cross terms detached), so
  // each stream runs its own backward.
  RETURN_IF_ERROR(streams_->ForEach(2, [&](int stream) {
    return guarded(stream, [&] {
      if (stream == 0) {
        ComputeVHalf(batch, in, &losses);
        weights = at::exp(losses.z).detach();
        losses.v_loss.backward();
      } else {
        ComputeQHalf(batch, in, &losses);
        losses.q_loss.backward();
      }
    });
  }));
  // The policy half, its rows split between the streams. Each part is divided by the whole element
  // count, so the two gradients (accumulated under autograd's per-parameter lock) sum to the
  // gradient of the mean.
  const int64_t rows = batch.obs.size(0), half = rows / 2;
  at::Tensor part[2];
  RETURN_IF_ERROR(streams_->ForEach(2, [&](int stream) {
    return guarded(stream, [&] {
      part[stream] = stream == 0 ? PolicyLossPart(batch, in, weights, 0, half)
                                 : PolicyLossPart(batch, in, weights, half, rows);
      part[stream].backward();
    });
  }));
  losses.policy_loss = part[0].detach() + part[1].detach();
  return losses;
}

absl::StatusOr<UpdateStats> Omiga::Update(const TrainingBatch& batch) {
  if (online_ && online_update_ == OnlineUpdate::kAwac) return AwacUpdate(batch);
  if (online_ && online_update_ == OnlineUpdate::kProto) return ProtoUpdate(batch);
  if (online_ && online_update_ == OnlineUpdate::kRlpd) return RlpdUpdate(batch);
  policy_optimizer_->ZeroGrad();
  q_optimizer_->ZeroGrad();
  v_optimizer_->ZeroGrad();
  OmigaLosses losses;
  if (streams_ != nullptr) {
    ASSIGN_OR_RETURN(losses, BackwardInTwoStreams(batch));
  } else {
    losses = ComputeLosses(batch);
    // The three losses touch disjoint parameters (every cross term is detached), so one backward
    // pass over their sum gives each group exactly its own loss's gradient.
    (losses.policy_loss + losses.q_loss + losses.v_loss).backward();
  }
  RETURN_IF_ERROR(
      ReduceGradients({policy_optimizer_.get(), q_optimizer_.get(), v_optimizer_.get()}));
  // Gradient norms before clipping (the optimizers compute them for the clip anyway).
  const double policy_grad_norm = policy_optimizer_->Step();
  const double q_grad_norm = q_optimizer_->Step();
  const double v_grad_norm = v_optimizer_->Step();
  PolyakUpdate(target_parameters_, online_parameters_, context_.config.target_update_rate());
  // RLPD-MA's critics learn offline beside OMIGA, from OMIGA's own TD target.
  if (online_update_ == OnlineUpdate::kRlpd) {
    RETURN_IF_ERROR(StepEnsemble(batch, losses.td_target).status());
  }
  ++updates_;
  const at::Tensor stats =
      at::stack({losses.q_loss.detach(), losses.v_loss.detach(), losses.policy_loss.detach(),
                 losses.q_tot.detach().mean(), losses.z.detach().mean(), losses.v.detach().mean(),
                 losses.w.detach().mean(), losses.b.detach().mean()})
          .to(at::kCPU);
  const float* values = stats.data_ptr<float>();
  return UpdateStats{{"q_loss", values[0]},
                     {"v_loss", values[1]},
                     {"policy_loss", values[2]},
                     {"q_tot_mean", values[3]},
                     {"z_mean", values[4]},
                     {"v_mean", values[5]},
                     {"mixer_w_mean", values[6]},
                     {"mixer_b_mean", values[7]},
                     {"policy_grad_norm", policy_grad_norm},
                     {"q_grad_norm", q_grad_norm},
                     {"v_grad_norm", v_grad_norm}};
}

TANDEM_REGISTER(AlgorithmRegistry, "omiga", FactoryOf<Omiga>());

}  // namespace tandem::learner
