#!/usr/bin/env bash
# `tandem run` with learner.num_learners = 2: two data-parallel learner processes (c10d/Gloo over
# a loopback rendezvous) train through both phases and stop together, rank 0 alone writes the
# checkpoints, and SIGKILL of rank 1 mid-phase ends the run with an error naming it, not a hang.
# Env: TANDEM (binary), TANDEM_SOURCE_DIR.
set -uo pipefail
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
source "$TANDEM_SOURCE_DIR/tests/lib.sh"

config() {  # $1 = online env steps
  cat <<CONFIG
name: "two-learners"
run_root: "$tmp/runs"
env { name: "mamujoco/HalfCheetah-6x1" options { key: "episode_limit" value: "100" } }
dataset { path: "$tmp/data/random.h5" }
run { collect_random_steps: 2000 progress_interval_seconds: 2 }
algorithm { hidden_size: 32 mixer_hidden_size: 16 }
learner { offline_updates: 200 batch_size: 64 online_env_steps: $1 publish_every_updates: 25
          checkpoint_every_updates: 100 num_learners: 2 }
replay { min_size_to_sample: 500 samples_per_insert: 32 error_buffer: 5000 }
actors { num_actors: 1 envs_per_actor: 4 send_batch_transitions: 100 }
evaluation { episodes: 0 }
CONFIG
}

config 4000 >"$tmp/run.textproto"
if ! timeout 300 "$TANDEM" run --config "$tmp/run.textproto" --run_dir "$tmp/run" >"$tmp/run.out" 2>&1
then
  fail "tandem run with two learners exited non-zero"
  cat "$tmp/run.out"
fi
logs="$tmp/run/logs"
for phase in learner-offline learner; do
  for log in "$logs/$phase.log" "$logs/$phase-rank-1.log"; do
    [[ -f "$log" ]] || fail "missing $log"
  done
  grep -q "rank 0/2" "$logs/$phase.log" || fail "$phase: rank 0 did not start as rank 0 of 2"
  grep -q "rank 1/2" "$logs/$phase-rank-1.log" || fail "$phase: rank 1 did not start as rank 1 of 2"
  # Both ranks stop after the same update (the online phase's stop comes from rank-local polls).
  rank0=$(sed -n 's/^learner finished at update \([0-9]*\);.*/\1/p' "$logs/$phase.log")
  rank1=$(sed -n 's/^learner rank 1 finished at update \([0-9]*\) .*/\1/p' "$logs/$phase-rank-1.log")
  [[ -n "$rank0" && "$rank0" == "$rank1" ]] ||
    fail "$phase: ranks finished at different updates: '$rank0' vs '$rank1'"
done
[[ -f "$tmp/run/checkpoints/offline.pt" && -f "$tmp/run/checkpoints/online.pt" ]] ||
  fail "rank 0 did not write both checkpoints"
grep -q "completed" "$tmp/run/summary.txt" 2>/dev/null || fail "summary does not say completed"

# A rank that dies takes the run down with a message naming it, not a silent hang.
config 10000000 >"$tmp/long.textproto"
"$TANDEM" run --config "$tmp/long.textproto" --run_dir "$tmp/long" >"$tmp/long.out" 2>&1 &
run_pid=$!
pid=""
for _ in $(seq 1 600); do
  pid=$(child_pid "$tmp/long" learner-rank-1)
  [[ -n "$pid" ]] && grep -q "updates" "$tmp/long/logs/learner.log" 2>/dev/null && break
  kill -0 "$run_pid" 2>/dev/null || break
  sleep 0.2
done
if [[ -z "$pid" ]]; then
  fail "learner-rank-1 never appeared in processes.txt"
  kill -TERM "$run_pid" 2>/dev/null
else
  kill -KILL "$pid"
fi
if timeout 120 tail --pid="$run_pid" -f /dev/null; then
  wait "$run_pid"
  status=$?
  [[ $status -ne 0 ]] || fail "the run exited 0 after a learner rank was killed"
  grep -q "learner-rank-1" "$tmp/long.out" || fail "the run's error does not name learner-rank-1"
else
  fail "the run hung after a learner rank was killed"
  kill -KILL "$run_pid" 2>/dev/null
fi

if [[ $failed -gt 0 ]]; then
  echo "$failed check(s) failed"
  exit 1
fi
echo "two learners: both phases trained data-parallel, stopped together, rank loss reported"
