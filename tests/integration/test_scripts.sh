#!/usr/bin/env bash
# The programs in scripts/: each one's --help and -h print its usage on
# stdout and exit 0 without side effects, and the demo (and the benchmark,
# when its tools are installed: scripts/deps bench) stopped by SIGTERM or
# SIGINT early leaves no network namespace and no process behind.
#
# "Without side effects": each script runs from a copy of the tree
# (scripts/, tests/integration/) that must stay file for file the same (no
# build/ directory, nothing written), with a PATH in which apt-get,
# dpkg-query, cmake, ip and the like only record that they were called
# (nothing may call them), and the list of network namespaces and
# /etc/apt/sources.list.d must not change.
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"

require_root
require_tools python3 danted curl ss sha256sum timeout

WORK=$(mktemp -d /tmp/t2s-scripts.XXXXXX)
RUN_PIDS=() # scripts started here (their $$ names their namespaces)

scripts_cleanup() {
    local p
    trap '' INT TERM HUP
    for p in "${RUN_PIDS[@]}"; do
        kill -9 "$p" 2>/dev/null || true
        ip netns del "t2sdev$p" 2>/dev/null || true
        ip netns del "t2snet$p" 2>/dev/null || true
    done
    if [ -z "${T2S_KEEP_WORK:-}" ]; then rm -rf "$WORK"; fi
}
trap scripts_cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# ------------------------------------------------------------ --help
TREE=$WORK/tree
CALLS=$WORK/calls
mkdir -p "$WORK/shim"
for t in apt-get apt apt-cache dpkg-query cmake ctest make gcc clang clang-format \
    shellcheck git ip unshare mount danted nginx iperf3 curl patch tar unzip useradd; do
    printf '#!/bin/sh\necho "%s $*" >>"%s"\nexit 1\n' "$t" "$CALLS" >"$WORK/shim/$t"
    chmod +x "$WORK/shim/$t"
done

fresh_tree() {
    rm -rf "$TREE"
    mkdir -p "$TREE/tests"
    cp -a "$T2S_ROOT/scripts" "$TREE/scripts"
    cp -a "$T2S_ROOT/tests/integration" "$TREE/tests/integration"
    : >"$CALLS"
    manifest >"$WORK/tree.before"
}
manifest() { (cd "$TREE" && find . -printf '%p %y %s\n' | sort && find . -type f -exec sha256sum {} + | sort); }
netns_names() { ip netns list | awk '{ print $1 }' | sort; }

# Prints what is wrong with "SCRIPT FLAG" (nothing when all is well).
help_problem() { # NAME FLAG
    local name=$1 flag=$2 rc=0 run pid
    case $name in *.py) run=(python3 "$TREE/scripts/$name") ;; *) run=("$TREE/scripts/$name") ;; esac
    # lib.sh names namespaces after the script's PID: t2sdevPID, t2snetPID
    (cd "$WORK" && PATH="$WORK/shim:$PATH" exec "${run[@]}" "$flag") \
        >"$WORK/out" 2>"$WORK/err" </dev/null &
    pid=$!
    RUN_PIDS+=("$pid")
    if ! wait_for 300 bash -c "! kill -0 $pid 2>/dev/null"; then
        kill -9 "$pid" 2>/dev/null || true
        echo "still running after 30 s"
    fi
    wait "$pid" || rc=$?
    if ip netns list | grep -Eq "^t2s(dev|net)$pid( |\$)"; then
        echo "created a network namespace (t2s*$pid)"
    fi
    if [ "$rc" != 0 ]; then
        echo "exit $rc, want 0 ($(head -c 200 "$WORK/err" | tr '\n' ' '))"
    elif ! grep -qi '^usage:' "$WORK/out"; then
        echo "no 'usage:' line on stdout: $(head -c 100 "$WORK/out" | tr '\n' ' ')"
    fi
    [ ! -s "$CALLS" ] || echo "ran: $(head -n 5 "$CALLS" | tr '\n' ';')"
    manifest >"$WORK/tree.now"
    cmp -s "$WORK/tree.before" "$WORK/tree.now" ||
        echo "changed files in the tree: $(diff "$WORK/tree.before" "$WORK/tree.now" | grep '^>' | head -n 3 | tr '\n' ' ')"
    ls -la /etc/apt/sources.list.d >"$WORK/apt.now" 2>&1 || true
    cmp -s "$WORK/apt.before" "$WORK/apt.now" || echo "changed /etc/apt/sources.list.d"
}

fresh_tree
ls -la /etc/apt/sources.list.d >"$WORK/apt.before" 2>&1 || true
n=0
bad=0
for script in "$TREE"/scripts/*; do
    [ -f "$script" ] || continue # scripts/route/: tun2socks-route's modules
    case $script in *.c) continue ;; esac # a source a script builds (bench_relay.c)
    name=$(basename "$script")
    ok=1
    for flag in --help -h; do
        problem=$(help_problem "$name" "$flag")
        n=$((n + 1))
        if [ -n "$problem" ]; then
            log "BAD: scripts/$name $flag: $(tr '\n' ' ' <<<"$problem")"
            ok=0
            bad=$((bad + 1))
            fresh_tree
        fi
    done
    [ "$ok" -eq 0 ] || log "ok: scripts/$name --help, -h: usage on stdout, exit 0, nothing run or written"
done
[ "$bad" -eq 0 ] || fail "$bad of $n --help/-h runs misbehaved (BAD lines above)"
[ "$n" -ge 16 ] || fail "only $n --help runs: scripts/ is missing programs?"

# tun2socks-route finds its modules (route/*.sh) next to the file itself:
# installed elsewhere (as in /usr/libexec/tun2socks/) and run through a
# symlink from another directory, status and --help still work.
mkdir -p "$WORK/inst/libexec/tun2socks" "$WORK/inst/bin"
cp -a "$T2S_ROOT/scripts/tun2socks-route" "$T2S_ROOT/scripts/route" "$WORK/inst/libexec/tun2socks/"
ln -s ../libexec/tun2socks/tun2socks-route "$WORK/inst/bin/tun2socks-route"
(cd / && "$WORK/inst/bin/tun2socks-route" --help) | grep -q '^usage:' ||
    fail "tun2socks-route through a symlink: no usage (modules not found?)"
rc=0
(cd / && "$WORK/inst/bin/tun2socks-route" status --tun t2sx --state-dir "$WORK/inst/run" \
    --persist-dir "$WORK/inst/lib") >"$WORK/inst.out" 2>&1 || rc=$?
[ "$rc" = 3 ] || fail "tun2socks-route status through a symlink: exit $rc, want 3: $(cat "$WORK/inst.out")"
log "ok: tun2socks-route installed elsewhere, run through a symlink: --help, status (exit 3)"

# ------------------------------------------------------------ signals
# Start SCRIPT in its own process group (a background job of a script
# would ignore SIGINT), wait until its "internet" namespace has servers
# running, send SIG every 0.2 s until it exits (an impatient user or
# supervisor: later signals land in the cleanup, which must finish), and
# check that it ran its cleanup: exit 128+n, its namespaces deleted, every
# process that ran in them gone.
gone() { # PID: not running (a zombie waiting for its reaper is gone too)
    local st
    st=$(cat "/proc/$1/stat" 2>/dev/null) || return 0
    st=${st##*) }
    [ "${st%% *}" = Z ]
}

stop_early() { # SIG WHAT SCRIPT ARGS...
    local sig=$1 what=$2 pid rc=0 pids p want
    shift 2
    set -m
    "$@" >"$WORK/run.log" 2>&1 </dev/null &
    pid=$!
    set +m
    RUN_PIDS+=("$pid")
    wait_for 1200 bash -c "ip netns pids t2snet$pid 2>/dev/null | grep -q ." ||
        fail "$what: no server started in t2snet$pid ($(tail -n 3 "$WORK/run.log"))"
    pids=$(ip netns pids "t2sdev$pid" 2>/dev/null; ip netns pids "t2snet$pid" 2>/dev/null)
    for _ in $(seq 450); do
        kill -"$sig" "$pid" 2>/dev/null || break
        sleep 0.2
    done
    kill -0 "$pid" 2>/dev/null && fail "$what: still running 90 s after SIG$sig"
    wait "$pid" || rc=$?
    if netns_names | grep -Eqx "t2s(dev|net)$pid"; then
        fail "$what: SIG$sig left namespaces behind: $(netns_names | grep -Ex "t2s(dev|net)$pid" | tr '\n' ' ')"
    fi
    for p in $pids; do
        wait_for 50 gone "$p" ||
            fail "$what: process $p ($(tr '\0' ' ' <"/proc/$p/cmdline")) outlived SIG$sig"
    done
    case $sig in INT) want=130 ;; TERM) want=143 ;; esac
    [ "$rc" = "$want" ] || fail "$what: exit $rc after SIG$sig, want $want ($(tail -n 3 "$WORK/run.log"))"
    log "ok: $what stopped by SIG$sig: exit $rc, t2sdev$pid/t2snet$pid deleted, its $(wc -w <<<"$pids") processes gone"
}

stop_early TERM "scripts/demo" "$T2S_ROOT/scripts/demo" --no-deps --bin "$T2S_BIN"
stop_early INT "scripts/demo" "$T2S_ROOT/scripts/demo" --no-deps --bin "$T2S_BIN"
if command -v nginx >/dev/null 2>&1 && command -v iperf3 >/dev/null 2>&1; then
    BENCH_SECONDS=1 BENCH_REPS=1 BENCH_OUT=$WORK/bench \
        stop_early TERM "scripts/bench" "$T2S_ROOT/scripts/bench" --no-deps --bin "$T2S_BIN"
else
    log "not tested: scripts/bench stopped by SIGTERM (needs nginx and iperf3: scripts/deps bench)"
fi
log "PASS"
