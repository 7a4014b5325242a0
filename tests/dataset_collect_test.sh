#!/usr/bin/env bash
# `tandem dataset collect` on a tiny budget, run by `tandem run` (run.collect_config) because its
# dataset is missing: trains MASAC from scratch through real processes, keeps checkpoints, writes
# four valid tier files whose returns order expert >= medium, and the run pretrains and fine-tunes
# on the medium tier; then QMIX on smac/3m, whose tiers hold whole padded episodes ranked by win
# rate.
set -euo pipefail
: "${TANDEM:?}" "${TANDEM_SOURCE_DIR:?repo root}"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

cat >"$tmp/tiny.textproto" <<'CONFIG'
name: "tiny-collect"
seed: 3
env { name: "mamujoco/HalfCheetah-6x1" options { key: "obs_mode" value: "omiga" } episode_limit: 50 }
algorithm { name: "masac" learning_rate: 3e-4 }
selector { name: "online" }
replay { offline_ratio: 0 min_size_to_sample: 500 samples_per_insert: 64 }
learner { batch_size: 64 online_env_steps: 3000 publish_every_updates: 50 checkpoint_every_updates: 400 }
actors { num_actors: 1 envs_per_actor: 4 random_warmup_steps: 500 record_segment_transitions: 400 }
evaluation { episodes: 2 every_versions: 4 }
run { progress_interval_seconds: 10 }
# Recorded episodes replay the evaluation's seeds without noise, so the tiers' returns equal the
# evaluations that ranked the checkpoints.
collection { episodes: 3 evaluation_episodes: 3 action_noise: 0 }
CONFIG

# `tandem run` collects into dataset.path's folder first, then scores its policies against the
# references the tiers carry.
data="$tmp/data"
cat >"$tmp/scored.textproto" <<CONFIG
name: "scored"
env { name: "mamujoco/HalfCheetah-6x1" options { key: "obs_mode" value: "omiga" } episode_limit: 50 }
dataset { path: "$data/HalfCheetah-6x1-medium.h5" }
algorithm { hidden_size: 32 mixer_hidden_size: 16 }
learner { offline_updates: 50 batch_size: 32 online_env_steps: 600 publish_every_updates: 20
          checkpoint_every_updates: 100 }
replay { min_size_to_sample: 100 samples_per_insert: 16 error_buffer: 2000 }
actors { num_actors: 1 envs_per_actor: 2 }
evaluation { episodes: 1 every_versions: 10 }
run { final_evaluation_episodes: 2 progress_interval_seconds: 5
      collect_config: "$tmp/tiny.textproto" }
CONFIG
"$TANDEM" run --config "$tmp/scored.textproto" --run_dir "$tmp/scored" >"$tmp/scored.txt" 2>&1 ||
  { tail -n 30 "$tmp/scored.txt" "$tmp/scored/logs/collect.log"; echo "FAIL: run with collect"; exit 1; }
cp "$tmp/scored/logs/collect.log" "$tmp/out.txt"

failed=0
grep -q "^\[collect\] training a behaviour policy" "$tmp/scored.txt" ||
  { echo "FAIL: tandem run did not say it collects"; failed=1; }
mean_of() {  # the return mean of a tier from `tandem dataset info`
  "$TANDEM" dataset info "$data/HalfCheetah-6x1-$1.h5" |
    sed -n 's/^  return         mean \([-0-9.]*\) .*/\1/p'
}
for tier in expert medium medium-replay medium-expert; do
  file="$data/HalfCheetah-6x1-$tier.h5"
  if ! "$TANDEM" dataset info "$file" >"$tmp/info.txt"; then
    echo "FAIL: $tier tier is not a valid dataset"; failed=1; continue
  fi
  grep -q "quality        $tier" "$tmp/info.txt" || { echo "FAIL: $tier quality attribute"; failed=1; }
  episodes=$(sed -n 's/^  episodes       \([0-9]*\) .*/\1/p' "$tmp/info.txt")
  [[ "$episodes" -ge 3 ]] || { echo "FAIL: $tier has $episodes episodes"; failed=1; }
done
expert=$(mean_of expert)
medium=$(mean_of medium)
awk -v e="$expert" -v m="$medium" 'BEGIN { exit !(e >= m) }' ||
  { echo "FAIL: expert return $expert < medium return $medium"; failed=1; }
# medium-expert holds both tiers' episodes.
[[ $("$TANDEM" dataset info "$data/HalfCheetah-6x1-medium-expert.h5" |
  sed -n 's/^  episodes       \([0-9]*\) .*/\1/p') -eq 6 ]] || { echo "FAIL: medium-expert != 6 episodes"; failed=1; }
# Every tier carries the references of normalized scores; the expert tier replays the expert's
# evaluation seeds without noise, so its score is 100.
for tier in expert medium; do
  grep -q "^  references     random " <("$TANDEM" dataset info "$data/HalfCheetah-6x1-$tier.h5") ||
    { echo "FAIL: $tier tier has no reference returns"; failed=1; }
done
expert_score=$("$TANDEM" dataset info "$data/HalfCheetah-6x1-expert.h5" |
  sed -n 's/^  score          \([-0-9.]*\) .*/\1/p')
[[ "$expert_score" == "100.0" ]] || { echo "FAIL: expert tier score '$expert_score', want 100.0"; failed=1; }
# The run scored its policies against those references.
grep -q "normalized scores against the dataset's reference returns" "$tmp/scored.txt" ||
  { echo "FAIL: the run did not take the dataset's references"; failed=1; }
grep -q "normalized" "$tmp/scored/summary.txt" || { echo "FAIL: no normalized column in the summary"; failed=1; }
awk -F, 'NR == 1 { for (i = 1; i <= NF; ++i) col[$i] = i } NR == 2 { exit ($col["online_score"] == "") }' \
  "$tmp/scored/result.csv" || { echo "FAIL: result.csv has no online_score"; failed=1; }
# Every checkpoint was kept and evaluated.
[[ $(grep -c '^\[collect\] checkpoint online' "$tmp/out.txt") -ge 3 ]] ||
  { echo "FAIL: fewer than 3 checkpoints evaluated"; failed=1; }
# A second collection into the same directory is refused rather than overwriting.
if "$TANDEM" dataset collect --config "$tmp/tiny.textproto" --run_dir "$tmp/again" \
     --set collection.out_dir="$data" >"$tmp/again.txt" 2>&1 ||
  ! grep -q "exists; choose another collection.out_dir" "$tmp/again.txt"; then
  echo "FAIL: collecting over existing tiers was not refused"; failed=1
fi

# A combat map: QMIX on episode tables, tiers of whole padded episodes, policies ranked by win rate.
"$TANDEM" dataset collect --config "$TANDEM_SOURCE_DIR/configs/collect_smac_3m.textproto" \
  --run_dir "$tmp/smac" --set learner.online_env_steps=20000 \
  --set learner.checkpoint_every_updates=20 --set learner.batch_size=32 \
  --set replay.samples_per_insert=4 --set replay.min_size_to_sample=40 \
  --set replay.error_buffer=100 --set collection.episodes=10 \
  --set collection.evaluation_episodes=8 --set evaluation.every_versions=5 \
  --set evaluation.episodes=4 --set actors.record_segment_transitions=2000 \
  >"$tmp/smac.txt" 2>&1 || { cat "$tmp/smac.txt"; echo "FAIL: smac collect exited non-zero"; failed=1; }
win_rate_of() {  # the win rate of the policy that recorded a tier, from its behaviour line
  "$TANDEM" dataset info "$tmp/smac/datasets/3m-$1.h5" | sed -n 's/.*win rate \([0-9.]*\)).*/\1/p'
}
for tier in expert medium medium-replay medium-expert; do
  file="$tmp/smac/datasets/3m-$tier.h5"
  if ! "$TANDEM" dataset info "$file" >"$tmp/info.txt"; then
    echo "FAIL: smac $tier tier is not a valid dataset"; failed=1; continue
  fi
  grep -q "episodes of 61 entries" "$tmp/info.txt" ||
    { echo "FAIL: smac $tier does not hold padded episodes: $(cat "$tmp/info.txt")"; failed=1; }
done
expert_wins=$(win_rate_of expert)
medium_wins=$(win_rate_of medium)
awk -v e="$expert_wins" -v m="$medium_wins" 'BEGIN { exit !(e != "" && m != "" && e >= m) }' ||
  { echo "FAIL: smac expert win rate '$expert_wins' < medium '$medium_wins'"; failed=1; }

[[ $failed -eq 0 ]] && echo "dataset collect: four tiers, expert $expert >= medium $medium;" \
  "smac/3m: four episode tiers, expert win rate $expert_wins >= medium $medium_wins"
exit $failed
