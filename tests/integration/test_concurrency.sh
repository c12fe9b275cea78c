#!/usr/bin/env bash
# 500 concurrent connections, each echoing 64 KiB of its own random data.
set -euo pipefail
# shellcheck source=SCRIPTDIR/lib.sh
. "$(dirname "$0")/lib.sh"
require_root
require_tools danted python3 ss

setup_topology
start_danted none 1080
tool_net_bg "$WORK/srv.log" serve --port 8001 --mode echo
wait_for 100 listening "$NS_NET" 8001 || fail "echo server did not start"
start_t2s --proxy "socks5://$PROXY4:1080"

for host in "$SERVER4" "$SERVER6"; do
    out=$(tool_dev concurrent "$host" 8001 500 65536)
    log "$host: $out"
    [ "$(head -n 1 <<<"$out")" = "ok 500 of 500" ] || fail "not all connections completed: $out"
done
[ "$(stat_value tcp_total)" -ge 1000 ] || fail "tun2socks did not see 1000 sessions"
log PASS
