#!/bin/bash
# End-to-end test of the Slurm job array of docs/cluster.md on this one machine (not part
# of `cargo test`): installs Slurm and MUNGE from the distribution's packages (Debian:
# slurm-wlm, munge), starts a single-node controller and node daemon from a throw-away
# configuration, submits reproduce-array.sbatch as an array of N shards and merge.sbatch
# as a job depending on it (afterok), waits, and checks that the merged summary.json is
# byte-identical to an unsharded `flowcert reproduce` of the same scale, run afterwards. The daemons it
# started are stopped and its files removed on exit, pass or fail; the packages stay.
#
#   sudo scripts/slurm/test-job-array.sh            # N = 3 shards of the --tiny scale
#   N=4 SCALE=--quick scripts/slurm/test-job-array.sh
#   FLOWCERT=/path/to/flowcert KEEP=1 scripts/slurm/test-job-array.sh   # keep the work dir
#
# Needs root (apt-get, munged, slurmd) and a Debian-like system without a running Slurm.
# Exit status 0 when the summaries match, 1 otherwise.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
N=${N:-3}
SCALE=${SCALE:---tiny}
PORT=${PORT:-16817}        # slurmctld; slurmd listens on PORT + 1
TIMEOUT=${TIMEOUT:-1800}   # seconds to wait for the jobs
WORK=$(mktemp -d /tmp/flowcert-slurm-test.XXXXXX)
chmod 755 "$WORK"
HOST=$(hostname -s)
started_pids=()
munged_started=0

log() { echo "[$(date +%T)] $*"; }
now() { date +%s%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", (b - a) / 1e9 }'; }

cleanup() {
    local status=$?
    set +e
    if [ -n "${SLURM_CONF:-}" ] && command -v scancel > /dev/null; then
        scancel --quiet --user="$(id -un)" 2> /dev/null
    fi
    for pid in "${started_pids[@]}"; do
        kill "$pid" 2> /dev/null && wait "$pid" 2> /dev/null
    done
    if [ "$munged_started" = 1 ] && [ -f "$WORK/munged.pid" ]; then
        kill "$(cat "$WORK/munged.pid")" 2> /dev/null
    fi
    if [ "${KEEP:-0}" = 1 ]; then
        log "kept $WORK"
    else
        rm -rf "$WORK"
    fi
    log "cleaned up (daemons stopped)"
    exit "$status"
}
trap cleanup EXIT INT TERM

[ "$(id -u)" = 0 ] || { echo "run as root (apt-get, munged, slurmd)" >&2; exit 2; }

# 1. Packages. policy-rc.d keeps the packages' init scripts from starting daemons of
#    their own (this script starts and stops exactly the ones it needs).
t0=$(now)
if ! command -v slurmctld > /dev/null || ! command -v munged > /dev/null; then
    log "installing slurm-wlm and munge (apt-get)"
    own_policy=0
    if [ ! -e /usr/sbin/policy-rc.d ]; then
        printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d
        chmod +x /usr/sbin/policy-rc.d
        own_policy=1
    fi
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq slurm-wlm munge > "$WORK/apt.log"
    [ "$own_policy" = 1 ] && rm -f /usr/sbin/policy-rc.d
fi
t_install=$(since "$t0")
log "packages ready: $(slurmctld -V), munge $(munged -V 2>&1 | head -1) (${t_install} s)"

# 2. flowcert.
FLOWCERT=${FLOWCERT:-$ROOT/target/release/flowcert}
if [ ! -x "$FLOWCERT" ]; then
    log "building flowcert (cargo build --release)"
    (cd "$ROOT" && cargo build --release --locked)
fi

# 3. MUNGE: a fresh key and a daemon of our own, on its own socket.
t1=$(now)
mkdir -p "$WORK/munge"
dd if=/dev/urandom of="$WORK/munge/munge.key" bs=1024 count=1 status=none
chmod 700 "$WORK/munge"
chmod 400 "$WORK/munge/munge.key"
export MUNGE_SOCKET="$WORK/munge/munge.socket"
munged --force --key-file="$WORK/munge/munge.key" --socket="$MUNGE_SOCKET" \
    --pid-file="$WORK/munged.pid" --log-file="$WORK/munged.log" \
    --seed-file="$WORK/munge/munged.seed"
munged_started=1
munge -n --socket="$MUNGE_SOCKET" | unmunge --socket="$MUNGE_SOCKET" > /dev/null
log "munged running (pid $(cat "$WORK/munged.pid"))"

# 4. A single-node cluster: this host, 2 CPUs, no accounting, no cgroups.
mkdir -p "$WORK/state" "$WORK/spool" "$WORK/jobs"
export SLURM_CONF="$WORK/slurm.conf"
cat > "$SLURM_CONF" << CONF
ClusterName=flowcert-test
SlurmctldHost=$HOST
SlurmctldPort=$PORT
SlurmdPort=$((PORT + 1))
SlurmUser=root
AuthType=auth/munge
AuthInfo=socket=$MUNGE_SOCKET
CredType=cred/munge
StateSaveLocation=$WORK/state
SlurmdSpoolDir=$WORK/spool
SlurmctldPidFile=$WORK/slurmctld.pid
SlurmdPidFile=$WORK/slurmd.pid
SlurmctldLogFile=$WORK/slurmctld.log
SlurmdLogFile=$WORK/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
SchedulerType=sched/backfill
MpiDefault=none
ReturnToService=2
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
JobCompType=jobcomp/none
MinJobAge=3600
NodeName=$HOST CPUs=2 State=UNKNOWN
PartitionName=test Nodes=$HOST Default=YES MaxTime=INFINITE State=UP
CONF
slurmctld -D -i -f "$SLURM_CONF" > "$WORK/slurmctld.out" 2>&1 &
started_pids+=($!)
slurmd -D -f "$SLURM_CONF" > "$WORK/slurmd.out" 2>&1 &
started_pids+=($!)
for _ in $(seq 60); do
    state=$(sinfo -h -n "$HOST" -o %T 2> /dev/null || true)
    [ "$state" = idle ] && break
    sleep 1
done
if [ "${state:-}" != idle ]; then
    log "node did not come up (state '${state:-}')"
    tail -n 20 "$WORK/slurmctld.log" "$WORK/slurmd.log" 2> /dev/null
    exit 1
fi
t_up=$(since "$t1")
log "slurmctld and slurmd up, node $HOST idle (${t_up} s)"

# 5. The array of N shards (1 CPU each, so two run at once on the 2 CPUs) and the merge.
t2=$(now)
cd "$WORK/jobs"
export N OUT="$WORK/run" FLOWCERT SCALE
array=$(sbatch --parsable --array="0-$((N - 1))" --cpus-per-task=1 \
    "$ROOT/scripts/slurm/reproduce-array.sbatch")
array=${array%%;*}
merge=$(sbatch --parsable --dependency="afterok:$array" --cpus-per-task=2 \
    "$ROOT/scripts/slurm/merge.sbatch")
merge=${merge%%;*}
log "submitted array job $array (N = $N, $SCALE) and merge job $merge (afterok:$array)"

deadline=$(($(date +%s) + TIMEOUT))
while [ -n "$(squeue -h -j "$array,$merge" 2> /dev/null)" ]; do
    [ "$(date +%s)" -lt "$deadline" ] || { log "timed out after $TIMEOUT s"; squeue; exit 1; }
    sleep 2
done
t_jobs=$(since "$t2")

# 6. The unsharded run to compare with (after the jobs, so that both times are clean).
t3=$(now)
"$FLOWCERT" reproduce $SCALE --out "$WORK/whole" > "$WORK/whole.log" 2>&1
t_whole=$(since "$t3")

status=0
for job in "$array" "$merge"; do
    states=$(scontrol -o show job "$job" | grep -o 'JobState=[A-Z_]*' | sort | uniq -c | tr '\n' ' ')
    log "job $job: $states"
    if scontrol -o show job "$job" | grep -o 'JobState=[A-Z_]*' | grep -qv COMPLETED; then
        status=1
    fi
done
if [ "$status" = 0 ] && cmp "$WORK/run/merged/summary.json" "$WORK/whole/summary.json"; then
    log "PASS: merged summary.json of $N shards equals the unsharded one" \
        "($(wc -c < "$WORK/whole/summary.json") bytes)"
else
    log "FAIL: see $WORK (kept)"
    cat "$WORK"/jobs/*.out 2> /dev/null | tail -n 40
    KEEP=1
    status=1
fi
t_all=$(since "$t0")
log "times: install ${t_install} s, daemons up ${t_up} s, array + merge ${t_jobs} s" \
    "(unsharded run ${t_whole} s), total ${t_all} s"
exit "$status"
