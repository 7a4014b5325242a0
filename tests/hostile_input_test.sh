#!/usr/bin/env bash
# Hostile input against real processes on loopback, sent by an outside gRPC client
# (tests/hostile_client.cc, generated stubs only) and by raw sockets:
#   - `tandem replay`: a Sample of 2^20 items is refused and the server lives; garbage Insert bytes
#     get INVALID_ARGUMENT; finite but absurd rows are refused and counted by reason; idle TCP
#     connections do not hold a /metrics scrape back;
#   - `tandem run`: its servers require the token it generated, so an outside insert is
#     UNAUTHENTICATED; a dataset of another env fails before any process starts, naming both
#     envs; a run that fails after restarts counts them in its summary.
# Env: TANDEM (binary), HOSTILE_CLIENT (binary), TANDEM_SOURCE_DIR.
set -uo pipefail
source "$TANDEM_SOURCE_DIR/tests/lib.sh"
tmp=$(mktemp -d)
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill -KILL "$pid" 2>/dev/null; done
  rm -rf "$tmp"
}
trap cleanup EXIT

# Waits up to 60 s for file $1 to exist and be non-empty.
wait_for_file() {
  for _ in $(seq 1 300); do
    [[ -s "$1" ]] && return 0
    sleep 0.2
  done
  return 1
}

# --- tandem replay alone --------------------------------------------------------------------------
cat >"$tmp/replay.textproto" <<CONFIG
env { name: "mamujoco/HalfCheetah-6x1" }
replay { offline_ratio: 0 min_size_to_sample: 1 shape_from_env: true }
metrics { replay_address: "127.0.0.1:0" }
CONFIG
"$TANDEM" replay --config "$tmp/replay.textproto" --port_file "$tmp/replay.port" \
  >"$tmp/replay.out" 2>&1 &
replay_pid=$!
pids+=("$replay_pid")
wait_for_file "$tmp/replay.port" || { fail "tandem replay did not start: $(cat "$tmp/replay.out")"; exit 1; }
read -r port metrics_port <"$tmp/replay.port"
address="127.0.0.1:$port"

expect() {  # expect ACTION CODE [TEXT]: the client's reply to ACTION starts with CODE (and has TEXT)
  local reply
  reply=$("$HOSTILE_CLIENT" "$address" "$1" ${token:+"$token"})
  [[ $reply == "$2"* ]] || fail "$1 answered '$reply', expected $2"
  [[ -z ${3:-} || $reply == *"$3"* ]] || fail "$1 answered '$reply', expected it to mention '$3'"
}
token=""
expect insert-valid OK
expect sample-huge RESOURCE_EXHAUSTED "replay.max_sample_bytes"
kill -0 "$replay_pid" 2>/dev/null || fail "the replay server died on a huge Sample"
expect sample OK
expect garbage INVALID_ARGUMENT "does not parse"
expect insert-absurd INVALID_ARGUMENT "exceeds replay.validation.max_abs_reward"
expect insert-valid OK
http_get "http://127.0.0.1:$metrics_port/metrics" >"$tmp/replay.metrics" || fail "no /metrics"
grep -q '^tandem_replay_refused_rows_total{reason="reward_bound"} 64' "$tmp/replay.metrics" ||
  fail "absurd rows are not counted by reason: $(grep refused "$tmp/replay.metrics")"
grep -q '^tandem_replay_unparsable_messages_total 1' "$tmp/replay.metrics" ||
  fail "the garbage message is not counted"
grep -q '^tandem_replay_table_size{table="online"} 128' "$tmp/replay.metrics" ||
  fail "the online table should hold the two valid inserts only: $(grep table_size "$tmp/replay.metrics")"

# Five idle connections, then a scrape that must answer within one second.
python3 - "$metrics_port" <<'PY' || fail "a scrape waited behind idle connections"
import socket, sys, time, urllib.request
port = int(sys.argv[1])
idle = [socket.create_connection(("127.0.0.1", port)) for _ in range(5)]
start = time.monotonic()
urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=1).read()
print(f"scrape with 5 idle connections open: {time.monotonic() - start:.3f} s")
PY
kill -TERM "$replay_pid"
wait "$replay_pid"

# --- tandem run: a dataset of another env ---------------------------------------------------------
"$TANDEM" dataset random --env mamujoco/Hopper-3x1 --steps 300 --envs 2 --out "$tmp/hopper.h5" \
  >"$tmp/dataset.out" 2>&1 || fail "dataset random failed: $(cat "$tmp/dataset.out")"
cat >"$tmp/mismatch.textproto" <<CONFIG
name: "mismatch"
env { name: "mamujoco/HalfCheetah-6x1" }
dataset { path: "$tmp/hopper.h5" }
CONFIG
start=$(date +%s%N)
"$TANDEM" run --config "$tmp/mismatch.textproto" --run_dir "$tmp/mismatch" >"$tmp/mismatch.out" 2>&1
status=$?
elapsed_ms=$((($(date +%s%N) - start) / 1000000))
echo "mismatched dataset refused after $elapsed_ms ms"
[[ $status -ne 0 ]] || fail "a Hopper-3x1 dataset was accepted by a HalfCheetah-6x1 run"
grep -q "recorded on mamujoco/Hopper-3x1 but env.name is mamujoco/HalfCheetah-6x1" \
  "$tmp/mismatch.out" || fail "the refusal does not name both envs: $(tail -5 "$tmp/mismatch.out")"
[[ ! -e "$tmp/mismatch/logs" || -z "$(ls -A "$tmp/mismatch/logs")" ]] ||
  fail "processes were started before the dataset was checked: $(ls "$tmp/mismatch/logs")"

# --- tandem run: authentication by default, restarts counted on a failed run -----------------------
cat >"$tmp/run.textproto" <<CONFIG
name: "hostile"
env { name: "mamujoco/HalfCheetah-6x1" options { key: "episode_limit" value: "100" } }
dataset { path: "$tmp/data/random.h5" }
run { collect_random_steps: 2000 progress_interval_seconds: 2 max_restarts: 1 }
algorithm { hidden_size: 32 mixer_hidden_size: 16 }
learner { offline_updates: 100 batch_size: 64 online_env_steps: 10000000 publish_every_updates: 25 }
replay { min_size_to_sample: 200 }
actors { num_actors: 1 envs_per_actor: 2 send_batch_transitions: 100 }
evaluation { episodes: 0 }
CONFIG
"$TANDEM" run --config "$tmp/run.textproto" --run_dir "$tmp/run" >"$tmp/run.out" 2>&1 &
run_pid=$!
pids+=("$run_pid")
actor_pid=""
for _ in $(seq 1 600); do
  actor_pid=$(child_pid "$tmp/run" actor-0)
  [[ -n $actor_pid ]] && break
  kill -0 "$run_pid" 2>/dev/null || break
  sleep 0.2
done
[[ -n $actor_pid ]] || { fail "the online phase never started: $(tail -20 "$tmp/run.out")"; exit 1; }
grep -q "token generated for this run" "$tmp/run.out" || fail "tandem run does not say it authenticates"
grep -q "TANDEM_RUN_AUTH_TOKEN" "$tmp/run/config.textproto" ||
  fail "the children's config does not name the token variable"
read -r _ _ _ replay_port _ < <(grep '^replay ' "$tmp/run/processes.txt")
address="127.0.0.1:$replay_port"
expect insert-absurd UNAUTHENTICATED
token="not-the-token"
expect insert-absurd UNAUTHENTICATED
token=""

# Kill the actor twice with run.max_restarts 1: restarted once, then the run fails and says so.
kill -KILL "$actor_pid"
restarted=""
for _ in $(seq 1 300); do
  restarted=$(child_pid "$tmp/run" actor-0)
  [[ -n $restarted && $restarted != "$actor_pid" ]] && break
  sleep 0.2
done
[[ -n $restarted && $restarted != "$actor_pid" ]] || fail "actor-0 was not restarted"
kill -KILL "$restarted"
wait "$run_pid"
status=$?
[[ $status -ne 0 ]] || fail "the run should fail once its restarts are used up"
grep -q "failed" "$tmp/run/summary.txt" 2>/dev/null || fail "the summary does not say the run failed"
grep -q "process restarts 1 (actor 1)" "$tmp/run/summary.txt" 2>/dev/null ||
  fail "the failed run's summary miscounts restarts: $(cat "$tmp/run/summary.txt" 2>/dev/null)"

echo "hostile_input_test: $failed failures"
[[ $failed -eq 0 ]]
