#!/usr/bin/env bash
# Brings up a one-node Slurm on localhost for tests: installs slurm-wlm and munge from Debian's packages,
# writes /etc/slurm/slurm.conf, starts munged, slurmctld and slurmd. Needs root.
# The PIDs of the daemons it starts are written to $SLURM_TEST_STATE/started.pids; down.sh stops exactly those.
# If a Slurm controller already answers, it starts nothing and uses that one.
# Exit status: 0 = up, 2 = cannot run here (not root, packages unavailable), 1 = failed to start.
set -euo pipefail
STATE=${SLURM_TEST_STATE:-/tmp/robust-mri-slurm}
mkdir -p "$STATE"
: > "$STATE/started.pids"

[ "$(id -u)" -eq 0 ] || { echo "up.sh: needs root (installs packages, starts daemons)"; exit 2; }

if command -v sinfo >/dev/null && sinfo -h -o %T >/dev/null 2>&1; then
  echo "up.sh: a Slurm controller already answers; using it and starting nothing"
  exit 0
fi

export DEBIAN_FRONTEND=noninteractive
if ! command -v slurmctld >/dev/null || ! command -v munged >/dev/null || ! command -v jq >/dev/null; then
  apt-get update -q >/dev/null 2>&1 || { echo "up.sh: apt-get update failed (no network or no apt?)"; exit 2; }
  apt-get install -y -q --no-install-recommends slurm-wlm munge jq >/dev/null \
    || { echo "up.sh: apt-get install slurm-wlm munge jq failed"; exit 2; }
fi

# munge: the package's postinst generates /etc/munge/munge.key; systemd would make /run/munge.
[ -s /etc/munge/munge.key ] || runuser -u munge -- mungekey --create
install -d -o munge -g munge -m 0755 /run/munge
if ! { [ -s /run/munge/munged.pid ] && kill -0 "$(cat /run/munge/munged.pid)" 2>/dev/null; }; then
  rm -f /run/munge/munged.pid
  runuser -u munge -- /usr/sbin/munged
  for _ in $(seq 1 50); do [ -s /run/munge/munged.pid ] && break; sleep 0.1; done
  echo "munged $(cat /run/munge/munged.pid)" >> "$STATE/started.pids"
fi
munge -n | unmunge >/dev/null

H=$(hostname -s)
MEM=$(( $(free -m | awk '/^Mem:/{print $2}') - 512 ))
NCPU=$(nproc)
if [ -f /etc/slurm/slurm.conf ] && ! grep -q '^# robust-mri test cluster' /etc/slurm/slurm.conf; then
  cp /etc/slurm/slurm.conf "$STATE/slurm.conf.before"
  echo "up.sh: kept the previous /etc/slurm/slurm.conf in $STATE/slurm.conf.before"
fi
mkdir -p /etc/slurm
cat > /etc/slurm/slurm.conf <<CONF
# robust-mri test cluster (scripts/slurm/up.sh): one node on localhost
ClusterName=ci
SlurmctldHost=${H}(127.0.0.1)
SlurmUser=root
AuthType=auth/munge
CredType=cred/munge
MpiDefault=none
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/filetxt
JobCompLoc=/var/log/slurm/jobcomp.log
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
EnforcePartLimits=ALL
ReturnToService=2
MailProg=/bin/true
MinJobAge=600
SchedulerParameters=batch_sched_delay=0,sched_min_interval=0
StateSaveLocation=/var/spool/slurmctld
SlurmdSpoolDir=/var/spool/slurmd
SlurmctldPidFile=/run/slurmctld.pid
SlurmdPidFile=/run/slurmd.pid
SlurmctldLogFile=/var/log/slurm/slurmctld.log
SlurmdLogFile=/var/log/slurm/slurmd.log
NodeName=${H} NodeAddr=127.0.0.1 CPUs=${NCPU} RealMemory=${MEM} State=UNKNOWN
PartitionName=debug Nodes=${H} Default=YES MaxTime=INFINITE State=UP
CONF
install -d /var/spool/slurmctld /var/spool/slurmd /var/log/slurm

start() {  # daemon pidfile: the daemon forks and writes its PID file a moment later
  rm -f "$2"
  "$1"
  for _ in $(seq 1 100); do [ -s "$2" ] && break; sleep 0.1; done
  [ -s "$2" ] || { echo "up.sh: $1 wrote no $2"; tail -n 30 /var/log/slurm/*.log || true; exit 1; }
  echo "$1 $(cat "$2")" >> "$STATE/started.pids"
}
start slurmctld /run/slurmctld.pid
start slurmd /run/slurmd.pid
for _ in $(seq 1 60); do [ "$(sinfo -h -n "$H" -o %T 2>/dev/null)" = idle ] && break; sleep 0.5; done
if [ "$(sinfo -h -n "$H" -o %T 2>/dev/null)" != idle ]; then
  echo "up.sh: the node did not become idle"; sinfo || true; tail -n 30 /var/log/slurm/*.log || true
  exit 1
fi
echo "up.sh: Slurm is up: node $H, $NCPU CPUs, partition debug"
