#!/usr/bin/env bash
# Bad input from a SOCKS4 or HTTP CONNECT proxy (fake_proxy.py): truncated
# and oversized replies, wrong versions, unknown codes, a CONNECT response
# with no blank line. Each session gets one clear log line and the app a
# reset (or, with no end of header, the connect timeout); tun2socks stays
# up and, under ASan (build/asan), leaks nothing. Bytes the server sends
# right behind a good reply reach the app.
set -euo pipefail
# shellcheck source=SCRIPTDIR/lib.sh
. "$(dirname "$0")/lib.sh"
require_root
require_tools python3 ss

FAKE_PY=$T2S_ROOT/tests/integration/fake_proxy.py
setup_topology
tool_net_bg "$WORK/srv.log" serve --port 8001 --mode echo
wait_for 100 listening "$NS_NET" 8001 || fail "server did not start"

port=9100
start_fake() { # MODE -> FAKE_PORT
    port=$((port + 1))
    spawn "$NS_NET" "$WORK/fake-$1.log" python3 "$FAKE_PY" --bind "$PROXY4" \
        --port "$port" --mode "$1"
    wait_for 100 listening "$NS_NET" "$port" || fail "fake proxy $1 did not start"
    FAKE_PORT=$port
}

check_clean_exit() { # WHAT
    kill -0 "$T2S_PID" 2>/dev/null || fail "$1: tun2socks died"
    stop_t2s
    if grep -q "Sanitizer" "$WORK/t2s.log"; then
        fail "$1: the sanitizer reported: $(grep -m 3 "Sanitizer" "$WORK/t2s.log")"
    fi
}

# bad MODE SCHEME COUNTER LOG-TEXT
bad() {
    local mode=$1 scheme=$2 counter=$3 text=$4 before n
    start_fake "$mode"
    start_t2s --proxy "$scheme://$PROXY4:$FAKE_PORT" --connect-timeout 2
    before=$(stat_value "$counter")
    if [ "$mode" = http-noblank ]; then
        out=$(tool_dev connect "$SERVER4" 8001 --timeout 10)
        log "$mode: $out"
        [[ $out == error\ * ]] || fail "$mode: the app's connect did not fail: '$out'"
    else
        expect_refused_within 3 "$mode" "$SERVER4" 8001
    fi
    [ "$(stat_value "$counter")" -eq $((before + 1)) ] ||
        fail "$mode: $counter not counted once"
    n=$(grep -c -- "$text" "$WORK/t2s.log" || true)
    [ "$n" = 1 ] || fail "$mode: want one log line with '$text', got $n"
    log "$mode: $(grep -- "$text" "$WORK/t2s.log" | sed 's/.*: #/#/')"
    check_clean_exit "$mode"
}

bad s4-truncated socks4 err_proxy_proto "proxy protocol error: connection closed during the handshake"
bad s4-version socks4 err_proxy_proto "proxy protocol error: bad SOCKS4 reply version"
bad s4-code socks4 err_proxy_proto "proxy protocol error: unknown SOCKS4 reply code"
bad s4-rejected socks4 err_proxy_reply "connection refused by upstream: request rejected or failed"
bad http-truncated http err_proxy_proto "proxy protocol error: connection closed inside the response header"
bad http-noblank http err_timeout_connect "timed out"
bad http-oversized http err_proxy_proto "proxy protocol error: response header too long"
bad http-version http err_proxy_proto "proxy protocol error: not an HTTP/1.x response"
bad http-403 http err_proxy_reply "connection refused by upstream: HTTP 403"

# The server's first bytes, sent by the proxy with its reply, reach the app.
for mode in s4-banner http-banner; do
    start_fake "$mode"
    scheme=socks4
    [ "$mode" = http-banner ] && scheme=http
    start_t2s --proxy "$scheme://$PROXY4:$FAKE_PORT"
    out=$(in_dev python3 -c '
import socket, sys
c = socket.create_connection((sys.argv[1], 8001), timeout=5)
print(c.makefile("rb").readline().decode().strip())' "$SERVER4" 2>&1) ||
        out="(no line: $(echo "$out" | tail -n 1))"
    log "$mode: the app read '$out'"
    [ "$out" = "BANNER-from-the-server" ] || fail "$mode: the tunnel's first bytes were lost"
    check_clean_exit "$mode"
done
log PASS
