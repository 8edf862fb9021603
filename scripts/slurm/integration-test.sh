#!/usr/bin/env bash
# The real test of `robust-mri compare --slurm`: brings up a one-node Slurm (up.sh), submits a small phantom
# grid as a job array, waits, checks every record and the table, checks the records equal a local run of the
# same grid, makes one task fail, checks --status names it and its log, resubmits, checks the grid completes;
# then kills a task mid-run and checks the resubmission resumes it from its checkpoint.
# Stops the daemons it started (down.sh), also on failure.
# Usage: scripts/slurm/integration-test.sh /path/to/robust-mri   (a release build)
# Prints one line "SLURM INTEGRATION TEST: PASS | FAIL | SKIPPED (...)"; exits non-zero on FAIL.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
BIN=${1:?usage: integration-test.sh /path/to/robust-mri}
BIN=$(cd "$(dirname "$BIN")" && pwd)/$(basename "$BIN")
[ -x "$BIN" ] || { echo "SLURM INTEGRATION TEST: FAIL ($BIN is not an executable)"; exit 1; }
export SLURM_TEST_STATE=${SLURM_TEST_STATE:-/tmp/robust-mri-slurm}
WORK=$(mktemp -d /tmp/robust-mri-slurm-test.XXXXXX)
START=$SECONDS
fail() { echo "FAILED CHECK: $*"; echo "SLURM INTEGRATION TEST: FAIL ($*)"; exit 1; }
step() { echo "== [$((SECONDS - START)) s] $*"; }

step "bringing up Slurm"
set +e; bash "$HERE/up.sh"; up=$?; set -e
if [ $up -eq 2 ]; then echo "SLURM INTEGRATION TEST: SKIPPED (cannot bring up Slurm here: see above)"; exit 0; fi
trap 'bash "$HERE/down.sh"' EXIT
[ $up -eq 0 ] || fail "up.sh could not start Slurm"

# 1 method x 2 noises x 2 seeds = 4 runs of a few seconds each.
GRID=(--preset quick --methods naive --noises gaussian rician --seeds 1 2 --image-size 32 --channels 4,8 --epochs 2
      --phantom-count 60 --threads 1)
OUT=$WORK/cluster
RUNS=(naive-gaussian-seed1 naive-rician-seed1 naive-gaussian-seed2 naive-rician-seed2)

status() { "$BIN" compare "${GRID[@]}" --out "$OUT" --status; }
wait_for() {  # job id: wait until squeue lists no task of it as queued/running (bounded)
  local deadline=$((SECONDS + 120))
  while [ -n "$(squeue -h -j "$1" 2>/dev/null)" ]; do
    [ $SECONDS -lt $deadline ] || { squeue -j "$1" -o '%i %T %r' || true; scancel "$1" || true; fail "job $1 still queued after 120 s"; }
    sleep 1
  done
}
job_of() { sed -n 's/^Submitted job \([0-9]*\):.*/\1/p' <<<"$1"; }

step "submitting the grid"
out=$("$BIN" compare "${GRID[@]}" --out "$OUT" --slurm --max-concurrent 2 --time 10:00 --mem 1G)
echo "$out"
JOB=$(job_of "$out"); [ -n "$JOB" ] || fail "no job id in the submission's output"
grep -q "4 of 4 runs" <<<"$out" || fail "the first submission should send all 4 runs"
again=$("$BIN" compare "${GRID[@]}" --out "$OUT" --slurm)
echo "$again"
grep -q "^Submitted job" <<<"$again" && fail "submitting again while the tasks are queued sent them twice"

step "waiting for job $JOB"
wait_for "$JOB"
bad=$(squeue -h -t all -j "$JOB" -o '%T' | grep -vc '^COMPLETED$' || true)
[ "$bad" -eq 0 ] || { squeue -t all -j "$JOB" -o '%i %T %r'; fail "$bad task(s) of job $JOB did not complete"; }
s=$(status); echo "$s"
grep -q "^done 4," <<<"$s" || fail "status should show 4 runs done"
for id in "${RUNS[@]}"; do [ -s "$OUT/runs/$id.json" ] || fail "missing record runs/$id.json"; done
grep -q "4 of 4 runs finished" "$OUT/table.md" || fail "table.md should report 4 of 4 runs"
[ -s "$OUT/report.html" ] || fail "no report.html"
for i in 0 1 2 3; do [ -s "$OUT/slurm/logs/${JOB}_$i.out" ] || fail "no log for task $i"; done

step "the same grid locally"
"$BIN" compare "${GRID[@]}" --out "$WORK/local" >/dev/null 2>&1 || fail "the local run failed"
# Identical but for timings, dates and the machine.
norm='del(.trainSeconds, .totalSeconds, .finishedAt, .machine) | .epochs |= map(del(.seconds, .imagesPerSecond))'
for id in "${RUNS[@]}"; do
  diff <(jq -S "$norm" "$OUT/runs/$id.json") <(jq -S "$norm" "$WORK/local/runs/$id.json") \
    || fail "record $id differs between the Slurm run and the local run"
done
diff <(grep -v '^Data:' "$OUT/table.md") <(grep -v '^Data:' "$WORK/local/table.md") >/dev/null \
  || echo "note: table.md texts differ (timings); records are identical"

step "a task that fails"
FAULTY=naive-gaussian-seed2
rm -rf "$OUT/runs/$FAULTY" "$OUT/runs/$FAULTY.json"
echo "in the way" > "$OUT/runs/$FAULTY"   # a file where the run's folder goes: the run cannot write anything
out=$("$BIN" compare "${GRID[@]}" --out "$OUT" --slurm)
echo "$out"
JOB2=$(job_of "$out"); [ -n "$JOB2" ] || fail "no job id in the second submission"
grep -q "1 of 4 runs" <<<"$out" || fail "the second submission should send only the missing run"
wait_for "$JOB2"
[ "$(squeue -h -t all -j "$JOB2" -o '%T')" = FAILED ] || fail "the faulty task should end FAILED"
s=$(status) || true; echo "$s"
grep -q "^done 3, running 0, queued 0, failed 1," <<<"$s" || fail "status should show 3 done and 1 failed"
grep -q "failed   $FAULTY" <<<"$s" || fail "status should name the failed run"
grep -q "log: $OUT/slurm/logs/${JOB2}_0.out" <<<"$s" || fail "status should name the failed task's log"
[ -s "$OUT/slurm/logs/${JOB2}_0.out" ] || fail "the failed task's log is missing"
[ -s "$OUT/failed/$FAULTY.json" ] || fail "no failure note failed/$FAULTY.json"
[ ! -e "$OUT/runs/$FAULTY.json" ] || fail "the failed task left a record"

step "resubmitting"
rm -f "$OUT/runs/$FAULTY"
out=$("$BIN" compare "${GRID[@]}" --out "$OUT" --slurm)
echo "$out"
JOB3=$(job_of "$out"); [ -n "$JOB3" ] || fail "no job id in the resubmission"
grep -q "1 of 4 runs" <<<"$out" || fail "the resubmission should send only the failed run"
wait_for "$JOB3"
s=$(status); echo "$s"
grep -q "^done 4, running 0, queued 0, failed 0, missing 0" <<<"$s" || fail "the grid should be complete after resubmitting"
[ ! -e "$OUT/failed/$FAULTY.json" ] || fail "the failure note should be gone once the run succeeded"
diff <(jq -S "$norm" "$OUT/runs/$FAULTY.json") <(jq -S "$norm" "$WORK/local/runs/$FAULTY.json") \
  || fail "the resubmitted record differs from the local one"
out=$("$BIN" compare "${GRID[@]}" --out "$OUT" --slurm)
grep -q "nothing to submit" <<<"$out" || fail "a complete grid should submit nothing"

step "a task killed mid-run (as by a time limit or a lost node), then resumed"
LONG=(--preset quick --methods naive --noises gaussian --seeds 7 --image-size 64 --channels 8,16 --epochs 12
      --phantom-count 400 --threads 1)
OUT2=$WORK/killed
out=$("$BIN" compare "${LONG[@]}" --out "$OUT2" --slurm); echo "$out"
JOB4=$(job_of "$out"); [ -n "$JOB4" ] || fail "no job id for the long run"
LOG4=$OUT2/slurm/logs/${JOB4}_0.out
deadline=$((SECONDS + 60))
until grep -q "epoch 2/12" "$LOG4" 2>/dev/null; do
  [ $SECONDS -lt $deadline ] || fail "the long run did not reach epoch 2 within 60 s"
  [ -n "$(squeue -h -j "$JOB4")" ] || fail "the long run ended before it could be killed"
  sleep 0.2
done
scancel "$JOB4"
wait_for "$JOB4"
s=$("$BIN" compare "${LONG[@]}" --out "$OUT2" --status); echo "$s"
grep -q "^done 0, running 0, queued 0, failed 1," <<<"$s" || fail "status should show the killed run as failed"
grep -q "task ${JOB4}_0 CANCELLED" <<<"$s" || fail "status should show Slurm's state of the killed task"
grep -q "log: $LOG4" <<<"$s" || fail "status should name the killed task's log"
[ ! -e "$OUT2/runs/naive-gaussian-seed7.json" ] || fail "the killed task left a record"
[ -s "$OUT2/runs/naive-gaussian-seed7/checkpoint.safetensors" ] || fail "the killed task left no checkpoint to resume from"
out=$("$BIN" compare "${LONG[@]}" --out "$OUT2" --slurm); echo "$out"
JOB5=$(job_of "$out"); [ -n "$JOB5" ] || fail "the killed run was not resubmitted"
wait_for "$JOB5"
grep -q "resuming .* after epoch" "$OUT2/slurm/logs/${JOB5}_0.out" || fail "the resubmitted run did not resume from its checkpoint"
s=$("$BIN" compare "${LONG[@]}" --out "$OUT2" --status | head -n 1); echo "$s"
grep -q "^done 1, running 0, queued 0, failed 0, missing 0" <<<"$s" || fail "the resubmitted run should be done"
[ "$(jq '.epochs | length' "$OUT2/runs/naive-gaussian-seed7.json")" = 12 ] || fail "the resumed record should hold 12 epochs"

rm -rf "$WORK"
echo "SLURM INTEGRATION TEST: PASS ($((SECONDS - START)) s; jobs $JOB $JOB2 $JOB3 $JOB4 $JOB5)"
