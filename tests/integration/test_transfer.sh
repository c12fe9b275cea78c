#!/usr/bin/env bash
# 64 MiB download and upload through the TUN with matching SHA-256, over
# IPv4 and IPv6, through danted (no auth and username/password, the
# credentials from a file) and microsocks.
set -euo pipefail
# shellcheck source=SCRIPTDIR/lib.sh
. "$(dirname "$0")/lib.sh"
require_root
require_tools danted microsocks python3 ss

SIZE=$((64 * 1024 * 1024))
setup_topology
start_danted none 1080
start_danted username 1082
start_microsocks 1081
tool_net_bg "$WORK/down.log" serve --port 8001 --mode send --size "$SIZE" --seed 7
tool_net_bg "$WORK/up.out" serve --port 8002 --mode sink --log "$WORK/up.log"
wait_for 100 listening "$NS_NET" 8002 || fail "servers did not start"
want_down=$(python3 "$TOOLS_PY" sha "$SIZE" --seed 7)
want_up=$(python3 "$TOOLS_PY" sha "$SIZE" --seed 9)

printf '%s:%s\n' "$TEST_USER" "$TEST_PASS" >"$WORK/auth"
chmod 600 "$WORK/auth"
run_case() { # NAME tun2socks-args...
    local name=$1 host
    shift
    start_t2s "$@"
    for host in "$SERVER4" "$SERVER6"; do
        transfer_both_ways "$name" "$host" "$SIZE" 9 "$want_down" "$want_up"
        log "$name $host: 64 MiB down and up, SHA-256 match"
    done
    grep -q "$TEST_PASS" "$WORK/t2s.log" && fail "the password appears in the log"
    stop_t2s
}

run_case "danted no-auth" --proxy "socks5://$PROXY4:1080"
run_case "danted user/pass (file)" --proxy "socks5://$PROXY4:1082" --proxy-auth-file "$WORK/auth"
run_case "danted over IPv6" --proxy "socks5://[$PROXY6]:1080"
run_case "microsocks" --proxy "socks5://$PROXY4:1081"
log PASS
