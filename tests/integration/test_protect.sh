#!/usr/bin/env bash
# --protect-path: every socket toward the proxy (TCP sessions, DNS over
# TCP, the UDP ASSOCIATE control connection and its relay socket) is sent
# to a protect_path server (protect_server.py, the protocol of
# shadowsocks-android's VpnService) before it connects. The server checks
# each descriptor (a TCP/UDP socket, not connected yet). Answer 0: traffic
# flows through danted. Answer 1, no answer, no server: the app's
# connection is refused (reset), counted in protect_failed, each reason
# logged once; tun2socks does not hang and leaks no descriptor.
set -euo pipefail
# shellcheck source=SCRIPTDIR/lib.sh
. "$(dirname "$0")/lib.sh"
require_root
require_tools danted dnsmasq dig python3 ss

setup_topology
start_danted none 1080
start_dnsmasq
SIZE=$((4 * 1024 * 1024))
tool_net_bg "$WORK/send.log" serve --bind "$SERVER4" --port 8001 --mode send \
    --size "$SIZE" --seed 3
tool_net_bg "$WORK/echo.log" udpecho --bind "$SERVER4" --port 7001
wait_for 100 listening "$NS_NET" 8001 || fail "send server did not start"
wait_for 100 listening "$NS_NET" 7001 u || fail "UDP echo did not start"

# tun2socks runs as nobody once started: it must reach the socket
chmod 755 "$WORK"
PSOCK=$WORK/protect_path
MODE=$WORK/protect.mode
PLOG=$WORK/protect.log
echo 0 >"$MODE"
: >"$PLOG"
spawn "$NS_DEV" "$WORK/protect.out" python3 "$T2S_ROOT/tests/integration/protect_server.py" \
    "$PSOCK" "$MODE" "$PLOG"
PROTECT_PID=$LAST_PID
wait_for 100 test -S "$PSOCK" || fail "protect server did not start"

start_t2s --proxy "socks5://$PROXY4:1080" --protect-path "$PSOCK" --dns tcp \
    --udp-timeout 2
fd_count() { find "/proc/$T2S_PID/fd" -mindepth 1 -maxdepth 1 | wc -l; }
FDS_BEFORE=$(fd_count)

# --- answer 0: TCP, DNS over TCP and UDP flow, every descriptor checked ---
want=$(tool_dev sha "$SIZE" --seed 3)
download_ok "protected TCP" "$want"
out=$(in_dev dig +time=3 +tries=1 +short "@$SERVER4" example.test A 2>&1 | tr '\n' ' ') || true
[ "$out" = "$SERVER4 " ] || fail "protected DNS over TCP: dig got '$out'"
out=$(tool_dev udpsend "$SERVER4:7001" --size 1200)
[ "$out" = "same 1200 $SERVER4:7001" ] || fail "protected UDP: got '$out'"
log "answer 0: download, dig and UDP echo went through danted"
grep -q "udpassociate \[" "$WORK/danted-1080.log" || fail "danted saw no UDP association"
cat "$PLOG" >&2
# download + dig + UDP control: 3 streams; the UDP relay: 1 datagram socket
n_stream=$(grep -c "^fd ok type=stream family=inet notconnected answer=0" "$PLOG" || true)
n_dgram=$(grep -c "^fd ok type=dgram family=inet notconnected answer=0" "$PLOG" || true)
[ "$n_stream" -eq 3 ] || fail "protect server saw $n_stream unconnected TCP sockets, want 3"
[ "$n_dgram" -eq 1 ] || fail "protect server saw $n_dgram unconnected UDP sockets, want 1"
grep -v "^fd ok " "$PLOG" && fail "protect server got a bad descriptor"
[ "$(stat_value protect_failed)" -eq 0 ] || fail "protect_failed counted with answer 0"

# refused MODE WHAT LOG-LINE: three connects, each refused (reset by
# tun2socks), counted, the reason logged once. While the loop waits for a
# server that never answers, the app's SYN is retransmitted and the
# retransmission is a new attempt: at least 3 then, exactly 3 otherwise.
FAILED=0
refused() {
    local mode=$1 what=$2 line=$3 i out now
    echo "$mode" >"$MODE"
    for i in 1 2 3; do
        out=$(tool_dev connect "$SERVER4" 8001 --timeout 5)
        log "$what, connect $i: $out"
        case $out in
        error\ ECONNREFUSED\ *) ;;
        *) fail "$what: expected the connection refused, got '$out'" ;;
        esac
    done
    now=$(stat_value protect_failed)
    if [ "$mode" = never ]; then
        [ "$now" -ge $((FAILED + 3)) ] || fail "$what: protect_failed is $now, want >= $((FAILED + 3))"
    else
        [ "$now" -eq $((FAILED + 3)) ] || fail "$what: protect_failed is $now, want $((FAILED + 3))"
    fi
    FAILED=$now
    [ "$(grep -c "protect server .*$line" "$WORK/t2s.log")" -eq 1 ] ||
        fail "$what: want one log line '$line'"
}

refused 1 "answer 1" "refused the socket"
refused never "no answer" "did not answer within 1 s"
kill "$PROTECT_PID"
wait_for 50 bash -c "! kill -0 $PROTECT_PID" || fail "protect server did not stop"
rm -f "$PSOCK"
refused 0 "no server" "cannot connect: No such file or directory"
grep "protect server" "$WORK/t2s.log" >&2

# tun2socks is still fine and, once the UDP association timed out (2 s),
# holds no more descriptors than before any traffic.
wait_for 100 bash -c "[ \$(find /proc/$T2S_PID/fd -mindepth 1 -maxdepth 1 | wc -l) -le $FDS_BEFORE ]" ||
    fail "descriptors: $(fd_count) now, $FDS_BEFORE before"
log "descriptors: $(fd_count) now, $FDS_BEFORE before"
[ "$(stat_value socket_hook_refused)" -eq 0 ] || fail "socket_hook_refused counted"
stop_t2s
log "PASS"
