#!/usr/bin/env bash
# A single-node Slurm on this machine, for tests/test_slurm.py: munged, MariaDB, slurmdbd, slurmctld, slurmd.
#
#   tests/slurm/cluster.sh test          # install what is missing, bring the cluster up, run the Slurm tests,
#                                        # stop every daemon it started (also when the tests fail); CI runs this
#   tests/slurm/cluster.sh up STATE      # bring it up with its files in the folder STATE (must not exist yet)
#   tests/slurm/cluster.sh down STATE    # stop the daemons started by `up STATE` (by PID) and remove STATE
#
# No systemd is needed: every daemon runs in the foreground (-D/-F) as a background process of this script,
# its PID recorded in STATE/pids; each start is followed by a bounded wait for the daemon to answer.
# Everything listens on loopback. The daemons' files live in STATE; slurm.conf and slurmdbd.conf must be in
# /etc/slurm (the executor's job step drops SLURM_CONF from the job's environment, so srun inside a job reads
# the default place): `up` writes them there, marked as ours, and refuses when a slurm.conf not written by
# this script is there already; `down` removes them. Needs root (munged and mariadbd run as their own users)
# and Debian's slurm-wlm, slurmdbd, munge and mariadb-server, which `test` installs when missing. What the
# profile does on it: README, "On a cluster".
set -euo pipefail

DB_PORT=${NNBENCH_SLURM_DB_PORT:-3307}   # MariaDB's TCP port on 127.0.0.1 (not 3306: a system server may own it)
WAIT_SECONDS=${NNBENCH_SLURM_WAIT:-60}   # the bound of each wait for a daemon to answer
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
CONF_DIR=/etc/slurm
MARK="# Written by tests/slurm/cluster.sh"  # the first line of the config files this script writes and removes

LAST_PID=0  # the PID of the daemon started last (start)

log() { echo "[slurm] $*" >&2; }

# wait_for SECONDS DESCRIPTION COMMAND...: run COMMAND every 0.2 s until it succeeds; fail after SECONDS, or
# at once when the daemon started last has died.
wait_for() {
    local seconds=$1 what=$2 deadline
    shift 2
    deadline=$((SECONDS + seconds))
    until "$@" >/dev/null 2>&1; do
        if ! kill -0 "$LAST_PID" 2>/dev/null; then
            log "PID $LAST_PID exited while waiting for: $what"
            return 1
        fi
        if ((SECONDS >= deadline)); then
            log "gave up after ${seconds} s waiting for: $what"
            return 1
        fi
        sleep 0.2
    done
}

# start STATE NAME COMMAND...: start COMMAND in the background, output to STATE/NAME.out, PID to STATE/pids.
start() {
    local state=$1 name=$2
    shift 2
    "$@" >"$state/$name.out" 2>&1 &
    LAST_PID=$!
    echo "$name $LAST_PID" >>"$state/pids"
    log "started $name (PID $LAST_PID)"
}

ensure_packages() {
    local missing=()
    command -v slurmctld >/dev/null || missing+=(slurm-wlm)
    command -v slurmdbd >/dev/null || missing+=(slurmdbd)
    command -v munged >/dev/null || missing+=(munge)
    command -v mariadbd >/dev/null || missing+=(mariadb-server)
    if ((${#missing[@]})); then
        log "installing ${missing[*]}"
        apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
    fi
}

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
munge_answers() { munge -n | unmunge; }
node_idle() { [[ "$(sinfo -h -N -o %T)" == idle ]]; }

write_configs() {
    local state=$1 host cpus mem_mb
    host=$(hostname -s)
    cpus=$(nproc)
    mem_mb=$(($(awk '/^MemTotal/ {print $2}' /proc/meminfo) / 1024 * 9 / 10))  # 90 % of the machine's memory
    mkdir -p "$CONF_DIR"
    cat >"$CONF_DIR/slurm.conf" <<EOF
$MARK (STATE $state): a single-node cluster for the tests.
ClusterName=nnbench
SlurmctldHost=$host
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
StateSaveLocation=$state/slurmctld
SlurmdSpoolDir=$state/slurmd
SlurmctldPidFile=$state/slurmctld.pid
SlurmdPidFile=$state/slurmd.pid
SlurmctldLogFile=$state/slurmctld.log
SlurmdLogFile=$state/slurmd.log
# No cgroups here: the Linux process tracker, no task plugin.
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
# Cores are the consumable resource; memory is asked for (--mem) and checked against RealMemory, without
# CR_Core_Memory, where a job with no --mem would take the whole node.
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
SchedulerType=sched/backfill
ReturnToService=2
MpiDefault=none
# Accounting through slurmdbd: the executor plugin reads job states with sacct.
AccountingStorageType=accounting_storage/slurmdbd
AccountingStorageHost=$host
JobAcctGatherType=jobacct_gather/linux
JobCompType=jobcomp/none
# sacct shows the comment the executor gives each submission (rule_NAME, or rule_GROUP_RULES for a group).
AccountingStoreFlags=job_comment
MinJobAge=300
NodeName=$host CPUs=$cpus RealMemory=$mem_mb State=UNKNOWN
PartitionName=main Nodes=$host Default=YES MaxTime=INFINITE State=UP
EOF
    cat >"$CONF_DIR/slurmdbd.conf" <<EOF
$MARK (STATE $state)
AuthType=auth/munge
DbdHost=$host
SlurmUser=root
PidFile=$state/slurmdbd.pid
LogFile=$state/slurmdbd.log
StorageType=accounting_storage/mysql
StorageHost=127.0.0.1
StoragePort=$DB_PORT
StorageUser=slurm
StoragePass=nnbench
StorageLoc=slurm_acct_db
EOF
    chmod 600 "$CONF_DIR/slurmdbd.conf"
}

up() {
    local state=$1 sql
    [[ ! -e "$state" ]] || { log "$state exists: give a new folder"; return 1; }
    [[ $(id -u) == 0 ]] || { log "needs root (munged and mariadbd run as their own users)"; return 1; }
    for port in 6817 6818 6819 "$DB_PORT"; do
        if port_open "$port"; then log "port $port on 127.0.0.1 is in use: is another cluster running?"; return 1; fi
    done
    for f in "$CONF_DIR/slurm.conf" "$CONF_DIR/slurmdbd.conf"; do
        if [[ -e $f ]] && [[ "$(head -c ${#MARK} "$f")" != "$MARK" ]]; then
            log "$f exists and was not written by this script: this machine has its own Slurm; not touching it"
            return 1
        fi
    done
    mkdir -p "$state/slurmctld" "$state/slurmd"
    chmod 755 "$state"
    : >"$state/pids"
    write_configs "$state"

    # munge: the machine's own munged when one answers already, else one of ours.
    if ! munge_answers >/dev/null 2>&1; then
        [[ -s /etc/munge/munge.key ]] || mungekey --create --keyfile=/etc/munge/munge.key
        mkdir -p /run/munge && chown munge:munge /run/munge && chmod 755 /run/munge
        start "$state" munged setpriv --reuid=munge --regid=munge --init-groups munged -F
        wait_for "$WAIT_SECONDS" "munge -n | unmunge" munge_answers || return 1
    fi

    # MariaDB with its data in STATE, on 127.0.0.1:DB_PORT and its own socket, a database and user for slurmdbd.
    mkdir -p "$state/mysql" && chown mysql:mysql "$state/mysql"
    mariadb-install-db --no-defaults --user=mysql --datadir="$state/mysql" \
        --auth-root-authentication-method=socket >"$state/mariadb-install.out" 2>&1 || return 1
    start "$state" mariadbd mariadbd --no-defaults --user=mysql --datadir="$state/mysql" \
        --socket="$state/mysql/mysqld.sock" --port="$DB_PORT" --bind-address=127.0.0.1 \
        --pid-file="$state/mysql/mariadbd.pid" --skip-name-resolve
    sql=(mariadb --no-defaults --socket="$state/mysql/mysqld.sock" -u root)
    wait_for "$WAIT_SECONDS" "MariaDB: select 1" "${sql[@]}" -e "select 1" || return 1
    "${sql[@]}" -e "create database slurm_acct_db;
        create user 'slurm'@'127.0.0.1' identified by 'nnbench';
        grant all on slurm_acct_db.* to 'slurm'@'127.0.0.1';" || return 1

    start "$state" slurmdbd slurmdbd -D
    wait_for "$WAIT_SECONDS" "slurmdbd on port 6819" port_open 6819 || return 1
    start "$state" slurmctld slurmctld -D -i
    wait_for "$WAIT_SECONDS" "slurmctld: scontrol ping" scontrol ping || return 1
    start "$state" slurmd slurmd -D
    wait_for "$WAIT_SECONDS" "the node idle in sinfo" node_idle || return 1
    # sacct answers once slurmctld has registered the cluster with slurmdbd.
    wait_for "$WAIT_SECONDS" "sacct" sacct -n -X || return 1
    log "up: $(sinfo -h -o '%P %D nodes %c CPUs %m MB %T'), files in $state"
}

# (Every step of up ends in `|| return 1`: bash ignores `set -e` inside a function called from `if` or `||`.)

# Stop every daemon of STATE/pids by its PID, the last started first: SIGTERM, a bounded wait, then SIGKILL.
down() {
    local state=$1 name pid deadline
    [[ -f "$state/pids" ]] || { log "no $state/pids: nothing to stop"; return 0; }
    while read -r name pid; do
        kill -0 "$pid" 2>/dev/null || continue
        kill -TERM "$pid" 2>/dev/null || true
        deadline=$((SECONDS + 20))
        while kill -0 "$pid" 2>/dev/null && ((SECONDS < deadline)); do sleep 0.2; done
        if kill -0 "$pid" 2>/dev/null; then
            log "$name (PID $pid) did not stop on SIGTERM: SIGKILL"
            kill -KILL "$pid" 2>/dev/null || true
        fi
        log "stopped $name (PID $pid)"
    done < <(tac "$state/pids")
    for f in "$CONF_DIR/slurm.conf" "$CONF_DIR/slurmdbd.conf"; do
        if [[ -f $f ]] && [[ "$(head -c ${#MARK} "$f")" == "$MARK" ]]; then rm -f "$f"; fi
    done
    rm -rf "$state"
}

run_tests() {
    local state status=0
    ensure_packages
    state=$(mktemp -d /tmp/nnbench-slurm.XXXXXX)
    rmdir "$state"
    # From here on, whatever happens, every daemon started is stopped (by PID) on the way out. The trap runs
    # after this function has returned: it gets the folder from a global, not from the local `state`.
    TEST_STATE=$state
    trap 'down "$TEST_STATE"' EXIT
    trap 'exit 130' INT TERM
    if ! up "$state"; then
        for f in "$state"/*.out "$state"/*.log; do [[ -f $f ]] && { log "--- $f"; tail -n 20 "$f" >&2; }; done
        return 1
    fi
    cd "$ROOT"
    python -m pytest tests/test_slurm.py -m slurm -v -p no:cacheprovider -rA || status=$?
    if ((status)); then
        for f in "$state"/slurmctld.log "$state"/slurmd.log; do log "--- $f"; tail -n 30 "$f" >&2; done
    fi
    return "$status"
}

case "${1:-}" in
    up) up "${2:?usage: $0 up STATE}" ;;
    down) down "${2:?usage: $0 down STATE}" ;;
    test) run_tests ;;
    *) echo "usage: $0 test | up STATE | down STATE" >&2; exit 2 ;;
esac
