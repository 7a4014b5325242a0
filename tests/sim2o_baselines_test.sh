#!/usr/bin/env bash
# Three of Sim2O's baselines (AWAC-MA, PROTO-MA, RLPD-MA) × one task × two seeds through
# `tandem sweep`, from the shipped recipe configs (configs/sim2o/halfcheetah_6x1/) shrunk by --set:
# every run goes through real replay, learner, actor and evaluator processes (offline OMIGA, then
# the baseline's online update), and `tandem results` prints one row per method over both seeds.
# Env: TANDEM (binary), TANDEM_SOURCE_DIR.
set -uo pipefail
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
source "$TANDEM_SOURCE_DIR/tests/lib.sh"
recipes="$TANDEM_SOURCE_DIR/configs/sim2o/halfcheetah_6x1"

tiny=(--set "dataset.path=$tmp/random.h5" --set run.collect_random_steps=2000
      --set run.final_evaluation_episodes=2 --set run.progress_interval_seconds=2
      --set algorithm.hidden_size=32 --set algorithm.mixer_hidden_size=16
      --set learner.offline_updates=100 --set learner.batch_size=64
      --set learner.online_env_steps=3000 --set learner.publish_every_updates=20
      --set learner.checkpoint_every_updates=200 --set replay.min_size_to_sample=500
      --set replay.samples_per_insert=16 --set replay.error_buffer=5000
      --set actors.envs_per_actor=4 --set evaluation.episodes=1 --set evaluation.every_versions=20)

if ! "$TANDEM" sweep "$recipes/awac_ma.textproto" "$recipes/proto_ma.textproto" \
     "$recipes/rlpd_ma.textproto" --seeds 2 \
     --out "$tmp/sweep" "${tiny[@]}" >"$tmp/sweep.out" 2>&1; then
  fail "the sweep failed: $(tail -n 40 "$tmp/sweep.out")"
  exit 1
fi

for method in awac-ma proto-ma rlpd-ma; do
  for seed in 1 2; do
    dir=$(ls -d "$tmp/sweep/hc6x1-$method"/seed-$seed 2>/dev/null | head -n1)
    [[ -n "$dir" && -f "$dir/result.csv" ]] ||
      { fail "hc6x1-$method seed $seed left no result.csv: $(ls -R "$tmp/sweep" | head -n 40)"; continue; }
    # The online learner ran the baseline's own update.
    update=${method%-ma}
    grep -qs "online phase, omiga (online update $update)" "$dir"/logs/learner*.log ||
      fail "hc6x1-$method seed $seed: the online learner did not run the $update update"
  done
done

"$TANDEM" results "$tmp/sweep" >"$tmp/results.out" 2>&1 ||
  fail "tandem results failed: $(cat "$tmp/results.out")"
for method in awac-ma proto-ma rlpd-ma; do
  grep -Eq "hc6x1-$method .* 2 " "$tmp/results.out" ||
    fail "no row with 2 runs for hc6x1-$method: $(cat "$tmp/results.out")"
done

# Sim2O's Table I layout: the task and dataset as the row, one column per method (2 runs each).
grep -Eq "task / dataset +AWAC-MA +PROTO-MA +RLPD-MA" "$tmp/results.out" ||
  fail "no table with AWAC-MA, PROTO-MA and RLPD-MA columns: $(cat "$tmp/results.out")"
grep -Eq "^mamujoco/HalfCheetah-6x1 random .*\(2\) .*\(2\) .*\(2\)" "$tmp/results.out" ||
  fail "no HalfCheetah-6x1 random row with both methods: $(cat "$tmp/results.out")"

[[ $failed -eq 0 ]] && echo "PASS sim2o baselines sweep" || exit 1
