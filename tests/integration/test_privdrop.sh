#!/usr/bin/env bash
# Started as root, tun2socks keeps root only while it sets up: the process
# that handles packets runs as 'nobody' (or --user NAME) with no capability
# beyond what its options need (CAP_NET_ADMIN for --fwmark, CAP_NET_RAW for
# --interface), and TCP still relays. With --route a root parent that does
# nothing else waits for the unprivileged worker and runs the route
# script's 'down' once the worker is gone (SIGTERM or kill -9).
set -euo pipefail
# shellcheck source=SCRIPTDIR/lib.sh
. "$(dirname "$0")/lib.sh"
require_root
require_tools danted python3 ss pgrep

getent passwd nobody >/dev/null || skip "no user 'nobody'"
NOBODY=$(id -u nobody)
CAP_NET_ADMIN=0000000000001000
CAP_NET_RAW=0000000000002000
BOTH=0000000000003000
NONE=0000000000000000

setup_topology
start_danted none 1080
tool_net_bg "$WORK/srv.log" serve --port 8001 --mode send --size 300000 --seed 3
want=$(tool_dev sha 300000 --seed 3)

# Exited: gone, or a zombie (a container's init may not reap orphans).
gone() { # PID
    [ ! -e "/proc/$1" ] || grep -q '^State:[[:space:]]*Z' "/proc/$1/status" 2>/dev/null
}

field() { # PID NAME: the value(s) of a /proc/PID/status line
    awk -v k="$2:" '$1 == k { $1 = ""; sub(/^ /, ""); print }' "/proc/$1/status"
}

expect_creds() { # PID UID CAPEFF WHAT
    local uids caps
    uids=$(field "$1" Uid)
    [ "$uids" = "$2 $2 $2 $2" ] ||
        fail "$4: Uid is '$uids', want $2 everywhere"
    caps=$(field "$1" CapEff)
    [ "$caps" = "$3" ] || fail "$4: CapEff is $caps, want $3"
    caps=$(field "$1" CapPrm)
    [ "$caps" = "$3" ] || fail "$4: CapPrm is $caps, want $3"
    caps=$(field "$1" CapAmb)
    [ "$caps" = "$NONE" ] || fail "$4: CapAmb is $caps, want none"
}

run_case() { # CAPEFF WHAT ARGS...
    local caps=$1 what=$2
    shift 2
    start_t2s --proxy "socks5://$PROXY4:1080" "$@"
    expect_creds "$T2S_PID" "$NOBODY" "$caps" "$what"
    download_ok "$what" "$want"
    stop_t2s
    log "ok: $what: uid $NOBODY, CapEff $caps, TCP relays"
}

run_case "$NONE" "no options needing privileges"
run_case "$CAP_NET_ADMIN" "--fwmark" --fwmark 0x99
run_case "$CAP_NET_RAW" "--interface" --interface veth0
run_case "$BOTH" "--fwmark and --interface" --fwmark 0x99 --interface veth0

# --user root: the user asked to stay root.
start_t2s --proxy "socks5://$PROXY4:1080" --user root
[ "$(field "$T2S_PID" Uid)" = "0 0 0 0" ] || fail "--user root: not uid 0"
download_ok "--user root" "$want"
stop_t2s
log "ok: --user root stays uid 0"

# An unknown user is a one-line usage error.
set +e
out=$(ip netns exec "$NS_DEV" "$T2S_BIN" --tun tun9 --proxy "socks5://$PROXY4:1080" \
    --user no-such-user-t2s 2>&1)
rc=$?
set -e
[ "$rc" -eq 2 ] || fail "--user no-such-user: exit $rc, want 2 ($out)"
[ "$(printf '%s\n' "$out" | wc -l)" -eq 1 ] || fail "--user no-such-user: not one line: $out"
log "ok: unknown user: $out"

# --route: a root parent that only waits and runs 'down'; a stand-in
# script records its calls.
cat >"$WORK/route-stub" <<EOS
#!/bin/sh
echo "\$1 \$(id -u)" >>"$WORK/route-calls"
EOS
chmod 700 "$WORK/route-stub"
route_start() {
    : >"$WORK/route-calls"
    start_t2s --proxy "socks5://$PROXY4:1080" --route --route-script "$WORK/route-stub"
    grep -qx "up 0" "$WORK/route-calls" || fail "--route: no 'up' as root"
    wait_for 50 pgrep -P "$T2S_PID" || fail "--route: no worker process"
    WORKER=$(pgrep -P "$T2S_PID")
    [ "$(printf '%s\n' "$WORKER" | wc -l)" -eq 1 ] || fail "--route: more than one child: $WORKER"
    expect_creds "$WORKER" "$NOBODY" "$CAP_NET_ADMIN" "--route worker"
    [ "$(field "$T2S_PID" Uid)" = "0 0 0 0" ] || fail "--route: the parent is not root"
    [ "$(find "/proc/$T2S_PID/fd" -mindepth 1 | wc -l)" -le 3 ] ||
        fail "--route: the parent holds descriptors beyond 0-2: $(ls -l "/proc/$T2S_PID/fd")"
    download_ok "--route worker" "$want"
}

route_start
kill "$T2S_PID"
wait_for 100 bash -c "! kill -0 $T2S_PID 2>/dev/null" || fail "--route: parent did not exit on SIGTERM"
kill -0 "$WORKER" 2>/dev/null && fail "--route: worker survived SIGTERM"
[ "$(tail -n 1 "$WORK/route-calls")" = "down 0" ] || fail "--route: no 'down' as root at exit"
T2S_PID=""
log "ok: --route SIGTERM: worker uid $NOBODY with cap_net_admin, parent ran 'down' as root"

# kill -9 of the parent (what a user sees as tun2socks): the worker goes
# too, at once, and frees the TUN for the next run.
route_start
kill -9 "$T2S_PID"
wait_for 50 gone "$WORKER" || fail "--route: worker survived kill -9 of the parent"
T2S_PID=""
log "ok: --route kill -9 of the parent: the worker is gone"

route_start
kill -9 "$WORKER"
wait_for 100 bash -c "! kill -0 $T2S_PID 2>/dev/null" || fail "--route: parent did not exit after kill -9 of the worker"
[ "$(tail -n 1 "$WORK/route-calls")" = "down 0" ] || fail "--route: no 'down' after the worker was killed"
T2S_PID=""
log "ok: --route kill -9 of the worker: parent ran 'down'"
log PASS
