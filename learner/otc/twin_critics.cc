#include "learner/otc/twin_critics.h"

#include <ATen/ATen.h>

#include "learner/module_util.h"
#include "learner/otc/agent_batch.h"

namespace tandem::learner::otc {

TwinCritics::TwinCritics(const networks::BcqShapes& shapes, c10::Device device,
                         double learning_rate) {
  for (int j = 0; j < 2; ++j) {
    q_[j] = networks::AgentMlp(networks::BcqCriticOptions(shapes));
    target_[j] = networks::AgentMlp(networks::BcqCriticOptions(shapes));
    CopyParameters(*q_[j], *target_[j]);
    q_[j]->to(device);
    target_[j]->to(device);
    Freeze(*target_[j]);
  }
  FusedAdamOptions adam;
  adam.max_grad_norm = 0;  // none of the four clips its critics
  adam.learning_rate = learning_rate;
  optimizer_ = std::make_unique<FusedAdam>(ParametersOf({q_[0].get(), q_[1].get()}), adam);
  target_parameters_ = ParametersOf({target_[0].get(), target_[1].get()});
  online_parameters_ = ParametersOf({q_[0].get(), q_[1].get()});
}

at::Tensor TwinCritics::Q(int j, const at::Tensor& input, const at::Tensor& actions) {
  return q_[j]->forward(at::cat({input, actions}, -1));
}

at::Tensor TwinCritics::TargetQ(int j, const at::Tensor& input, const at::Tensor& actions) {
  at::NoGradGuard no_grad;
  return target_[j]->forward(at::cat({input, actions}, -1));
}

at::Tensor TwinCritics::Min(const at::Tensor& input, const at::Tensor& actions) {
  const at::Tensor in = at::cat({input, actions}, -1);
  return at::min(q_[0]->forward(in), q_[1]->forward(in));
}

at::Tensor TwinCritics::MinTarget(const at::Tensor& input, const at::Tensor& actions) {
  at::NoGradGuard no_grad;
  const at::Tensor in = at::cat({input, actions}, -1);
  return at::min(target_[0]->forward(in), target_[1]->forward(in));
}

void TwinCritics::Step(const AlgorithmContext& context, const at::Tensor& loss) {
  OptimizerStep(context, *optimizer_, loss);
}

void TwinCritics::UpdateTargets(double tau) {
  PolyakUpdate(target_parameters_, online_parameters_, tau);
}

std::vector<std::pair<std::string, torch::nn::Module*>> TwinCritics::Modules() {
  return {{"q1", q_[0].get()},
          {"q2", q_[1].get()},
          {"q1_target", target_[0].get()},
          {"q2_target", target_[1].get()}};
}

}  // namespace tandem::learner::otc
