#!/usr/bin/env bash
# `tandem run` end to end on loopback, the way a user runs it, checked with the real tools:
#   - a tiny experiment runs through collect -> pretrain -> online -> evaluate and leaves the
#     documented run directory;
#   - every child's /metrics passes `promtool check metrics`;
#   - a real Prometheus server discovers the children through the run's file_sd targets and a
#     query for the env-step rate returns a positive value;
#   - every metric the Grafana dashboard queries is exported by some process;
#   - SIGKILL of an actor mid-run is reported and the actor restarted; the run still completes.
# Env: TANDEM (binary), TANDEM_SOURCE_DIR.
set -uo pipefail
tmp=$(mktemp -d)
run_pid=""
prom_pid=""
cleanup() {
  [[ -n "$prom_pid" ]] && kill "$prom_pid" 2>/dev/null
  [[ -n "$run_pid" ]] && kill -TERM "$run_pid" 2>/dev/null && wait "$run_pid" 2>/dev/null
  rm -rf "$tmp"
}
trap cleanup EXIT
source "$TANDEM_SOURCE_DIR/tests/lib.sh"

# Free TCP port on loopback (for Prometheus).
free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}
# GET http://127.0.0.1:PORT/PATH to stdout.

cat >"$tmp/run.textproto" <<CONFIG
name: "cluster-test"
run_root: "$tmp/runs"
env { name: "mamujoco/HalfCheetah-6x1" options { key: "episode_limit" value: "100" } }
dataset { path: "$tmp/data/random.h5" }
run { collect_random_steps: 3000 progress_interval_seconds: 2 max_restarts: 2 }
algorithm { hidden_size: 32 mixer_hidden_size: 16 }
learner { offline_updates: 300 batch_size: 64 online_env_steps: 20000 publish_every_updates: 25
          checkpoint_every_updates: 200 }
replay { min_size_to_sample: 500 samples_per_insert: 32 error_buffer: 5000 }
actors { num_actors: 2 envs_per_actor: 4 send_batch_transitions: 100 }
evaluation { episodes: 2 every_versions: 10 }
metrics { csv_interval_seconds: 1 }
CONFIG

"$TANDEM" run --config "$tmp/run.textproto" --run_dir "$tmp/run" >"$tmp/run.out" 2>&1 &
run_pid=$!

# Wait for the online phase: actors listed with their metrics ports.
for _ in $(seq 1 600); do
  grep -q "^actor-1 " "$tmp/run/processes.txt" 2>/dev/null && grep -q "^evaluator " \
    "$tmp/run/processes.txt" 2>/dev/null && break
  kill -0 "$run_pid" 2>/dev/null || break
  sleep 0.2
done
if ! grep -q "^actor-1 " "$tmp/run/processes.txt" 2>/dev/null; then
  fail "the online phase never started: $(cat "$tmp/run.out")"
  exit 1
fi

# promtool accepts each process's exposition; collect every exported metric name.
: >"$tmp/exported"
while read -r name role pid ports; do
  metrics_port=${ports##* }
  if ! http_get "http://127.0.0.1:$metrics_port/metrics" >"$tmp/$name.metrics"; then
    fail "$name serves no /metrics on $metrics_port"
    continue
  fi
  if ! promtool check metrics <"$tmp/$name.metrics" >"$tmp/promtool.out" 2>&1; then
    fail "promtool check metrics rejects $name: $(cat "$tmp/promtool.out")"
  fi
  grep -o '^tandem_[a-z_]*' "$tmp/$name.metrics" >>"$tmp/exported"
done <"$tmp/run/processes.txt"

# Kill an actor mid-run: the run must report it, restart it and complete (checked at the end).
actor_pid=$(child_pid "$tmp/run" actor-0)
kill -KILL "$actor_pid"

# A real Prometheus scrapes the run through its file_sd targets.
prom_port=$(free_port)
cat >"$tmp/prometheus.yml" <<PROM
global: { scrape_interval: 1s }
scrape_configs:
  - job_name: tandem
    file_sd_configs: [{ files: ["$tmp/run/prometheus_targets.json"], refresh_interval: 1s }]
PROM
prometheus --config.file="$tmp/prometheus.yml" --storage.tsdb.path="$tmp/tsdb" \
  --web.listen-address="127.0.0.1:$prom_port" >"$tmp/prometheus.log" 2>&1 &
prom_pid=$!
query='sum(rate(tandem_replay_inserted_transitions_total{table="online"}[10s]))'
rate=""
for _ in $(seq 1 60); do
  sleep 1
  rate=$(http_get "http://127.0.0.1:$prom_port/api/v1/query?query=$(python3 -c 'import sys,urllib.parse;print(urllib.parse.quote(sys.argv[1]))' "$query")" 2>/dev/null |
    python3 -c 'import json,sys; r=json.load(sys.stdin)["data"]["result"]; print(r[0]["value"][1] if r else "")' 2>/dev/null)
  [[ -n "$rate" ]] && python3 -c "import sys; sys.exit(0 if float('$rate') > 0 else 1)" && break
  rate=""
done
[[ -n "$rate" ]] || fail "Prometheus never saw a positive env-step rate: $(tail -5 "$tmp/prometheus.log")"
roles_up=$(http_get "http://127.0.0.1:$prom_port/api/v1/query?query=sum%20by%20(role)%20(up)" 2>/dev/null |
  python3 -c 'import json,sys; print(" ".join(sorted(r["metric"]["role"] for r in json.load(sys.stdin)["data"]["result"] if float(r["value"][1]) > 0)))')
[[ "$roles_up" == "actor evaluator learner replay" ]] ||
  fail "Prometheus sees roles up: '$roles_up', expected actor evaluator learner replay"
kill "$prom_pid"
wait "$prom_pid" 2>/dev/null
prom_pid=""

# Every metric the dashboard queries is exported (histograms by their _bucket series).
# Combat-map metrics (win rates, epsilon, episode length) are checked by smac_run_test.sh.
combat_only=" tandem_actor_win_rate tandem_actor_epsilon tandem_actor_episode_length tandem_eval_win_rate "
for name in $(grep -o 'tandem_[a-z_]*' "$TANDEM_SOURCE_DIR/deploy/grafana/dashboards/tandem.json" | sort -u); do
  [[ $combat_only == *" $name "* ]] && continue
  grep -qx "$name" "$tmp/exported" || fail "the dashboard queries $name, which no process exports"
done

# The run must still complete after the killed actor (below) was restarted.
wait "$run_pid"
status=$?
run_pid=""
[[ $status -eq 0 ]] || fail "tandem run exited with $status after an actor was killed: $(tail -30 "$tmp/run.out")"
grep -q "actor-0 killed by signal 9" "$tmp/run.out" || fail "the actor's death was not reported"
grep -q "restarting actor-0" "$tmp/run.out" || fail "the killed actor was not restarted"
grep -q "process restarts 1" "$tmp/run/summary.txt" 2>/dev/null || fail "summary does not count the restart"

# The run directory holds what the README promises.
for file in config.textproto git_revision.txt metrics.csv eval.csv summary.txt result.json \
  learning_curve.png prometheus_targets.json checkpoints/offline.pt checkpoints/online.pt \
  logs/replay.log logs/learner.log logs/actor-0.log logs/actor-1.log logs/evaluator.log; do
  [[ -s "$tmp/run/$file" ]] || fail "run directory lacks $file"
done
grep -q "offline (before)" "$tmp/run/summary.txt" && grep -q "online (after)" "$tmp/run/summary.txt" ||
  fail "summary lacks the before/after table: $(cat "$tmp/run/summary.txt")"
# The revision the binary was built from: a 40-digit hash (and whether tracked files had local
# changes then), or "unknown" outside a git checkout.
grep -qxE '[0-9a-f]{40}( \(with uncommitted changes\))?|unknown' "$tmp/run/git_revision.txt" ||
  fail "git_revision.txt is not a revision: $(cat "$tmp/run/git_revision.txt")"
[[ $(wc -l <"$tmp/run/metrics.csv") -ge 3 ]] || fail "metrics.csv has too few rows"
python3 -c 'import json,sys; json.load(open(sys.argv[1]))' "$tmp/run/result.json" || fail "result.json is not JSON"

# A finished run directory is not overwritten.
"$TANDEM" run --config "$tmp/run.textproto" --run_dir "$tmp/run" >"$tmp/again.out" 2>&1
[[ $? -eq 1 ]] && grep -q "already holds a finished run" "$tmp/again.out" ||
  fail "a second run into a finished run directory was not refused: $(cat "$tmp/again.out")"

# Ctrl-C (SIGINT to tandem run alone, as a terminal sends it) stops every child and still writes the
# summary, marked interrupted.
"$TANDEM" run --config "$tmp/run.textproto" --run_dir "$tmp/interrupted" >"$tmp/int.out" 2>&1 &
run_pid=$!
for _ in $(seq 1 600); do
  grep -q "^actor-1 " "$tmp/interrupted/processes.txt" 2>/dev/null && break
  sleep 0.2
done
children=$(awk '{ print $3 }' "$tmp/interrupted/processes.txt" 2>/dev/null)
kill -INT "$run_pid"
wait "$run_pid"
status=$?
run_pid=""
[[ $status -ne 0 ]] || fail "an interrupted run must not exit 0"
grep -q "interrupted" "$tmp/interrupted/summary.txt" 2>/dev/null ||
  fail "the interrupted run's summary does not say so: $(tail -5 "$tmp/int.out")"
[[ -n "$children" ]] || fail "no children were listed before the interrupt"
for pid in $children; do
  kill -0 "$pid" 2>/dev/null && fail "child $pid still runs after Ctrl-C"
done

# Training from scratch (no dataset, rho = 0): MASAC learns online with a random warm-up; the
# learner takes the transition shapes from the env because the replay server is still empty.
cat >"$tmp/scratch.textproto" <<CONFIG
name: "scratch"
env { name: "mamujoco/HalfCheetah-6x1" options { key: "episode_limit" value: "50" } }
algorithm { name: "masac" hidden_size: 32 mixer_hidden_size: 16 }
selector { name: "online" }
replay { offline_ratio: 0 min_size_to_sample: 300 samples_per_insert: 16 error_buffer: 2000 }
learner { batch_size: 32 online_env_steps: 2000 publish_every_updates: 20 checkpoint_every_updates: 500 }
actors { num_actors: 1 envs_per_actor: 4 random_warmup_steps: 300 send_batch_transitions: 32 }
evaluation { episodes: 1 every_versions: 10 }
CONFIG
"$TANDEM" run --config "$tmp/scratch.textproto" --run_dir "$tmp/scratch" >"$tmp/scratch.out" 2>&1 ||
  fail "a from-scratch run failed: $(tail -20 "$tmp/scratch.out")"
grep -q "online (trained from scratch)" "$tmp/scratch/summary.txt" 2>/dev/null ||
  fail "the from-scratch summary lacks its evaluation: $(tail -20 "$tmp/scratch.out")"

echo "cluster_test: $failed failures"
[[ $failed -eq 0 ]]
