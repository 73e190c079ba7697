#!/usr/bin/env bash
# The SLURM profile on a real cluster: a single-node SLURM cluster on this machine (Debian's slurm-wlm,
# with job accounting through slurmdbd and a private MariaDB, as on production clusters), then the whole
# smoke DAG submitted through a copy of profiles/slurm, every output checked, and a short report.
# Not part of pytest or CI: it needs root and apt, and takes about 15 minutes on 2 CPUs.
#
#   bash tests/cluster/run_slurm_smoke.sh         install what is missing, start the cluster, run, report,
#                                                  then stop the daemons this invocation started
#   bash tests/cluster/run_slurm_smoke.sh start   install and start the cluster; leave it running
#   bash tests/cluster/run_slurm_smoke.sh stop    stop the daemons this script started (never others)
#   bash tests/cluster/run_slurm_smoke.sh status
#
# Everything the cluster writes lives in $SLURM_SMOKE_STATE (default /var/tmp/plasticity-slurm): configs,
# spool, logs, the database; nothing under /etc is written. slurmd runs configless: it fetches the config
# from slurmctld and links its copy at /run/slurm/conf, where client commands on this machine find it
# (`sinfo`, `sacct` work without SLURM_CONF). That matters: the plugin's job step removes SLURM_CONF
# from the environment of the `srun` it runs inside each job, so a config only named by SLURM_CONF is
# not found there. munged is the system one: reused when it runs, else started (and stopped by `stop`).
# The node also advertises one fake GPU (gres on /dev/null) for the `device=cuda` check.
# Environment: KEEP_CLUSTER=1 leaves the daemons running after a run; KEEP_WORKDIR=1 keeps the repo copy
# (removed after a passing run); SMOKE_TIMEOUT: seconds the DAG may take (default 1800);
# SLURM_SMOKE_DB_PORT: the MariaDB port on 127.0.0.1 (default 13306).
# Exits non-zero on any failure. The state folder stays for the next run (the database is kept);
# remove everything with `bash tests/cluster/run_slurm_smoke.sh stop && rm -rf /var/tmp/plasticity-slurm`
# (and `apt-get purge` the packages if you want them gone).
set -euo pipefail

REPO=$(cd "$(dirname "$0")/../.." && pwd)
STATE=${SLURM_SMOKE_STATE:-/var/tmp/plasticity-slurm}
DB_PORT=${SLURM_SMOKE_DB_PORT:-13306}
CLUSTER=plasticity
ACCOUNT=plasticity
PARTITION=smoke
PACKAGES=(slurm-wlm slurmdbd munge mariadb-server)
export SLURM_CONF=$STATE/etc/slurm.conf
STARTED=() # daemons this invocation started, stopped again at exit unless KEEP_CLUSTER=1

say() { printf '[slurm-smoke %(%H:%M:%S)T] %s\n' -1 "$*"; }
die() { say "FAILED: $*" >&2; exit 1; }

# wait_for SECONDS DESCRIPTION COMMAND...: poll COMMAND every second until it succeeds.
wait_for() {
    local seconds=$1 what=$2
    shift 2
    for ((i = 0; i < seconds; i++)); do
        if "$@" > /dev/null 2>&1; then return 0; fi
        sleep 1
    done
    die "$what not reached within ${seconds}s"
}

# A daemon is ours when the marker written when we started it exists and its pid file names a live
# process of that program. Pid files: $STATE/run/NAME.pid, or in a folder the daemon's user owns.
pid_file() {
    case $1 in
        munged) echo /run/munge/munged.pid ;; # munged refuses folders other users own
        mariadbd) echo "$STATE/run/mysql/mariadbd.pid" ;;
        *) echo "$STATE/run/$1.pid" ;;
    esac
}

pid_of() { # NAME -> the pid if our daemon NAME runs
    local name=$1 pid
    [[ -f $STATE/run/$name.ours && -f $(pid_file "$name") ]] || return 1
    pid=$(< "$(pid_file "$name")")
    [[ $pid =~ ^[0-9]+$ && -r /proc/$pid/comm ]] || return 1
    [[ $(< "/proc/$pid/comm") == "$name"* ]] || return 1
    echo "$pid"
}

stop_daemon() {
    local name=$1 pid
    if pid=$(pid_of "$name"); then
        say "stopping $name (pid $pid)"
        kill "$pid"
        for ((i = 0; i < 30; i++)); do [[ -d /proc/$pid ]] || break; sleep 1; done
        [[ -d /proc/$pid ]] && die "$name (pid $pid) did not stop within 30s"
    fi
    rm -f "$STATE/run/$name.ours"
    # slurmd leaves its link to the config copy behind
    if [[ $name == slurmd && $(readlink /run/slurm/conf 2> /dev/null) == "$STATE/"* ]]; then rm -f /run/slurm/conf; fi
}

stop_all() { for name in slurmd slurmctld slurmdbd mariadbd munged; do stop_daemon "$name"; done; }

port_free() { ! ss -Hltn "sport = :$1" | grep -q .; }

install_packages() {
    local missing=()
    for pkg in "${PACKAGES[@]}"; do
        dpkg-query -W -f='${Status}' "$pkg" 2> /dev/null | grep -q "install ok installed" || missing+=("$pkg")
    done
    if ((${#missing[@]})); then
        [[ $(id -u) -eq 0 ]] || die "installing ${missing[*]} needs root"
        say "installing ${missing[*]}"
        apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" > /dev/null
    fi
}

write_configs() {
    install -d -m 0755 "$STATE" "$STATE/etc"
    install -d -m 0755 -o slurm -g slurm "$STATE/run" "$STATE/log" "$STATE/spool/ctld"
    install -d -m 0755 "$STATE/spool/d"
    if [[ ! -f $STATE/etc/db.pass ]]; then
        (umask 077 && head -c 18 /dev/urandom | base64 | tr -d '/+=' > "$STATE/etc/db.pass")
    fi
    local host node
    host=$(hostname -s)
    # The node as slurmd sees it: its real CPU layout and memory (`slurmd -C`, first line).
    node=$(slurmd -C | head -n 1)
    [[ $node == "NodeName=$host "* ]] || die "unexpected 'slurmd -C' output: $node"
    cat > "$STATE/etc/slurm.conf" << EOF
# Written by tests/cluster/run_slurm_smoke.sh: a one-node cluster on this machine.
ClusterName=$CLUSTER
SlurmctldHost=$host(127.0.0.1)
SlurmUser=slurm
AuthType=auth/munge
StateSaveLocation=$STATE/spool/ctld
SlurmdSpoolDir=$STATE/spool/d
SlurmctldPidFile=$STATE/run/slurmctld.pid
SlurmdPidFile=$STATE/run/slurmd.pid
SlurmctldLogFile=$STATE/log/slurmctld.log
SlurmdLogFile=$STATE/log/slurmd.log
# No cgroups: processes tracked through /proc, no CPU binding (works in containers and VMs).
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/linux
JobAcctGatherFrequency=5
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
ReturnToService=2
SlurmctldParameters=enable_configless
GresTypes=gpu
# Job accounting through slurmdbd: the plugin queries job states with sacct.
AccountingStorageType=accounting_storage/slurmdbd
AccountingStorageHost=localhost
AccountingStoreFlags=job_comment
AccountingStorageTRES=gres/gpu
$node Gres=gpu:1 NodeAddr=127.0.0.1 State=UNKNOWN
PartitionName=$PARTITION Nodes=$host Default=YES MaxTime=INFINITE State=UP
EOF
    cat > "$STATE/etc/gres.conf" << EOF
# One GPU that only exists for the scheduler (SLURM drops a GPU without a device file, so /dev/null):
# jobs asking for --gpus=1 are allocated it; torch finds no CUDA device.
NodeName=$host Name=gpu File=/dev/null
EOF
    cat > "$STATE/etc/slurmdbd.conf" << EOF
# Written by tests/cluster/run_slurm_smoke.sh: accounting in the MariaDB on 127.0.0.1:$DB_PORT.
AuthType=auth/munge
DbdHost=localhost
SlurmUser=slurm
PidFile=$STATE/run/slurmdbd.pid
LogFile=$STATE/log/slurmdbd.log
StorageType=accounting_storage/mysql
StorageHost=127.0.0.1
StoragePort=$DB_PORT
StorageUser=slurm
StoragePass=$(< "$STATE/etc/db.pass")
StorageLoc=slurm_acct_db
EOF
    chown slurm:slurm "$STATE/etc/slurmdbd.conf"
    chmod 600 "$STATE/etc/slurmdbd.conf"
}

start_munge() {
    if munge -n < /dev/null 2> /dev/null | unmunge > /dev/null 2>&1; then return; fi # a running munged: reuse it
    install -d -m 0755 -o munge -g munge /run/munge
    runuser -u munge -- munged --pid-file="$(pid_file munged)"
    touch "$STATE/run/munged.ours"
    STARTED+=(munged)
    wait_for 20 "munged answering" sh -c 'munge -n < /dev/null | unmunge'
}

start_mariadb() {
    local sock=$STATE/run/mysql/mariadb.sock
    if ! pid_of mariadbd > /dev/null; then
        port_free "$DB_PORT" || die "port $DB_PORT is taken (set SLURM_SMOKE_DB_PORT)"
        if [[ ! -d $STATE/mysql/mysql ]]; then
            install -d -m 0750 -o mysql -g mysql "$STATE/mysql"
            mariadb-install-db --no-defaults --user=mysql --datadir="$STATE/mysql" --skip-test-db \
                --auth-root-authentication-method=socket > "$STATE/log/mariadb-install.log" 2>&1
        fi
        install -d -m 0755 -o mysql -g mysql "$STATE/run/mysql"
        setsid mariadbd --no-defaults --user=mysql --datadir="$STATE/mysql" --socket="$sock" \
            --port="$DB_PORT" --bind-address=127.0.0.1 --pid-file="$(pid_file mariadbd)" \
            --log-error="$STATE/log/mariadb.log" < /dev/null > /dev/null 2>&1 &
        touch "$STATE/run/mariadbd.ours"
        STARTED+=(mariadbd)
        wait_for 60 "MariaDB answering" mariadb-admin --no-defaults --socket="$sock" ping
    fi
    local pass
    pass=$(< "$STATE/etc/db.pass")
    mariadb --no-defaults --socket="$sock" -u root << EOF
CREATE USER IF NOT EXISTS 'slurm'@'127.0.0.1' IDENTIFIED BY '$pass';
ALTER USER 'slurm'@'127.0.0.1' IDENTIFIED BY '$pass';
GRANT ALL ON slurm_acct_db.* TO 'slurm'@'127.0.0.1';
EOF
}

start_slurm() {
    if ! pid_of slurmdbd > /dev/null; then
        port_free 6819 || die "port 6819 (slurmdbd) is taken by a daemon this script did not start"
        touch "$STATE/run/slurmdbd.ours"
        slurmdbd # finds slurmdbd.conf next to \$SLURM_CONF
        STARTED+=(slurmdbd)
        wait_for 60 "slurmdbd answering" sacctmgr -n list cluster
    fi
    sacctmgr -n -P list cluster format=cluster | grep -qx "$CLUSTER" || sacctmgr -i add cluster "$CLUSTER" > /dev/null
    sacctmgr -n -P list account format=account | grep -qx "$ACCOUNT" ||
        sacctmgr -i add account "$ACCOUNT" cluster="$CLUSTER" description=smoke organization=plasticity > /dev/null
    sacctmgr -n -P list association user="$(id -un)" account="$ACCOUNT" format=account | grep -qx "$ACCOUNT" ||
        sacctmgr -i add user "$(id -un)" account="$ACCOUNT" cluster="$CLUSTER" > /dev/null
    if ! pid_of slurmctld > /dev/null; then
        port_free 6817 || die "port 6817 (slurmctld) is taken by a daemon this script did not start"
        touch "$STATE/run/slurmctld.ours"
        slurmctld -f "$SLURM_CONF"
        STARTED+=(slurmctld)
        wait_for 60 "slurmctld answering" scontrol ping
    fi
    if ! pid_of slurmd > /dev/null; then
        port_free 6818 || die "port 6818 (slurmd) is taken by a daemon this script did not start"
        touch "$STATE/run/slurmd.ours"
        slurmd --conf-server 127.0.0.1:6817 # configless: see the top of this file
        STARTED+=(slurmd)
    fi
    # A drain saved in slurmctld's state (e.g. by a run with another config) outlives the restart.
    local host state
    host=$(hostname -s)
    for ((i = 0; i < 90; i++)); do
        state=$(sinfo -h -N -n "$host" -o %T)
        [[ $state == idle ]] && break
        if [[ $state == drain* ]]; then
            say "node $state ($(sinfo -h -N -n "$host" -o %E)); resuming it"
            scontrol update NodeName="$host" State=RESUME
        fi
        sleep 1
    done
    [[ $state == idle ]] || die "node $host is '$state', not idle, after 90s (see $STATE/log/)"
    say "cluster up: $(sinfo -h -N -o '%N %T cpus=%c mem=%mMB partition=%P')"
}

start_cluster() {
    [[ $(id -u) -eq 0 ]] || die "run as root: it installs packages and starts daemons"
    # srun inside jobs would read it before slurmd's configless copy and talk to another cluster.
    [[ ! -e /etc/slurm/slurm.conf ]] || die "/etc/slurm/slurm.conf exists: this machine has its own SLURM setup"
    install_packages
    if ! pid_of slurmctld > /dev/null; then write_configs; fi # a running cluster keeps its config
    start_munge
    start_mariadb
    start_slurm
}

on_exit() {
    local status=$?
    if ((${#STARTED[@]})) && [[ ${KEEP_CLUSTER:-0} != 1 ]]; then
        for ((k = ${#STARTED[@]} - 1; k >= 0; k--)); do stop_daemon "${STARTED[k]}" || true; done
    fi
    if [[ -n ${WORK:-} && -d $WORK ]]; then
        if [[ $status -eq 0 && ${KEEP_WORKDIR:-0} != 1 ]]; then rm -rf "$WORK"; else say "repo copy kept: $WORK"; fi
    fi
    exit "$status"
}

run_smoke() {
    local snakemake=$REPO/.venv/bin/snakemake
    [[ -x $snakemake ]] || die "$snakemake is missing: run envs/setup.sh"
    "$REPO/.venv/bin/python" -c "import snakemake_executor_plugin_slurm" 2> /dev/null ||
        die "the SLURM executor plugin is not in .venv: .venv/bin/pip install -e '.[test]'"
    trap on_exit EXIT
    start_cluster

    # A fresh copy of the working tree (tracked and untracked, not ignored files: uncommitted changes
    # included), sharing the repo's .venv.
    WORK=$(mktemp -d /var/tmp/plasticity-slurm-smoke.XXXXXX)
    (cd "$REPO" && git ls-files -z --cached --others --exclude-standard) |
        rsync -a --from0 --files-from=- "$REPO/" "$WORK/"
    ln -s "$REPO/.venv" "$WORK/.venv"
    cd "$WORK"

    # The user's steps: copy the profile, set account and partition.
    cp -r profiles/slurm profile-test
    sed -i -e "s|^  # slurm_account: .*|  slurm_account: \"$ACCOUNT\"|" \
        -e "s|^  # slurm_partition: .*|  slurm_partition: \"$PARTITION\"|" profile-test/config.yaml
    if ! grep -q "^  slurm_account: \"$ACCOUNT\"" profile-test/config.yaml ||
        ! grep -q "^  slurm_partition: \"$PARTITION\"" profile-test/config.yaml; then
        die "profiles/slurm/config.yaml has no '# slurm_account:' / '# slurm_partition:' placeholder lines"
    fi

    .venv/bin/snakemake --config scale=smoke --summary 2> /dev/null |
        awk -F'\t' 'NR > 1 && NF > 1 {print $1}' > expected-outputs.txt
    local expected
    expected=$(wc -l < expected-outputs.txt)
    ((expected > 0)) || die "no expected outputs from 'snakemake --summary'"

    # Only the status polling is tuned for a fast test: the first query after 2 s, not 20 s.
    say "running the smoke DAG through profile-test/ ($expected output files expected); log: $WORK/snakemake.log"
    (while sleep 2; do squeue -h -o %T | sort | uniq -c | tr -s ' \n' ' '; echo; done > squeue-samples.txt) &
    local sampler=$! started finished status=0
    started=$(date +%s)
    timeout -k 120 "${SMOKE_TIMEOUT:-1800}" .venv/bin/snakemake --profile profile-test \
        --slurm-init-seconds-before-status-checks 2 --config scale=smoke > snakemake.log 2>&1 || status=$?
    finished=$(date +%s)
    kill "$sampler"
    wait "$sampler" 2> /dev/null || true
    if ((status != 0)); then
        tail -n 40 snakemake.log >&2
        die "snakemake exited with status $status (timeout ${SMOKE_TIMEOUT:-1800}s gives 124)"
    fi

    local absent=0
    while read -r file; do
        [[ -s $file ]] || { say "missing or empty: $file" >&2; absent=$((absent + 1)); }
    done < expected-outputs.txt
    ((absent == 0)) || die "$absent of $expected outputs missing or empty"
    .venv/bin/snakemake --profile profile-test --config scale=smoke --dry-run > rerun.log 2>&1 ||
        die "the dry run after the DAG failed: $(tail -n 5 rerun.log)"
    grep -q "Nothing to be done" rerun.log || die "a dry run after the DAG still has jobs to do (see $WORK/rerun.log)"

    local run_id submitted
    run_id=$(sed -n 's/.*SLURM run ID: \([0-9a-f-]*\).*/\1/p' snakemake.log | head -n 1)
    submitted=$(grep -c "has been submitted with SLURM jobid" snakemake.log || true)
    [[ -n $run_id ]] || die "no 'SLURM run ID' in snakemake.log"
    sacct -n -P -S "$(date -d "@$started" +%Y-%m-%dT%H:%M:%S)" --name "$run_id" -o JobID,State,Elapsed,MaxRSS,ReqMem,Timelimit,Comment > sacct.txt
    echo
    say "PASSED: smoke DAG on SLURM"
    echo "  wall time:        $((finished - started)) s (snakemake start to end, $(nproc) CPUs, 1 node)"
    echo "  jobs:             $submitted submitted with sbatch; $(grep -o '[0-9]* of [0-9]* steps (100%) done' snakemake.log | tail -n 1)"
    echo "  outputs:          all $expected present and non-empty; a dry run has nothing left to do"
    echo "  squeue samples:   at most $(awk '{for (i = 1; i < NF; i += 2) if ($(i + 1) == "RUNNING" && $i > m) m = $i} END {print m + 0}' squeue-samples.txt) running and $(awk '{for (i = 1; i < NF; i += 2) if ($(i + 1) == "PENDING" && $i > m) m = $i} END {print m + 0}' squeue-samples.txt) pending at once"
    "$REPO/.venv/bin/python" - sacct.txt << 'EOF'
"""Per rule from sacct: jobs, their final states, mean and max elapsed time, peak memory against the request,
time limit; train and retrain_ticket jobs must have the smoke scale's job_runtime_min x seeds_per_job as limit."""
import sys
from collections import defaultdict

import yaml

def seconds(elapsed: str) -> int:
    days, _, clock = elapsed.rpartition("-")
    h, m, s = (int(x) for x in clock.split(":"))
    return int(days or 0) * 86400 + h * 3600 + m * 60 + s

def mb(size: str) -> float:
    units = {"K": 1 / 1024, "M": 1, "G": 1024, "T": 1024 ** 2}
    return float(size[:-1]) * units[size[-1]] if size and size[-1] in units else float(size or 0) / 2 ** 20

jobs = {}
for line in open(sys.argv[1]):
    jobid, state, elapsed, maxrss, reqmem, timelimit, comment = line.rstrip("\n").split("|")
    job = jobs.setdefault(jobid.split(".")[0], {"rss": 0.0})
    if "." not in jobid:  # the allocation: state, time, request and the rule (in the comment)
        job.update(state=state.split()[0], elapsed=seconds(elapsed), req=mb(reqmem), limit=seconds(timelimit) // 60,
                   rule=comment.removeprefix("rule_").split("_wildcards_")[0])
    job["rss"] = max(job["rss"], mb(maxrss))
rules = defaultdict(list)
for job in jobs.values():
    rules[job.get("rule", "?")].append(job)
print(f"  sacct ({len(jobs)} jobs of this run):")
print(f"    {'rule':<18} {'jobs':>4}  {'states':<14} {'mean s':>6} {'max s':>5}  {'peak RSS MB':>11} {'requested MB':>12}"
      f" {'limit min':>9}")
for rule, group in sorted(rules.items()):
    states = ",".join(sorted({job.get("state", "?") for job in group}))
    times = [job.get("elapsed", 0) for job in group]
    print(f"    {rule:<18} {len(group):>4}  {states:<14} {sum(times) / len(times):>6.1f} {max(times):>5}"
          f"  {max(job['rss'] for job in group):>11.0f} {max(job.get('req', 0) for job in group):>12.0f}"
          f" {','.join(sorted({str(job.get('limit', '?')) for job in group})):>9}")
bad = [jobid for jobid, job in jobs.items() if job.get("state") != "COMPLETED"]
if bad:
    sys.exit(f"jobs not COMPLETED in sacct: {bad}")
smoke = yaml.safe_load(open("config.yaml"))["scales"]["smoke"]
runtime = smoke["job_runtime_min"] * smoke.get("seeds_per_job", 1)  # per run, and a job trains seeds_per_job runs
wrong = [jobid for jobid, job in jobs.items()
         if job.get("rule", "").startswith(("train_", "retrain_ticket_")) and job.get("limit") != runtime]
if wrong:
    sys.exit(f"train/retrain_ticket jobs without job_runtime_min x seeds_per_job ({runtime} min) as time limit: {wrong}")
EOF
    gpu_check
    squeue_status_check
    echo "  logs:             $WORK/snakemake.log, SLURM logs of failed jobs in $WORK/logs/slurm/, daemons in $STATE/log/"
}

# device=cuda: train asks for gpu=1, which the plugin turns into `sbatch --gpus=1`. The job must be
# allocated this node's (fake) GPU; what it does with it does not matter: here torch finds no CUDA device
# and the job fails, on a machine with a real GPU it may succeed.
gpu_check() {
    local target job slurm_log alloc state since
    since=$(date +%Y-%m-%dT%H:%M:%S)
    target=$(grep -m 1 '/train/epochs\.csv$' expected-outputs.txt)
    .venv/bin/snakemake --profile profile-test --slurm-init-seconds-before-status-checks 2 "$target" \
        --config scale=smoke device=cuda > gpu.log 2>&1 || true
    read -r job slurm_log < <(sed -n 's/.*submitted with SLURM jobid \([0-9]*\) (log: \(.*\))\./\1 \2/p' gpu.log) || true
    [[ -n $job ]] || die "device=cuda: no job submitted (see $WORK/gpu.log)"
    IFS='|' read -r alloc state < <(sacct -n -X -P -S "$since" -j "$job" -o AllocTRES,State)
    [[ $alloc == *gres/gpu=1* ]] || die "device=cuda: job $job was allocated '$alloc', no gres/gpu=1"
    echo "  device=cuda:      train job $job allocated $alloc; $state"
    # A failed job's SLURM log is kept; its last exception says why.
    [[ $state == COMPLETED ]] || echo "                    $(grep -E '^[A-Za-z.]*Error: ' "$slurm_log" 2> /dev/null | tail -n 1 | cut -c 1-100)"
}

# Clusters without accounting use `slurm-status-command: squeue` (README): with it Snakemake must still see a
# job end. One ticket output is deleted and rebuilt (with the train run gpu_check left failed, if it is the
# ticket's source) through squeue-only status queries.
squeue_status_check() {
    local target started
    target=$(grep -m 1 '/ticket/epochs\.csv$' expected-outputs.txt)
    rm "$target"
    started=$(date +%s)
    timeout 300 .venv/bin/snakemake --profile profile-test --slurm-status-command squeue \
        --slurm-init-seconds-before-status-checks 2 "$target" --config scale=smoke > squeue.log 2>&1 ||
        die "status by squeue: snakemake failed or waited over 300 s for one job (see $WORK/squeue.log)"
    [[ -s $target ]] || die "status by squeue: $target was not rebuilt (see $WORK/squeue.log)"
    echo "  status by squeue: $target rebuilt, seen as finished after $(($(date +%s) - started)) s"
}

case ${1:-run} in
    run) run_smoke ;;
    start) start_cluster; say "left running; stop it with: bash $0 stop" ;;
    stop) stop_all ;;
    status)
        for name in munged mariadbd slurmdbd slurmctld slurmd; do
            if pid=$(pid_of "$name"); then echo "$name: running (pid $pid, started by this script)"; else echo "$name: not started by this script"; fi
        done
        sinfo 2> /dev/null || true
        ;;
    *) die "usage: $0 [run|start|stop|status]" ;;
esac
