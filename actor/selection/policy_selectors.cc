// Selectors that execute one policy's proposal as it is, for continuous and discrete actions:
//   online   the online policy's exploratory action (a tanh-Gaussian sample; a Q agent's greedy
//            available action, since Q agents explore through epsilon selectors)
//   offline  the frozen offline policy's deterministic action
//   greedy   the online policy's deterministic action (tanh(mean), or argmax over available Q)
#include "actor/selection/selector.h"

namespace tandem::actor {
namespace {

enum class Source { kOnlineSample, kOffline, kOnlineGreedy };

class ProposalSelector : public ActionSelector {
 public:
  explicit ProposalSelector(Source source) : source_(source) {
    needs_.continuous = true;
    needs_.discrete = true;
    switch (source) {
      case Source::kOnlineSample:
        needs_.request.online = policies::ProposalMode::kSample;
        break;
      case Source::kOffline:
        needs_.request.offline = policies::ProposalMode::kDeterministic;
        break;
      case Source::kOnlineGreedy:
        needs_.request.online = policies::ProposalMode::kDeterministic;
        break;
    }
  }

  const SelectorNeeds& needs() const override { return needs_; }

  absl::Status Select(const policies::Proposals& proposals, const SelectionInput& input, Rng&,
                      SelectionOutput out) override {
    const bool offline = source_ == Source::kOffline;
    CopyProposal(offline ? proposals.offline : proposals.online, out);
    const Hybrid all = input.num_agents >= 64 ? ~Hybrid{0} : (Hybrid{1} << input.num_agents) - 1;
    for (Hybrid& hybrid : out.hybrids) hybrid = offline ? all : 0;
    return absl::OkStatus();
  }

 private:
  SelectorNeeds needs_;
  const Source source_;
};

SelectorEntry Make(Source source) {
  return SelectorEntry{[source](const SelectorConfig&) {
    return std::unique_ptr<ActionSelector>(new ProposalSelector(source));
  }};
}

}  // namespace

TANDEM_REGISTER(SelectorRegistry, "online", Make(Source::kOnlineSample));
TANDEM_REGISTER(SelectorRegistry, "offline", Make(Source::kOffline));
TANDEM_REGISTER(SelectorRegistry, "greedy", Make(Source::kOnlineGreedy));

}  // namespace tandem::actor
