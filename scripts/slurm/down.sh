#!/usr/bin/env bash
# Stops the daemons scripts/slurm/up.sh started, by the PIDs it recorded (slurmd and slurmctld first, munged last).
set -uo pipefail
STATE=${SLURM_TEST_STATE:-/tmp/robust-mri-slurm}
[ -s "$STATE/started.pids" ] || { echo "down.sh: no daemons were started by up.sh"; exit 0; }
stop() {  # name pid
  kill -0 "$2" 2>/dev/null || return 0
  kill -TERM "$2"
  for _ in $(seq 1 100); do kill -0 "$2" 2>/dev/null || { echo "down.sh: stopped $1 ($2)"; return 0; }; sleep 0.1; done
  echo "down.sh: $1 ($2) still running after 10 s"; return 1
}
status=0
for name in slurmd slurmctld munged; do
  pid=$(awk -v n="$name" '$1 == n {print $2}' "$STATE/started.pids")
  [ -n "$pid" ] && { stop "$name" "$pid" || status=1; }
done
: > "$STATE/started.pids"
exit $status
