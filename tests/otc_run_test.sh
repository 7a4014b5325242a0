#!/usr/bin/env bash
# OTC end to end with a tiny budget: a random Cooperative Navigation dataset, decentralized BCQ
# pretrained on it, then `tandem run`'s deployment-driven online phase (learner.deployments): in
# each deployment the actors act with the last checkpoint until exactly M transitions are
# collected into the merged set and the deployment's table, then a learner process runs L updates
# with OTC's correction (d_e) and writes the next checkpoint. Checks deployments.csv (the merged
# set grows by M per deployment, every deployment table holds M, L updates each), that later
# deployments' learners resume from the previous checkpoint, the summary, and `tandem results`'
# OTC table and deployment curves.
# Env: TANDEM (binary), TANDEM_SOURCE_DIR.
set -uo pipefail
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
source "$TANDEM_SOURCE_DIR/tests/lib.sh"

"$TANDEM" dataset random --env mpe/CooperativeNavigation-3 --steps 5000 --out "$tmp/random.h5" \
  >"$tmp/random.out" 2>&1 || fail "dataset random: $(tail -3 "$tmp/random.out")"
"$TANDEM" run --config "$TANDEM_SOURCE_DIR/configs/otc/navigation_3/base.textproto" \
  --run_dir "$tmp/run" --set dataset.path="$tmp/random.h5" --set learner.offline_updates=100 \
  --set learner.deployments.count=3 --set learner.deployments.transitions=60 \
  --set learner.deployments.updates=40 --set actors.num_actors=2 --set actors.envs_per_actor=4 \
  --set algorithm.otc.merged_minibatch=256 --set algorithm.otc.online_minibatch=64 \
  --set evaluation.episodes=2 --set run.progress_interval_seconds=1 >"$tmp/run.out" 2>&1 ||
  fail "tandem run: $(tail -5 "$tmp/run.out")"

csv="$tmp/run/deployments.csv"
if [[ ! -f "$csv" ]]; then
  fail "no deployments.csv"
else
  # M = 60 rounded up to a multiple of 2 actors x 4 envs = 64.
  expected=$'1,64,140,5064,64\n2,128,180,5128,64\n3,192,220,5192,64'
  got=$(awk -F, 'NR > 1 { print $1 "," $2 "," $3 "," $4 "," $5 }' "$csv")
  [[ "$got" == "$expected" ]] || fail "deployments.csv: expected"$'\n'"$expected"$'\n'"got"$'\n'"$got"
  awk -F, 'NR > 1 && $6 == "" { bad = 1 } END { exit bad }' "$csv" || fail "a deployment has no return"
fi
for k in 2 3; do
  grep -q "resumed from" "$tmp/run/logs/learner-$k.log" ||
    fail "deployment $k's learner did not resume from the previous checkpoint"
done
grep -q "deployment 3/3: 64 transitions collected (merged set 5192)" "$tmp/run.out" ||
  fail "the progress lines do not report the deployments"
grep -q "completed" "$tmp/run/summary.txt" || fail "summary: the run did not complete"

# tandem results: OTC's Table 1 layout and the deployment curves (Figure 3).
"$TANDEM" results "$tmp/run" --out "$tmp/results" >"$tmp/results.out" 2>&1 ||
  fail "tandem results: $(tail -3 "$tmp/results.out")"
grep -q "improvement at the last deployment" "$tmp/results.out" ||
  fail "tandem results printed no deployment table"
awk -F, 'NR == 2 && $1 == "otc-navigation-3-bcq" && $2 == 1 && $3 == 3 && $6 != "" { ok = 1 }
  END { exit !ok }' "$tmp/results/deployments.csv" ||
  fail "results deployments.csv: $(cat "$tmp/results/deployments.csv")"
[[ $(wc -l <"$tmp/results/deployments.dat") -eq 4 ]] ||
  fail "deployments.dat should hold the offline policy and 3 deployments"

if [[ $failed -gt 0 ]]; then
  echo "otc_run_test: $failed failure(s); run output:"
  tail -30 "$tmp/run.out"
  exit 1
fi
echo "otc_run_test: ok"
