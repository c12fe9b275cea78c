#!/usr/bin/env bash
# Bad input exits 2 with one line; SIGUSR1 logs counters; SIGTERM with
# open connections exits 0 promptly and releases the TUN.
set -euo pipefail
# shellcheck source=SCRIPTDIR/lib.sh
. "$(dirname "$0")/lib.sh"
require_root
require_tools danted python3 ss

expect_usage_error() { # WANT-SUBSTRING args...
    local want=$1 rc=0 out
    shift
    out=$("$T2S_BIN" "$@" 2>&1) || rc=$?
    [ "$rc" -eq 2 ] || fail "'$*' exited $rc, want 2 ($out)"
    [ "$(wc -l <<<"$out")" -eq 1 ] || fail "'$*' printed more than one line: $out"
    grep -q -- "$want" <<<"$out" || fail "'$*' said '$out', want '$want'"
    log "exit 2: $out"
}
expect_usage_error "unknown option '--bogus'" --bogus
expect_usage_error "no port" --tun t0 --proxy socks5://198.18.1.2
expect_usage_error "unsupported proxy scheme" --tun t0 --proxy https://198.18.1.2:443
expect_usage_error "bad proxy port" --tun t0 --proxy socks5://198.18.1.2:99999
expect_usage_error "not a usable unicast address" --tun t0 --proxy socks5://0.0.0.0:1080
expect_usage_error "no proxy" --tun t0
expect_usage_error "bad MTU" --tun t0 --proxy socks5://198.18.1.2:1080 --mtu 10
if id nobody >/dev/null 2>&1 && command -v setpriv >/dev/null; then
    rc=0
    out=$(setpriv --reuid=nobody --regid=nogroup --clear-groups \
        "$T2S_BIN" --tun t2sperm0 --proxy socks5://198.18.1.2:1080 2>&1) || rc=$?
    [ "$rc" -eq 2 ] || fail "no TUN permission exited $rc: $out"
    grep -q "needs root or CAP_NET_ADMIN" <<<"$out" || fail "no permission hint: $out"
    log "exit 2: $out"
fi

require_root
setup_topology
start_danted none 1080
tool_net_bg "$WORK/srv.log" serve --port 8001 --mode hold
wait_for 100 listening "$NS_NET" 8001 || fail "server did not start"
start_t2s --proxy "socks5://$PROXY4:1080"

spawn "$NS_DEV" "$WORK/hold.out" python3 "$TOOLS_PY" hold "$SERVER4" 8001 5
wait_for 100 grep -q "held 5" "$WORK/hold.out" || fail "could not open 5 connections"
[ "$(stat_value tcp_active)" -eq 5 ] || fail "SIGUSR1 counters: tcp_active is not 5"
log "SIGUSR1: $(grep stats: "$WORK/t2s.log" | tail -n 1)"

pid=$T2S_PID
kill -TERM "$pid"
wait_for 30 bash -c "! kill -0 $pid" || fail "tun2socks still running 3 s after SIGTERM"
rc=0
wait "$pid" || rc=$?
[ "$rc" -eq 0 ] || fail "exit status $rc after SIGTERM"
T2S_PID=""
in_dev ip link show tun0 >/dev/null 2>&1 && fail "tun0 still exists after exit"
log "SIGTERM with 5 open connections: exit 0, tun0 gone"
log PASS
