#include "actor/rollout.h"

#include <vector>

#include "actor/episode_assembler.h"
#include "actor/episode_buffer.h"
#include "common/status_macros.h"

namespace tandem::actor {
namespace {

absl::Status RequireContinuous(const envs::EnvSpec& spec) {
  if (spec.action_type == ACTION_TYPE_CONTINUOUS) return absl::OkStatus();
  return absl::UnimplementedError(
      absl::StrCat("recording ", spec.name,
                   ": episode datasets of discrete-action envs come with the QMIX dataset "
                   "collection; only continuous-action envs are recorded yet"));
}

// Appends env e's transition of the loop's last step to `episode`.
void AddStep(StepLoop& loop, int e, EpisodeBuffer& episode) {
  const envs::EnvPool& pool = loop.pool();
  const envs::EnvSpec& spec = pool.spec();
  const int64_t n = spec.num_agents, o = spec.obs_size, s = spec.state_size;
  const int64_t a = spec.action_size;
  episode.Add(loop.prev_obs().data() + e * n * o, loop.prev_state().data() + e * s,
              loop.continuous_actions().data() + e * n * a, pool.reward()[e], pool.terminated()[e],
              pool.truncated()[e], pool.obs().data() + e * n * o, pool.state().data() + e * s);
}

}  // namespace

absl::StatusOr<int64_t> RecordRollouts(StepLoop& loop, int64_t env_steps, DatasetWriter& writer) {
  const envs::EnvSpec& spec = loop.spec();
  RETURN_IF_ERROR(RequireContinuous(spec));
  const int b = loop.pool().size();
  std::vector<EpisodeBuffer> episodes(b, EpisodeBuffer(spec));
  int64_t recorded = 0;
  while (recorded < env_steps) {
    RETURN_IF_ERROR(loop.Act(recorded));
    RETURN_IF_ERROR(loop.Step());
    for (int e = 0; e < b && recorded < env_steps; ++e, ++recorded) {
      AddStep(loop, e, episodes[e]);
      if (loop.pool().terminated()[e] || loop.pool().truncated()[e]) {
        RETURN_IF_ERROR(episodes[e].FlushTo(writer));
      }
    }
    RETURN_IF_ERROR(loop.ResetFinished());
  }
  // Episodes cut by the end of collection are marked truncated: not terminal, just stopped.
  for (EpisodeBuffer& e : episodes) {
    e.MarkTruncated();
    RETURN_IF_ERROR(e.FlushTo(writer));
  }
  return recorded;
}

absl::StatusOr<EvaluationResult> RecordEpisodes(const std::string& env_name,
                                                const envs::EnvOptions& options,
                                                policies::ActingPolicy& policy, int episodes,
                                                uint64_t seed, double action_noise,
                                                DatasetWriter& writer,
                                                const std::function<void(int, double)>& progress) {
  if (writer.spec().episode_steps() > 0) {
    return RecordDiscreteEpisodes(env_name, options, policy, episodes, seed, action_noise, writer,
                                  progress);
  }
  SelectorConfig selector;
  selector.set_name(action_noise > 0 ? "gaussian" : "greedy");
  selector.set_noise_std(action_noise);
  std::unique_ptr<EpisodeBuffer> episode;
  return RunEpisodes(
      env_name, options, &policy, selector, episodes, seed,
      [&](StepLoop& loop) -> absl::Status {
        if (episode == nullptr) {
          RETURN_IF_ERROR(RequireContinuous(loop.spec()));
          episode = std::make_unique<EpisodeBuffer>(loop.spec());
        }
        AddStep(loop, 0, *episode);
        return absl::OkStatus();
      },
      [&](int done, double episode_return) -> absl::Status {
        RETURN_IF_ERROR(episode->FlushTo(writer));
        if (progress) progress(done, episode_return);
        return absl::OkStatus();
      });
}

absl::StatusOr<EvaluationResult> RecordDiscreteEpisodes(
    const std::string& env_name, const envs::EnvOptions& options, policies::ActingPolicy& policy,
    int episodes, uint64_t seed, double epsilon, DatasetWriter& writer,
    const std::function<void(int, double)>& progress) {
  if (epsilon < 0 || epsilon > 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("recording ", env_name, ": epsilon must be in [0, 1], got ", epsilon));
  }
  SelectorConfig selector;
  selector.set_name(epsilon > 0 ? "epsilon" : "greedy");
  selector.set_epsilon_start(epsilon);
  selector.set_epsilon_end(epsilon);
  selector.set_epsilon_anneal_env_steps(1);
  ASSIGN_OR_RETURN(EpisodeAssembler assembler, EpisodeAssembler::Create(writer.spec(), 1));
  return RunEpisodes(
      env_name, options, &policy, selector, episodes, seed,
      [&](StepLoop& loop) -> absl::Status {
        const envs::EnvPool& pool = loop.pool();
        const envs::EnvSpec& spec = pool.spec();
        if (spec.episode_limit + 1 != writer.spec().episode_steps()) {
          return absl::InvalidArgumentError(
              absl::StrCat("recording ", env_name, ": the dataset holds episodes of ",
                           writer.spec().episode_steps(),
                           " entries but the env's episode limit is ", spec.episode_limit));
        }
        assembler.Add(
            0,
            EpisodeStep{loop.prev_obs().data(), loop.prev_state().data(), loop.prev_avail().data(),
                        loop.discrete_actions().data(), pool.reward()[0], pool.terminated()[0] != 0,
                        pool.truncated()[0] != 0, pool.obs().data(), pool.state().data(),
                        pool.avail_actions().data(), pool.won()[0] != 0});
        return absl::OkStatus();
      },
      [&](int done, double episode_return) -> absl::Status {
        std::vector<uint8_t> won;
        TransitionBatch episode = assembler.TakeFinished(&won);
        RETURN_IF_ERROR(writer.Append(episode, &won));
        if (progress) progress(done, episode_return);
        return absl::OkStatus();
      });
}

}  // namespace tandem::actor
