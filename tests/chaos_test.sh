#!/usr/bin/env bash
# Any process may die: one `tandem run` in which the replay server, the learner and an actor are
# each killed with SIGKILL during the online phase. The run must complete; its summary counts the
# restarts per role; the restarted replay server recovers at least every transition the table held
# before the kill (acknowledged inserts are in its write-ahead log); the restarted learner resumes
# from its checkpoint and the actors get its weights again.
# Env: TANDEM (binary), TANDEM_SOURCE_DIR.
set -uo pipefail
source "$TANDEM_SOURCE_DIR/tests/lib.sh"
tmp=$(mktemp -d)
run_pid=""
cleanup() {
  [[ -n "$run_pid" ]] && kill -TERM "$run_pid" 2>/dev/null && wait "$run_pid" 2>/dev/null
  rm -rf "$tmp"
}
trap cleanup EXIT

cat >"$tmp/run.textproto" <<CONFIG
name: "chaos"
env { name: "mamujoco/HalfCheetah-6x1" options { key: "episode_limit" value: "100" } }
dataset { path: "$tmp/data/random.h5" }
run { collect_random_steps: 2000 progress_interval_seconds: 1 max_restarts: 2 }
algorithm { hidden_size: 32 mixer_hidden_size: 16 }
learner { offline_updates: 100 batch_size: 64 online_env_steps: 40000 publish_every_updates: 10
          checkpoint_every_seconds: 1 }
replay { min_size_to_sample: 300 samples_per_insert: 8 error_buffer: 4000 fsync_policy: FSYNC_NEVER }
actors { num_actors: 2 envs_per_actor: 2 send_batch_transitions: 100 }
evaluation { episodes: 1 every_versions: 20 }
CONFIG
"$TANDEM" run --config "$tmp/run.textproto" --run_dir "$tmp/run" >"$tmp/run.out" 2>&1 &
run_pid=$!

pid_of() { child_pid "$tmp/run" "$1"; }
# metric PORT NAME: the value of an unlabelled or first-labelled sample of NAME on a /metrics port.
metric() { http_get "http://127.0.0.1:$1/metrics" 2>/dev/null | awk -v n="$2" '$1 ~ "^"n { print $2; exit }'; }
# wait_restarted NAME OLD_PID: waits until NAME runs under another pid and serves again.
wait_restarted() {
  for _ in $(seq 1 300); do
    local pid
    pid=$(pid_of "$1")
    [[ -n $pid && $pid != "$2" ]] && return 0
    kill -0 "$run_pid" 2>/dev/null || return 1
    sleep 0.2
  done
  return 1
}

for _ in $(seq 1 600); do
  [[ -n $(pid_of actor-1) && -n $(pid_of evaluator) ]] && break
  kill -0 "$run_pid" 2>/dev/null || break
  sleep 0.2
done
[[ -n $(pid_of actor-1) ]] || { fail "the online phase never started: $(tail -20 "$tmp/run.out")"; exit 1; }
replay_metrics=$(awk '$1 == "replay" { print $5 }' "$tmp/run/processes.txt")

# 1. The replay server, once its online table holds data.
held=0
for _ in $(seq 1 300); do
  held=$(metric "$replay_metrics" 'tandem_replay_table_size\{table="online"\}')
  [[ ${held%.*} -ge 3000 ]] 2>/dev/null && break
  sleep 0.2
done
held=${held%.*}
[[ $held -ge 3000 ]] 2>/dev/null || fail "the online table never filled: $held"
old=$(pid_of replay)
kill -KILL "$old"
wait_restarted replay "$old" || fail "the replay server was not restarted: $(tail -20 "$tmp/run.out")"
recovered=$(grep -o 'recovered [0-9]* transitions of table online' "$tmp/run/logs/replay.log" | tail -1 |
  awk '{ print $2 }')
[[ -n $recovered && $recovered -ge $held ]] ||
  fail "the restarted replay server recovered ${recovered:-nothing}, fewer than the $held it held"

# The learner's sample stream reconnects to the restarted replay server (it does not die).
for _ in $(seq 1 300); do
  grep -q "replay server reachable again" "$tmp/run/logs/learner.log" && break
  sleep 0.2
done
grep -q "replay server reachable again" "$tmp/run/logs/learner.log" ||
  fail "the learner did not reconnect to the restarted replay server"

# 2. The learner, once it has checkpointed in the online phase.
for _ in $(seq 1 300); do
  [[ -s "$tmp/run/checkpoints/online.pt" ]] && break
  sleep 0.2
done
old=$(pid_of learner)
kill -KILL "$old"
wait_restarted learner "$old" || fail "the learner was not restarted: $(tail -20 "$tmp/run.out")"

# 3. An actor.
old=$(pid_of actor-0)
kill -KILL "$old"
wait_restarted actor-0 "$old" || fail "actor-0 was not restarted"

wait "$run_pid"
status=$?
run_pid=""
[[ $status -eq 0 ]] || fail "tandem run exited with $status after the kills: $(tail -30 "$tmp/run.out")"
grep -q "process restarts 3 (actor 1, learner 1, replay 1)" "$tmp/run/summary.txt" 2>/dev/null ||
  fail "the summary does not count one restart per role: $(grep restarts "$tmp/run/summary.txt")"
grep -q "resumed from .*online.pt" "$tmp/run/logs/learner.log" ||
  fail "the restarted learner did not resume from its checkpoint"
grep -q "online (after)" "$tmp/run/summary.txt" || fail "the summary lacks the final evaluation"
[[ ! -e "$tmp/run/wal" ]] || fail "the run's write-ahead log was not removed after completion"
# The actors act on the restarted learner's weights: the evaluator saw versions after the kill.
[[ $(wc -l <"$tmp/run/eval.csv") -ge 3 ]] || fail "no evaluations: $(cat "$tmp/run/eval.csv")"

echo "chaos_test: $failed failures (online table held $held before the replay kill, recovered $recovered)"
[[ $failed -eq 0 ]]
