#!/usr/bin/env bash
# shadowsocks-android's executable contract (issue 15, contract 5): the
# device namespace plays the phone. ss-local -u (shadowsocks-libev) is the
# SOCKS server on loopback, ss-server in the far namespace; a dnsmasq on
# loopback is the --dnsgw server. ssa_vpnservice.py plays the app's
# VpnService: it makes the TUN, runs tun2socks with the app's exact command
# line from its own directory, hands the descriptor over sock_path and
# checks TCP, UDP, DNS, bad sock_path peers, a new descriptor to the
# running process, the stop on SIGTERM (within 500 ms) and a restart.
set -euo pipefail
# shellcheck source=SCRIPTDIR/lib.sh
. "$(dirname "$0")/lib.sh"
require_root
require_tools ss-local ss-server dnsmasq dig python3 ss

SS_PORT=8388
SOCKS_PORT=1080
DNS_PORT=5450
SS_PASS="ssa-test-key"
SIZE=1048576

setup_topology
tool_net_bg "$WORK/down.log" serve --bind "$SERVER4" --port 8001 --mode send --size "$SIZE"
tool_net_bg "$WORK/echo.log" udpecho --bind "$SERVER4" --port 7001
wait_for 100 listening "$NS_NET" 8001 || fail "download server did not start"
wait_for 100 listening "$NS_NET" 7001 u || fail "UDP echo did not start"

spawn "$NS_NET" "$WORK/ss-server.log" ss-server -s "$PROXY4" -p "$SS_PORT" \
    -k "$SS_PASS" -m chacha20-ietf-poly1305 -u
wait_for 100 listening "$NS_NET" "$SS_PORT" || fail "ss-server did not start"
spawn "$NS_DEV" "$WORK/ss-local.log" ss-local -s "$PROXY4" -p "$SS_PORT" \
    -b 127.0.0.1 -l "$SOCKS_PORT" -k "$SS_PASS" -m chacha20-ietf-poly1305 -u
wait_for 100 listening "$NS_DEV" "$SOCKS_PORT" || fail "ss-local did not start"

# The app's local DNS (ss-local's tunnel in the real app): reachable only
# from the device namespace's loopback, so an answer proves the query went
# straight there and not through the proxy.
cat >"$WORK/dnsgw.conf" <<EOC
no-resolv
no-hosts
bind-interfaces
listen-address=127.0.0.1
port=$DNS_PORT
address=/example.test/$SERVER4
log-queries
log-facility=$WORK/dnsgw.log
EOC
spawn "$NS_DEV" "$WORK/dnsgw.out" dnsmasq -k -C "$WORK/dnsgw.conf" \
    --pid-file="$WORK/dnsgw.pid" --user=root
wait_for 100 listening "$NS_DEV" "$DNS_PORT" u || fail "dnsmasq did not start"

# The app's own directory (noBackupFilesDir): started as root, tun2socks
# drops to nobody, who must be able to unlink sock_path at exit.
mkdir "$WORK/app"
chown nobody "$WORK/app"
want=$(python3 "$TOOLS_PY" sha "$SIZE")
T2S_BIN=$(readlink -f "$T2S_BIN")

# harness ROUND [ARGS...]: one run of the app's life; ARGS go to the
# harness (after --, to tun2socks).
harness() {
    local round=$1 rc
    shift
    log "round: $round"
    set +e
    in_dev python3 "$T2S_ROOT/tests/integration/ssa_vpnservice.py" \
        --t2s "$T2S_BIN" --scratch "$WORK/app" --socks-port "$SOCKS_PORT" \
        --dns-port "$DNS_PORT" --server4 "$SERVER4" --want-down "$want" \
        --route 198.19.0.0/16 --route fd00:19::/64 "$@" |
        tee "$WORK/harness.log"
    rc=${PIPESTATUS[0]}
    set -e
    if [ "$rc" -ne 0 ]; then
        WORK_LOG=$WORK/app/t2s.log
        log "tun2socks log (last 30 lines):"
        tail -n 30 "$WORK_LOG" >&2 || true
        fail "the VpnService harness failed in round '$round' (exit $rc)"
    fi
}

# The app's exact command line; then the same with --protect-path, which
# the harness serves as the app does (every proxy socket must reach it).
# shellcheck disable=SC2086  # SSA_EXTRA: words for tun2socks
harness "exact command line" ${SSA_EXTRA:+-- $SSA_EXTRA}
harness "with --protect-path" --want-protect -- --protect-path protect_path
grep -q "127.0.0.1" "$WORK/dnsgw.log" || fail "dnsmasq saw no query"
log "PASS"
