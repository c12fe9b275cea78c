#!/usr/bin/env bash
# Proxy not listening: the app's connect fails within one second; once a
# proxy listens, connections work without restarting tun2socks.
set -euo pipefail
# shellcheck source=SCRIPTDIR/lib.sh
. "$(dirname "$0")/lib.sh"
require_root
require_tools microsocks python3 ss

setup_topology
tool_net_bg "$WORK/srv.log" serve --port 8001 --mode echo
start_t2s --proxy "socks5://$PROXY4:1081"

for host in "$SERVER4" "$SERVER6"; do
    expect_refused_within 1 "proxy down, connect to $host" "$host" 8001
done
grep -q "cannot connect to proxy" "$WORK/t2s.log" || fail "no log line naming the proxy failure"
kill -0 "$T2S_PID" || fail "tun2socks died"

start_microsocks 1081
out=$(tool_dev connect "$SERVER4" 8001 --timeout 5)
case $out in
ok\ *) log "after the proxy came up: $out" ;;
*) fail "connect after the proxy came up: '$out'" ;;
esac
log PASS
