#include "cli/method_label.h"

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace tandem {
namespace {

Sim2OMethod BaseMethodOf(const ExperimentConfig& config) {
  if (config.algorithm().name() != "omiga") return {};
  const std::string& selector = config.selector().name();
  const std::string& update = config.algorithm().omiga().online_update();
  if (selector == "online" && update == "awac") return {"AWAC-MA"};
  if (selector == "online" && update == "proto") return {"PROTO-MA"};
  if (selector == "online" && update == "rlpd") return {"RLPD-MA"};
  if (update != "omiga") return {};
  if (selector == "cbs") return {"Sim2O", true};
  if (selector == "cbs-random") return {"Random-Sim2O", true};
  if (selector == "cbs-greedy") return {"Greedy-Sim2O", true};
  if (selector == "exhaustive") return {"Exhaustive", true};
  if (selector == "pex") return {"PEX-MA"};
  if (selector == "online") return {"OMIGA-FT"};
  return {};
}

}  // namespace

Sim2OMethod Sim2OMethodOf(const ExperimentConfig& config) {
  Sim2OMethod method = BaseMethodOf(config);
  if (method.label.empty()) return method;
  const SelectorConfig& selector = config.selector();
  const bool beam = absl::StartsWith(selector.name(), "cbs");
  if (beam && selector.beam_width() != 5) {
    absl::StrAppend(&method.label, " K=", selector.beam_width());
  }
  // Only Sim2O's own pruning is a Boltzmann draw; Greedy- and Random-Sim2O ignore beta.
  if (selector.name() == "cbs" && selector.temperature() != 5.0) {
    absl::StrAppend(&method.label, " beta=", selector.temperature());
  }
  if (beam && selector.agent_order() == SelectorConfig::AGENT_ORDER_FORWARD) {
    absl::StrAppend(&method.label, " order=forward");
  }
  if (beam && selector.agent_order() == SelectorConfig::AGENT_ORDER_REVERSE) {
    absl::StrAppend(&method.label, " order=reverse");
  }
  if (config.replay().offline_ratio() != 0.5) {
    absl::StrAppend(&method.label, " rho=", config.replay().offline_ratio());
  }
  return method;
}

}  // namespace tandem
