#!/usr/bin/env bash
# The Python example in docs/dataset-format.md reads a dataset Tandem just wrote, with plain h5py.
# Skipped (exit 77) when python3-h5py is not installed.
set -euo pipefail
python=""
for candidate in python3 /usr/bin/python3; do
  if "$candidate" -c "import h5py" 2>/dev/null; then python=$candidate; break; fi
done
[[ -n "$python" ]] || { echo "python3-h5py is not installed: skipping"; exit 77; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
"$TANDEM" dataset random --env "mamujoco/HalfCheetah-6x1(episode_limit=50)" --steps 500 --envs 2 \
  --out "$tmp/data/halfcheetah-6x1-random.h5" >/dev/null
# The example block, verbatim, run from a directory where its relative path exists.
awk '/h5py-example/ { found = 1; next } found && /^```python/ { inside = 1; next }
     inside && /^```/ { exit } inside { print }' "$TANDEM_SOURCE_DIR/docs/dataset-format.md" \
  >"$tmp/example.py"
[[ -s "$tmp/example.py" ]] || { echo "FAIL no example block found in docs/dataset-format.md"; exit 1; }
out=$(cd "$tmp" && "$python" example.py)
echo "$out"
# 500 transitions of 50-step episodes: 10 episodes, 6 agents with 23-dim observations.
[[ "$out" == "mamujoco/HalfCheetah-6x1(episode_limit=50,obs_mode=omiga) (500, 6, 23) (500, 6, 1) 10 episodes, mean return"* ]] ||
  { echo "FAIL unexpected output"; exit 1; }

# An OMIGA-layout file written with h5py (HalfCheetah-6x1: s, o [N, 6, 23], a [N, 6, 1], r, d
# [N, 1]; 3 episodes of 11 rows, the last row of each flagged d = 1) imports into Tandem's format
# and also trains directly from the replay server.
mkdir -p "$tmp/omiga"
"$python" - "$tmp/omiga/HalfCheetah-v2-6x1-medium.hdf5" <<'PY'
import sys, h5py, numpy as np
rng = np.random.default_rng(0)
rows = 33
d = np.zeros((rows, 1)); d[10::11] = 1
with h5py.File(sys.argv[1], "w") as f:
    f["o"] = rng.standard_normal((rows, 6, 23)); f["s"] = rng.standard_normal((rows, 6, 23))
    f["a"] = rng.uniform(-1, 1, (rows, 6, 1)); f["r"] = rng.standard_normal((rows, 1)); f["d"] = d
PY
# `dataset info` reads OMIGA's file directly: its card, with how to use it.
"$TANDEM" dataset info "$tmp/omiga/HalfCheetah-v2-6x1-medium.hdf5" >"$tmp/omiga-info.out" 2>&1 ||
  { echo "FAIL dataset info on an OMIGA file: $(cat "$tmp/omiga-info.out")"; exit 1; }
for line in "layout         OMIGA's MA-MuJoCo file" "env            mamujoco/HalfCheetah-6x1 with obs_mode=omiga" \
            "quality        medium" "transitions    30" "episodes       3 (complete)" "tandem dataset import-omiga"; do
  grep -qF "$line" "$tmp/omiga-info.out" || { echo "FAIL omiga info lacks '$line': $(cat "$tmp/omiga-info.out")"; exit 1; }
done
out=$("$TANDEM" dataset import-omiga "$tmp/omiga/HalfCheetah-v2-6x1-medium.hdf5" --out "$tmp/imported.h5")
echo "$out"
# 33 rows: t = 0..31 minus the d rows 10, 21 (32 is last) = 30 transitions in 3 episodes.
grep -q "imported 30 transitions" <<<"$out" || { echo "FAIL import count"; exit 1; }
grep -q "episodes       3 (complete)" <<<"$out" || { echo "FAIL import episodes"; exit 1; }
grep -q "quality        medium" <<<"$out" || { echo "FAIL import quality"; exit 1; }
cat >"$tmp/omiga.textproto" <<CONFIG
env { name: "mamujoco/HalfCheetah-6x1" options { key: "episode_limit" value: "20" } }
dataset { path: "$tmp/omiga/HalfCheetah-v2-6x1-medium.hdf5" }
learner { offline_updates: 20 batch_size: 16 publish_every_updates: 10 checkpoint_every_updates: 10 }
replay { min_size_to_sample: 10 }
algorithm { hidden_size: 16 }
evaluation { episodes: 1 }
metrics { enabled: false }
CONFIG
"$TANDEM" pretrain --config "$tmp/omiga.textproto" --checkpoint "$tmp/omiga.pt" >"$tmp/pretrain.out" 2>&1 ||
  { echo "FAIL pretrain from an OMIGA file: $(cat "$tmp/pretrain.out")"; exit 1; }
grep -q "30 transitions" "$tmp/pretrain.out" || { echo "FAIL pretrain did not load 30 transitions"; exit 1; }
# A file of the wrong env is refused, naming both shapes.
if "$TANDEM" dataset import-omiga "$tmp/omiga/HalfCheetah-v2-6x1-medium.hdf5" --env mamujoco/Ant-2x4 \
  --out "$tmp/wrong.h5" >"$tmp/wrong.out" 2>&1; then
  echo "FAIL importing into the wrong env succeeded"; exit 1
fi
grep -q "holds 6 agents" "$tmp/wrong.out" || { echo "FAIL wrong-env message: $(cat "$tmp/wrong.out")"; exit 1; }
[[ ! -e "$tmp/wrong.h5" ]] || { echo "FAIL a refused import left a file behind"; exit 1; }

# A CFCQL-layout SMAC file written with h5py as its collector writes pymarl's episode batch (3m: 3
# agents, obs 30, state 48, 9 actions, 60-step limit: 61 entries; int64 actions with a trailing 1
# and a dummy action after the last step, int32 masks, int64 filled) imports into Tandem's episode
# format, with the episodes' steps counted from `filled`.
"$python" - "$tmp/cfcql/3m_medium_replay.h5" <<'PY'
import os, sys, h5py, numpy as np
os.makedirs(os.path.dirname(sys.argv[1]), exist_ok=True)
rng = np.random.default_rng(0)
E, L, n = 4, 61, 3
lengths = [60, 12, 25, 7]
filled = np.zeros((E, L, 1), np.int64); terminated = np.zeros((E, L, 1), np.uint8)
actions = rng.integers(0, 9, (E, L, n, 1)).astype(np.int64)
avail = np.ones((E, L, n, 9), np.int32); reward = np.zeros((E, L, 1), np.float32)
obs = np.zeros((E, L, n, 30), np.float32); state = np.zeros((E, L, 48), np.float32)
for e, T in enumerate(lengths):
    filled[e, :T + 1] = 1
    obs[e, :T + 1] = rng.standard_normal((T + 1, n, 30)); state[e, :T + 1] = rng.standard_normal((T + 1, 48))
    reward[e, :T] = 0.25
    if T < 60: terminated[e, T - 1] = 1
actions[filled[:, :, 0] == 0] = 0
with h5py.File(sys.argv[1], "w") as f:
    for key, value in dict(state=state, obs=obs, actions=actions, avail_actions=avail, reward=reward,
                           terminated=terminated, filled=filled,
                           probs=np.zeros((E, L, n, 9), np.float32)).items():
        f[key] = value
PY
# `dataset info` recognises the layout: a card with the episodes' returns (0.25 per step: 15, 3,
# 6.25, 1.75) and how to convert it.
"$TANDEM" dataset info "$tmp/cfcql/3m_medium_replay.h5" >"$tmp/cfcql.out" 2>&1 ||
  { echo "FAIL dataset info on a CFCQL file: $(cat "$tmp/cfcql.out")"; exit 1; }
for line in "layout         CFCQL's SMAC episode file" "env            smac/3m (from the file name)" \
            "episodes       4" "return         mean 6.5 +- " "tandem dataset import-cfcql"; do
  grep -qF "$line" "$tmp/cfcql.out" || { echo "FAIL cfcql info lacks '$line': $(cat "$tmp/cfcql.out")"; exit 1; }
done
out=$("$TANDEM" dataset import-cfcql "$tmp/cfcql/3m_medium_replay.h5" --out "$tmp/cfcql.h5")
echo "$out"
grep -q "imported 4 episodes" <<<"$out" || { echo "FAIL cfcql import count"; exit 1; }
grep -q "transitions    104" <<<"$out" || { echo "FAIL cfcql steps (60 + 12 + 25 + 7)"; exit 1; }
grep -q "quality        medium-replay" <<<"$out" || { echo "FAIL cfcql quality"; exit 1; }
grep -q "win rate       not recorded" <<<"$out" || { echo "FAIL cfcql win rate line"; exit 1; }
# The wrong map is refused, naming both shapes, and leaves nothing behind.
if "$TANDEM" dataset import-cfcql "$tmp/cfcql/3m_medium_replay.h5" --env smac/2s3z \
  --out "$tmp/wrong-cfcql.h5" >"$tmp/wrong-cfcql.out" 2>&1; then
  echo "FAIL importing 3m episodes as 2s3z succeeded"; exit 1
fi
grep -q "holds 3 agents" "$tmp/wrong-cfcql.out" || { echo "FAIL wrong-map message: $(cat "$tmp/wrong-cfcql.out")"; exit 1; }
[[ ! -e "$tmp/wrong-cfcql.h5" ]] || { echo "FAIL a refused import left a file behind"; exit 1; }
echo "dataset_h5py_test: passed"
