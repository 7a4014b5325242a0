#!/usr/bin/env bash
# Checks the `tandem` binary as a user meets it: every verb answers --help, and bad configs and
# flags give exactly one line on stderr naming the problem, a non-zero exit code and no crash.
# Run by CTest with TANDEM (the binary) and TANDEM_SOURCE_DIR set.
set -u
: "${TANDEM:?path of the tandem binary}" "${TANDEM_SOURCE_DIR:?repo root}"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
passed=0
failed=0

# expect NAME WANT_CODE STDERR_SUBSTRING -- ARGS...: runs tandem ARGS, checks code and stderr.
expect() {
  local name=$1 want=$2 needle=$3
  shift 4
  "$TANDEM" "$@" >"$tmp/out" 2>"$tmp/err"
  local code=$?
  local lines
  lines=$(wc -l <"$tmp/err")
  if [[ $code -ne $want ]]; then
    echo "FAIL $name: exit $code, want $want; stderr: $(cat "$tmp/err")"
    failed=$((failed + 1))
  elif [[ -n $needle ]] && ! grep -qF -- "$needle" "$tmp/err"; then
    echo "FAIL $name: stderr lacks '$needle': $(cat "$tmp/err")"
    failed=$((failed + 1))
  elif [[ $want -ne 0 && $lines -ne 1 ]]; then
    echo "FAIL $name: stderr has $lines lines, want 1: $(cat "$tmp/err")"
    failed=$((failed + 1))
  else
    passed=$((passed + 1))
  fi
}

# Every verb and subverb answers --help with exit 0.
for verb in "" "config" "config check" "config print" "config defaults" "doctor" "replay" \
  "bench" "bench replay" "bench learner" "bench cbs" "bench actor" "bench qmix" "env" "env list" "env info" "env bench" "env play" "dataset" \
  "dataset info" "dataset random" "dataset import-omiga" "dataset import-cfcql" "pretrain" "learner" "actor" "run" "sweep" \
  "results"; do
  # shellcheck disable=SC2086
  expect "help:$verb" 0 "" -- $verb --help
  # shellcheck disable=SC2086
  if ! "$TANDEM" $verb --help | grep -q "^Usage: tandem"; then
    echo "FAIL help:$verb prints no usage line"
    failed=$((failed + 1))
  fi
done

# The SMAC-like env through the CLI: play a few episodes; bad inputs are one-line errors.
expect "env play" 0 "" -- env play smac/3m --episodes 5
"$TANDEM" env play smac/3m --episodes 5 | grep -q "^smac/3m  *scripted  *1.000 " ||
  { echo "FAIL env play: the scripted team should win every 3m episode"; failed=$((failed + 1)); }
expect "env play non-smac" 1 "is not a smac/ env" -- env play mamujoco/Hopper-3x1
expect "env play bad policy" 1 "--policy must be random or scripted" -- \
  env play smac/3m --policy greedy
expect "env info smac" 0 "" -- env info smac/3s5z

good="$TANDEM_SOURCE_DIR/configs/halfcheetah_6x1_sim2o.textproto"
expect "check shipped config" 0 "" -- config check "$good"
configs="$TANDEM_SOURCE_DIR/configs"
for config in "$configs"/*.textproto "$configs"/*/*/*.textproto "$configs"/*/*/*/*.textproto; do
  expect "check ${config#"$TANDEM_SOURCE_DIR"/configs/}" 0 "" -- config check "$config"
done

printf 'replay {\n  capcity: 3\n}\n' >"$tmp/unknown.textproto"
expect "unknown field" 1 "unknown.textproto:2:" -- config check "$tmp/unknown.textproto"
printf 'learner { batch_size: "big" }\n' >"$tmp/type.textproto"
expect "wrong type" 1 'field "batch_size"' -- config check "$tmp/type.textproto"
printf 'replay { offline_ratio: 3 }\n' >"$tmp/range.textproto"
expect "out of range" 1 "replay.offline_ratio: must be in [0, 1], got 3" -- \
  config check "$tmp/range.textproto"
printf 'name: "x"\nenv {\n' >"$tmp/truncated.textproto"
expect "truncated file" 1 "truncated.textproto" -- config check "$tmp/truncated.textproto"
printf '\x00\xff\xfe garbage' >"$tmp/binary.textproto"
expect "binary garbage" 1 "binary.textproto" -- config check "$tmp/binary.textproto"
expect "missing file" 1 "cannot open config file" -- config check "$tmp/none.textproto"
expect "bad override path" 1 'no field "capcity"' -- config check "$good" --set replay.capcity=1
expect "bad override value" 1 "expects double" -- config check "$good" --set replay.offline_ratio=x
expect "bad override enum" 1 "AGENT_ORDER_RANDOM" -- config check "$good" --set selector.agent_order=up
quickstart="$TANDEM_SOURCE_DIR/configs/quickstart.textproto"
expect "two ways to create a dataset" 1 "run.collect_config: excludes run.collect_random_steps" -- \
  config check "$quickstart" --set run.collect_random_steps=100
expect "missing collect config" 1 "run.collect_config: $tmp/none.textproto does not exist" -- \
  run --config "$quickstart" --run_dir "$tmp/collect-run" --set dataset.path="$tmp/data/x.h5" \
  --set run.collect_random_steps=0 --set run.collect_config="$tmp/none.textproto"
expect "unknown flag" 2 "unknown flag '--sett'" -- config check "$good" --sett a=1
expect "missing flag value" 2 "needs a value" -- config check "$good" --set
expect "missing positional" 2 "expected FILE" -- config check
expect "unknown verb" 2 "unknown command 'fly'" -- fly
expect "unknown subverb" 2 "unknown command 'lint'" -- config lint

expect "replay without config" 2 "flag '--config' is required" -- replay
expect "replay with missing dataset" 1 "dataset file not found" -- \
  replay --config "$good" --set dataset.path=/nonexistent/data.h5 --set metrics.enabled=false
expect "replay with rho but no dataset" 1 "no offline dataset is configured" -- \
  replay --config "$good" --set dataset.path= --set metrics.enabled=false
expect "bench with bad number" 2 "'--seconds' expects a number" -- bench replay --seconds=soon

expect "env info" 0 "" -- env info "mamujoco/Hopper-3x1(obs_mode=khop)"
expect "env info unknown env" 1 "unknown env 'mamujoco/Hopper-9x9'" -- env info mamujoco/Hopper-9x9
expect "env info unknown option" 1 "unknown option 'colour'" -- env info "mamujoco/Ant-2x4(colour=red)"
expect "env bench unknown family" 1 "unknown env family" -- env bench gym/Pong --seconds 0.1

# The offline pipeline end to end: a random-policy dataset, pretraining through the replay server,
# evaluation, and the offline checkpoint.
expect "dataset random" 0 "" -- dataset random --env "mamujoco/HalfCheetah-6x1(episode_limit=50)" \
  --steps 1000 --envs 2 --out "$tmp/random.h5"
expect "dataset info" 0 "" -- dataset info "$tmp/random.h5"
expect "dataset info on text" 1 "not an HDF5 file" -- dataset info "$good"
cat >"$tmp/pretrain.textproto" <<EOF
env { name: "mamujoco/HalfCheetah-6x1" options { key: "episode_limit" value: "50" } }
dataset { path: "$tmp/random.h5" }
learner { offline_updates: 120 batch_size: 32 publish_every_updates: 40 checkpoint_every_updates: 60 }
algorithm { hidden_size: 32 }
evaluation { episodes: 1 }
metrics { enabled: false }
EOF
expect "pretrain" 0 "" -- pretrain --config "$tmp/pretrain.textproto" --checkpoint "$tmp/ckpt/offline.pt"
if grep -q "evaluation: 1 episodes" "$tmp/out" && [[ -s "$tmp/ckpt/offline.pt" ]]; then
  passed=$((passed + 1))
else
  echo "FAIL pretrain printed no evaluation or wrote no checkpoint: $(cat "$tmp/out")"
  failed=$((failed + 1))
fi
expect "pretrain on a mismatched env" 1 "recorded on mamujoco/HalfCheetah-6x1 but env.name is mamujoco/Ant-2x4" -- pretrain --config "$tmp/pretrain.textproto" \
  --set env.name=mamujoco/Ant-2x4
expect "pretrain on another obs mode" 1 "was recorded with obs_mode=omiga but the env has obs_mode=khop" \
  -- pretrain --config "$tmp/pretrain.textproto" --set env.options.obs_mode=khop
expect "pretrain without dataset" 1 "needs an offline dataset" -- pretrain --config "$good" \
  --set dataset.path=
expect "replay with a dataset of another env" 1 "recorded on mamujoco/HalfCheetah-6x1 but env.name is mamujoco/Ant-2x4" -- replay \
  --config "$tmp/pretrain.textproto" --set replay.shape_from_env=true --set env.name=mamujoco/Ant-2x4

# The learner as its own process, against a replay server process, over TCP.
"$TANDEM" replay --config "$tmp/pretrain.textproto" --set replay.offline_ratio=1 \
  --port_file "$tmp/replay.port" >"$tmp/replay.out" 2>"$tmp/replay.err" &
replay_pid=$!
for _ in $(seq 1 200); do [[ -s "$tmp/replay.port" ]] && break; sleep 0.1; done
replay_port=$(cut -d' ' -f1 "$tmp/replay.port" 2>/dev/null)
expect "learner process" 0 "" -- learner --config "$tmp/pretrain.textproto" \
  --replay "127.0.0.1:${replay_port:-1}" --set learner.offline_updates=50 \
  --set learner.checkpoint_dir="$tmp/learner"
if [[ -s "$tmp/learner/offline.pt" ]]; then
  passed=$((passed + 1))
else
  echo "FAIL learner process wrote no checkpoint: $(cat "$tmp/out" "$tmp/err")"
  failed=$((failed + 1))
fi
expect "learner online without offline checkpoint" 1 "learner.offline_checkpoint" -- learner \
  --config "$tmp/pretrain.textproto" --replay "127.0.0.1:${replay_port:-1}" --phase online \
  --set replay.offline_ratio=1
kill -TERM "$replay_pid"
if wait "$replay_pid"; then
  passed=$((passed + 1))
else
  echo "FAIL replay server did not exit cleanly on SIGTERM: $(cat "$tmp/replay.err")"
  failed=$((failed + 1))
fi
expect "learner without replay" 2 "flag '--replay' is required" -- learner --config "$good"

# An actor process streaming to a replay process (random-policy transitions via sequential epsilon
# with epsilon = 1, no learner).
"$TANDEM" replay --config "$tmp/pretrain.textproto" --set replay.offline_ratio=0 \
  --set dataset.path= --port_file "$tmp/replay2.port" >/dev/null 2>"$tmp/replay2.err" &
replay2_pid=$!
for _ in $(seq 1 200); do [[ -s "$tmp/replay2.port" ]] && break; sleep 0.1; done
replay2_port=$(cut -d' ' -f1 "$tmp/replay2.port" 2>/dev/null)
expect "actor process" 0 "" -- actor --config "$tmp/pretrain.textproto" \
  --replay "127.0.0.1:${replay2_port:-1}" --steps 400 --set selector.name=sequential-epsilon \
  --set selector.epsilon_start=1 --set actors.envs_per_actor=4 --set actors.send_batch_transitions=50
if grep -q "400 transitions stored, 0 dropped" "$tmp/out"; then
  passed=$((passed + 1))
else
  echo "FAIL actor did not store its 400 transitions: $(cat "$tmp/out" "$tmp/err")"
  failed=$((failed + 1))
fi
expect "actor with cbs but no offline checkpoint" 1 "needs the frozen offline policy" -- actor \
  --config "$tmp/pretrain.textproto" --replay "127.0.0.1:${replay2_port:-1}" --steps 10
expect "actor with unknown selector" 1 "unknown selector 'telepathy'" -- actor \
  --config "$tmp/pretrain.textproto" --replay "127.0.0.1:1" --set selector.name=telepathy
kill -TERM "$replay2_pid"
wait "$replay2_pid" || true

# tandem results aggregates finished runs by config name (mean +- sample std over seeds).
mkdir -p "$tmp/sweep/a/seed-1" "$tmp/sweep/a/seed-2" "$tmp/sweep/b/seed-1"
header="name,seed,offline_return,online_return,composed_return,env_steps,updates,wall_seconds"
printf '%s\nexp-a,1,1,10,11,100,5,1.0\n' "$header" >"$tmp/sweep/a/seed-1/result.csv"
printf '%s\nexp-a,2,3,20,13,300,5,1.0\n' "$header" >"$tmp/sweep/a/seed-2/result.csv"
printf '%s\nexp-b,1,5,,7,50,5,1.0\n' "$header" >"$tmp/sweep/b/seed-1/result.csv"
expect "results" 0 "" -- results "$tmp/sweep"
if grep -q "exp-a .* 2 .*2.0 +- 1.4 .*15.0 +- 7.1 .*12.0 +- 1.4" "$tmp/out" &&
  grep -q "exp-b .* 1 .*5.0 +- 0.0 .* - " "$tmp/out" && grep -q "^exp-a,2,2.0000,1.4142,15.0000" \
  "$tmp/sweep/results.csv"; then
  passed=$((passed + 1))
else
  echo "FAIL results table: $(cat "$tmp/out" "$tmp/sweep/results.csv")"
  failed=$((failed + 1))
fi
# Runs with reference returns also get the normalized-score table (mean +- sample std over seeds).
scored="name,seed,offline_return,online_return,composed_return,env_steps,updates,wall_seconds,env"
scored="$scored,offline_win_rate,online_win_rate,offline_score,online_score,composed_score"
mkdir -p "$tmp/scored/s1" "$tmp/scored/s2"
printf '%s\nexp-s,1,1,2,3,100,5,1.0,mamujoco/HalfCheetah-6x1,,,20,40,45\n' "$scored" \
  >"$tmp/scored/s1/result.csv"
printf '%s\nexp-s,2,1,2,3,100,5,1.0,mamujoco/HalfCheetah-6x1,,,30,60,55\n' "$scored" \
  >"$tmp/scored/s2/result.csv"
expect "results with scores" 0 "" -- results "$tmp/scored"
if grep -q "exp-s .* 2 .*25.0 +- 7.1 .*50.0 +- 14.1 .*50.0 +- 7.1" "$tmp/out"; then
  passed=$((passed + 1))
else
  echo "FAIL normalized score table: $(cat "$tmp/out")"
  failed=$((failed + 1))
fi
# Runs that name their method and dataset also get Sim2O's Table I layout: rows task + dataset,
# columns methods, each the method's own policy's score.
paper="$scored,method,dataset,method_return,method_score"
mkdir -p "$tmp/paper/a1" "$tmp/paper/a2" "$tmp/paper/b1"
printf '%s\nhc-sim2o,1,1,2,3,100,5,1.0,mamujoco/HalfCheetah-6x1,,,20,40,45,Sim2O,medium,3,45\n' \
  "$paper" >"$tmp/paper/a1/result.csv"
printf '%s\nhc-sim2o,2,1,2,3,100,5,1.0,mamujoco/HalfCheetah-6x1,,,20,40,45,Sim2O,medium,3,55\n' \
  "$paper" >"$tmp/paper/a2/result.csv"
printf '%s\nhc-awac,1,1,2,3,100,5,1.0,mamujoco/HalfCheetah-6x1,,,20,30,45,AWAC-MA,medium,2,30\n' \
  "$paper" >"$tmp/paper/b1/result.csv"
expect "results as Table I" 0 "" -- results "$tmp/paper"
if grep -Eq "task / dataset +AWAC-MA +Sim2O" "$tmp/out" &&
  grep -Eq "^mamujoco/HalfCheetah-6x1 medium +30.0 \+- 0.0 \(1\) +50.0 \+- 7.1 \(2\)" "$tmp/out"; then
  passed=$((passed + 1))
else
  echo "FAIL Table I layout: $(cat "$tmp/out")"
  failed=$((failed + 1))
fi
# Runs that report wins also get the median test win rate per config (OVMSE's Table 1 layout) and
# each config's median win-rate curve against online env steps, per env.
header="$header,env,offline_win_rate,online_win_rate"
for seed in 1 2 3; do
  mkdir -p "$tmp/wins/ovm/seed-$seed" "$tmp/wins/qmix/seed-$seed"
  printf '%s\nm-ovmse,%d,1,2,,100,5,1.0,smac/3m,0.5,0.%d\n' "$header" "$seed" "$((seed + 6))" \
    >"$tmp/wins/ovm/seed-$seed/result.csv"
  printf '%s\nm-qmix,%d,,2,,100,5,1.0,smac/3m,,0.%d\n' "$header" "$seed" "$seed" \
    >"$tmp/wins/qmix/seed-$seed/result.csv"
  printf '# env_steps online composed offline online_win_rate\n50 1 NaN NaN 0.%d\n100 1 NaN NaN 0.9\n' \
    "$seed" >"$tmp/wins/ovm/seed-$seed/learning_curve.dat"
done
expect "results with wins" 0 "" -- results "$tmp/wins"
# Medians over seeds: ovmse online 0.7, 0.8, 0.9 -> 0.8; qmix 0.1, 0.2, 0.3 -> 0.2. The ovmse curve:
# 0.5 at the switch, median of 0.1-0.3 at 50 steps, 0.9 at 100.
# Each ovmse run's lowest evaluation after the switch is 0.1, 0.2, 0.3 -> median 0.2; qmix has none.
if grep -q "m-ovmse .*smac/3m .* 3 .*0.500 .*0.800 .*0.700-0.900 *0.200$" "$tmp/out" &&
  grep -q "m-qmix .*smac/3m .* 3 .* - .*0.200.* -$" "$tmp/out" &&
  grep -q "^m-ovmse,smac/3m,3,0.5000,0.8000,0.7000,0.9000,0.2000$" "$tmp/wins/win_rates.csv" &&
  [[ "$(sed -n 2,4p "$tmp/wins/curves-smac-3m.dat" | tr '\n' ' ')" == "0 0.5000 50 0.2000 100 0.9000 " ]]; then
  passed=$((passed + 1))
else
  echo "FAIL results win-rate table: $(cat "$tmp/out" "$tmp/wins/win_rates.csv" "$tmp/wins/curves-smac-3m.dat")"
  failed=$((failed + 1))
fi
expect "results without runs" 1 "no result.csv found" -- results "$tmp/ckpt"
expect "sweep without configs" 2 "" -- sweep
expect "sweep of two configs of one name" 1 "are both named" -- sweep "$good" "$good" \
  --out "$tmp/same-name"
if [[ -e "$tmp/same-name" ]]; then
  echo "FAIL sweep of two configs of one name created $tmp/same-name"
  failed=$((failed + 1))
fi
expect "sweep with a malformed --vary" 1 "--vary dataset.path" -- sweep "$good" \
  --vary dataset.path --out "$tmp/vary-bad"
# --vary: one run per value (every combination of several flags), the values' labels appended to
# the name; these runs fail at once on their missing datasets, after the sweep made their folders.
"$TANDEM" sweep "$good" --seeds 1 --out "$tmp/vary" --vary learner.batch_size=64 \
  --vary dataset.path="$tmp/none/A-medium.h5,$tmp/none/A-expert.h5" >"$tmp/out" 2>&1
name=$("$TANDEM" config print "$good" | sed -n 's/^name: "\(.*\)"/\1/p')
if [[ -d "$tmp/vary/$name-64-A-medium/seed-1" && -d "$tmp/vary/$name-64-A-expert/seed-1" &&
  $(ls "$tmp/vary" | wc -l) -eq 2 ]] &&
  grep -q "A-expert.h5 does not exist" "$tmp/vary/$name-64-A-expert/seed-1/tandem-run.log"; then
  passed=$((passed + 1))
else
  echo "FAIL sweep --vary: $(ls "$tmp/vary") $(cat "$tmp/out")"
  failed=$((failed + 1))
fi

# A valid override is applied and visible in the resolved config.
if "$TANDEM" config print "$good" --set learner.batch_size=256 | grep -q "batch_size: 256"; then
  passed=$((passed + 1))
else
  echo "FAIL override not visible in config print"
  failed=$((failed + 1))
fi

echo "cli_test: $passed passed, $failed failed"
[[ $failed -eq 0 ]]
