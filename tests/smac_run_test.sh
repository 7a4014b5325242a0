#!/usr/bin/env bash
# `tandem run` with QMIX on the SMAC-like smac/3m map, end to end with a tiny budget: recurrent
# agents stream whole episodes to episode tables, the QMIX learner trains and publishes, the
# evaluator reports the test win rate. Checks the run directory (eval.csv with win rates,
# metrics.csv with the TD loss, summary and result.json with the win rate, learning curve data,
# checkpoint) and that the processes export the combat-map metrics the Grafana dashboard shows
# (cluster_test.sh checks the rest of the dashboard on MA-MuJoCo). Then OVMSE from the episodes
# that run's actor recorded: QMIX + CFCQL pretrained offline, fine-tuned online with OVM and
# sequential exploration; checks both phases, both checkpoints and the CQL / OVM / probe columns,
# and that Switch-CQL (the same offline phase) reuses OVMSE's offline checkpoint.
# Env: TANDEM (binary), TANDEM_SOURCE_DIR.
set -uo pipefail
tmp=$(mktemp -d)
run_pid=""
cleanup() {
  [[ -n "$run_pid" ]] && kill -TERM "$run_pid" 2>/dev/null && wait "$run_pid" 2>/dev/null
  rm -rf "$tmp"
}
trap cleanup EXIT
source "$TANDEM_SOURCE_DIR/tests/lib.sh"

"$TANDEM" run --config "$TANDEM_SOURCE_DIR/configs/smac_3m_qmix.textproto" --run_dir "$tmp/run" \
  --set learner.online_env_steps=20000 --set learner.batch_size=16 --set replay.error_buffer=100 \
  --set replay.min_size_to_sample=24 --set replay.samples_per_insert=4 \
  --set learner.publish_every_updates=2 --set evaluation.episodes=4 \
  --set evaluation.every_versions=2 --set evaluation.every_env_steps=0 \
  --set run.progress_interval_seconds=1 \
  --set actors.record_dir="$tmp/recorded" --set actors.record_segment_transitions=2000 \
  >"$tmp/run.out" 2>&1 &
run_pid=$!

# While the online phase runs: every combat-map metric is exported by some process.
want="tandem_actor_win_rate tandem_actor_epsilon tandem_actor_episode_length tandem_eval_win_rate"
missing=$want
for _ in $(seq 1 300); do
  kill -0 "$run_pid" 2>/dev/null || break
  : >"$tmp/exported"
  if [[ -f "$tmp/run/processes.txt" ]]; then
    while read -r name role pid ports; do
      http_get "http://127.0.0.1:${ports##* }/metrics" 2>/dev/null |
        grep -o '^tandem_[a-z_]*' >>"$tmp/exported"
    done <"$tmp/run/processes.txt"
  fi
  missing=""
  for name in $want; do grep -qx "$name" "$tmp/exported" || missing="$missing $name"; done
  [[ -z "$missing" ]] && break
  sleep 0.2
done
[[ -z "$missing" ]] || fail "metrics never exported during the run:$missing"

wait "$run_pid"
status=$?
run_pid=""
[[ $status -eq 0 ]] || fail "tandem run exited $status: $(tail -20 "$tmp/run.out")"
run="$tmp/run"
grep -q "train win rate" "$tmp/run.out" || fail "the progress line shows no train win rate"
grep -q "td_loss" "$tmp/run.out" || fail "the progress line shows no td_loss"
head -1 "$run/eval.csv" | grep -q ",win_rate$" || fail "eval.csv has no win_rate column"
awk -F, 'NR > 1 && $4 == "online" && $11 != "" { found = 1 } END { exit !found }' "$run/eval.csv" ||
  fail "eval.csv has no online evaluation with a win rate: $(cat "$run/eval.csv")"
awk -F, 'NR == 1 { for (i = 1; i <= NF; i++) if ($i == "td_loss") c = i }
         NR > 1 && c && $c != "" { found = 1 } END { exit !found }' "$run/metrics.csv" ||
  fail "metrics.csv never recorded the TD loss"
grep -q "win rate" "$run/summary.txt" || fail "summary.txt has no win rate column"
grep -q '"win_rate"' "$run/result.json" || fail "result.json has no win rate"
[[ -s "$run/learning_curve.dat" ]] || fail "no learning_curve.dat"
[[ -f "$run/checkpoints/online.pt" ]] || fail "no online checkpoint: $(ls "$run/checkpoints")"

# OVMSE (configs/ovmse/3m/ovmse.textproto) on the first recorded segment, a tiny budget.
dataset=$(ls "$tmp"/recorded/*.h5 2>/dev/null | head -1)
if [[ -z "$dataset" ]]; then
  fail "the QMIX run's actor recorded no episodes: $(ls "$tmp/recorded" 2>&1)"
else
  shrink=(--set dataset.path="$dataset" --set learner.offline_updates=100 --set learner.batch_size=16
    --set learner.checkpoint_every_updates=10 --set replay.error_buffer=100
    --set replay.min_size_to_sample=24 --set replay.samples_per_insert=4
    --set learner.publish_every_updates=2 --set evaluation.episodes=4
    --set evaluation.every_versions=2 --set evaluation.every_env_steps=0
    --set run.progress_interval_seconds=1
    --set run.pretrain_cache_dir="$tmp/pretrain-cache")
  "$TANDEM" run --config "$TANDEM_SOURCE_DIR/configs/ovmse/3m/ovmse.textproto" --run_dir "$tmp/ovmse" \
    "${shrink[@]}" --set learner.online_env_steps=30000 \
    --set algorithm.ovm.anneal_env_steps=4000 \
    --set metrics.csv_interval_seconds=0.2 --set learner.probe_every_updates=2 \
    >"$tmp/ovmse.out" 2>&1 || fail "OVMSE run failed: $(tail -20 "$tmp/ovmse.out")"
  grep -q "^\[pretrain\] stored as" "$tmp/ovmse.out" ||
    fail "OVMSE: the pretrained checkpoint was not stored for sharing: $(grep pretrain "$tmp/ovmse.out")"
  # Switch-CQL pretrains the same CFCQL (only its online phase differs): it starts from OVMSE's
  # offline checkpoint instead of training its own.
  "$TANDEM" run --config "$TANDEM_SOURCE_DIR/configs/ovmse/3m/switch_cql.textproto" \
    --run_dir "$tmp/switch" "${shrink[@]}" --set learner.online_env_steps=3000 \
    >"$tmp/switch.out" 2>&1 || fail "Switch-CQL run failed: $(tail -20 "$tmp/switch.out")"
  grep -q "^\[pretrain\] reused" "$tmp/switch.out" ||
    fail "Switch-CQL pretrained again instead of reusing OVMSE's checkpoint: $(grep pretrain "$tmp/switch.out")"
  cmp -s "$tmp/ovmse/checkpoints/offline.pt" "$tmp/switch/checkpoints/offline.pt" ||
    fail "Switch-CQL's offline checkpoint is not OVMSE's"
  grep -q "^\[online\] done" "$tmp/switch.out" || fail "Switch-CQL: no online phase"
  ovmse="$tmp/ovmse"
  # `tandem pretrain` trains the same offline phase alone on the episode dataset.
  "$TANDEM" pretrain --config "$TANDEM_SOURCE_DIR/configs/ovmse/3m/ovmse.textproto" \
    --set dataset.path="$dataset" --set learner.offline_updates=10 --set learner.batch_size=16 \
    --set evaluation.episodes=2 --checkpoint "$tmp/pretrained.pt" >"$tmp/pretrain.out" 2>&1 ||
    fail "tandem pretrain on an episode dataset failed: $(tail -5 "$tmp/pretrain.out")"
  [[ -f "$tmp/pretrained.pt" ]] || fail "tandem pretrain wrote no checkpoint"
  grep -q "win rate" "$tmp/pretrain.out" || fail "tandem pretrain's evaluation shows no win rate"
  grep -q "^\[pretrain\] done" "$tmp/ovmse.out" || fail "OVMSE: no pretrain phase"
  grep -q "^\[online\] done" "$tmp/ovmse.out" || fail "OVMSE: no online phase"
  for checkpoint in offline.pt online.pt; do
    [[ -f "$ovmse/checkpoints/$checkpoint" ]] || fail "OVMSE: no $checkpoint"
  done
  column() {  # prints whether metrics.csv holds a value in column $1 in a row of phase $2
    awk -F, -v name="$1" -v phase="$2" 'NR == 1 { for (i = 1; i <= NF; i++) if ($i == name) c = i }
      NR > 1 && c && $2 == phase && $c != "" { found = 1 } END { exit !found }' "$ovmse/metrics.csv"
  }
  column cql_loss pretrain || fail "OVMSE: metrics.csv has no CQL term while pretraining"
  column ovm_lambda online || fail "OVMSE: metrics.csv has no lambda_memory online"
  column ovm_memory_share online || fail "OVMSE: metrics.csv has no memory share online"
  grep -q "lambda_memory" "$tmp/ovmse.out" || fail "OVMSE: the progress line shows no lambda_memory"
  # The unlearning probe: Q_tot of a fixed offline batch and the share of greedy actions kept.
  column probe_q_tot online || fail "OVMSE: metrics.csv has no probe Q_tot online"
  awk -F, 'NR == 1 { for (i = 1; i <= NF; i++) if ($i == "probe_greedy_agreement") c = i }
    NR > 1 && c && $c != "" { seen = 1; if ($c < 0 || $c > 1) bad = 1 } END { exit !(seen && !bad) }' \
    "$ovmse/metrics.csv" || fail "OVMSE: probe_greedy_agreement missing or outside [0, 1]"
  grep -q "offline (before)" "$ovmse/summary.txt" || fail "OVMSE: summary has no offline policy row"
  awk -F, 'NR > 1 && $11 != "" { found = 1 } END { exit !found }' "$ovmse/eval.csv" ||
    fail "OVMSE: eval.csv has no win rate"
fi

if [[ $failed -gt 0 ]]; then
  echo "smac_run_test: $failed failure(s); run output:"
  tail -30 "$tmp/run.out"
  [[ -f "$tmp/ovmse.out" ]] && tail -30 "$tmp/ovmse.out"
  exit 1
fi
echo "smac_run_test: ok"
