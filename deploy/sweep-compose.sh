#!/usr/bin/env bash
# Seeds x configs as separate docker-compose projects (one cluster each, e.g. on a large host or
# one host per project via DOCKER_HOST), instead of `tandem sweep`'s local processes.
#
# Usage: deploy/sweep-compose.sh [--seeds N] [--actors N] [--dry-run] CONFIG.textproto...
#   CONFIG names a file under configs/. Each project is called tandem-<config>-s<seed> and keeps its
#   checkpoints and eval.csv in its own volumes; `docker-compose -p NAME logs -f` follows one.
# Needs TANDEM_AUTH_TOKEN exported, the offline checkpoint per project (the pretrain service), and
# the images built (see docker-compose.yml).
set -euo pipefail
seeds=3
actors=4
dry_run=0
configs=()
while [[ $# -gt 0 ]]; do
  case "$1" in
    --seeds) seeds=$2; shift 2 ;;
    --actors) actors=$2; shift 2 ;;
    --dry-run) dry_run=1; shift ;;
    -h | --help) sed -n '2,10p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    -*) echo "sweep-compose.sh: unknown flag $1" >&2; exit 2 ;;
    *) configs+=("$1"); shift ;;
  esac
done
[[ ${#configs[@]} -gt 0 ]] || { echo "sweep-compose.sh: give at least one CONFIG" >&2; exit 2; }
here=$(cd "$(dirname "$0")" && pwd)
for config in "${configs[@]}"; do
  [[ -f "$here/../configs/$config" ]] || { echo "sweep-compose.sh: no configs/$config" >&2; exit 1; }
  for seed in $(seq 1 "$seeds"); do
    project="tandem-$(basename "$config" .textproto | tr '_.' '--')-s$seed"
    cmd=(docker-compose -f "$here/docker-compose.yml" -p "$project")
    echo "== $project"
    if [[ $dry_run -eq 1 ]]; then
      TANDEM_CONFIG=$config TANDEM_SEED=$seed "${cmd[@]}" config -q && echo "   config OK"
      continue
    fi
    TANDEM_CONFIG=$config TANDEM_SEED=$seed "${cmd[@]}" run --rm pretrain
    TANDEM_CONFIG=$config TANDEM_SEED=$seed "${cmd[@]}" up -d --scale "actor=$actors"
  done
done
