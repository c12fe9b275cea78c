#!/usr/bin/env bash
# --max-conns 3: three connections held open, the fourth is refused at
# once (not queued); after one closes, a new one works.
set -euo pipefail
# shellcheck source=SCRIPTDIR/lib.sh
. "$(dirname "$0")/lib.sh"
require_root
require_tools danted python3 ss

setup_topology
start_danted none 1080
tool_net_bg "$WORK/srv.log" serve --port 8001 --mode hold
wait_for 100 listening "$NS_NET" 8001 || fail "server did not start"
start_t2s --proxy "socks5://$PROXY4:1080" --max-conns 3

spawn "$NS_DEV" "$WORK/hold.out" python3 "$TOOLS_PY" hold "$SERVER4" 8001 3
holder=$LAST_PID
wait_for 100 grep -q "held 3" "$WORK/hold.out" || fail "could not open 3 connections"

expect_refused_within 1 "4th connection with 3 held" "$SERVER4" 8001
grep -q "connection limit 3 reached" "$WORK/t2s.log" || fail "no log line for the refusal"
[ "$(stat_value tcp_refused_limit)" -ge 1 ] || fail "refusal not counted"

kill "$holder"
wait_for 50 bash -c "! kill -0 $holder" || fail "holder did not exit"
wait_for 50 bash -c "[ \"\$(ip netns exec $NS_DEV python3 $TOOLS_PY connect $SERVER4 8001 --timeout 5 | cut -d' ' -f1)\" = ok ]" ||
    fail "no connection possible after the held ones closed"
log PASS
