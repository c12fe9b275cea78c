#!/usr/bin/env bash
# 64 MiB download and upload through the TUN with matching SHA-256, over
# IPv4 and IPv6, through danted (no auth and username/password, the
# credentials from a file) and microsocks; and at MTU 1500 with TCP
# segmentation offload on the TUN (super-packets both ways).
set -euo pipefail
# shellcheck source=SCRIPTDIR/lib.sh
. "$(dirname "$0")/lib.sh"
require_root
require_tools danted microsocks python3 ss ethtool

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

# A TUN tun2socks creates gets TSO: at MTU 1500 the kernel hands it 64 KiB
# super-packets and cuts the large segments it writes. MTU-sized data
# packets would be one per 1448 bytes: a download must take far fewer TUN
# writes, an upload far fewer TUN reads. (16 MiB: a loaded machine's slow
# client can overflow its receive queue, and lwIP recovers each drop on
# its retransmission timer, with or without TSO.)
TSO_SIZE=$((16 * 1024 * 1024))
tool_net_bg "$WORK/down-tso.log" serve --port 8003 --mode send --size "$TSO_SIZE" --seed 5
wait_for 100 listening "$NS_NET" 8003 || fail "the 16 MiB server did not start"
want_tso=$(python3 "$TOOLS_PY" sha "$TSO_SIZE" --seed 5)
want_tso_up=$(python3 "$TOOLS_PY" sha "$TSO_SIZE" --seed 3)
mtu_packets=$((TSO_SIZE / 1448))
# Usage: few_packets COUNTER BEFORE WHAT
few_packets() {
    local n
    n=$(($(stat_value "$1") - $2))
    [ "$n" -lt $((mtu_packets / 4)) ] ||
        fail "$3: $n packets ($1) for 16 MiB, no super-packets (MTU-sized: $mtu_packets)"
    log "$3: $n packets ($1), MTU-sized: $mtu_packets"
}
start_t2s --proxy "socks5://$PROXY4:1080" --mtu 1500
grep -q "MTU 1500, checksum offload, TSO" "$WORK/t2s.log" ||
    fail "no TSO in the log: $(grep "TUN tun0" "$WORK/t2s.log")"
in_dev ethtool -k tun0 | grep -q "^tcp-segmentation-offload: on" ||
    fail "TSO is off on tun0: $(in_dev ethtool -k tun0 | grep segmentation-offload)"
for host in "$SERVER4" "$SERVER6"; do
    tx=$(stat_value tun_tx)
    got=$(tool_dev download "$host" 8003)
    [ "$got" = "$want_tso" ] || fail "MTU 1500 TSO download from $host: got '$got', want '$want_tso'"
    few_packets tun_tx "$tx" "MTU 1500 TSO download from $host"
    rx=$(stat_value tun_rx)
    UPLOADS=$((UPLOADS + 1))
    tool_dev upload "$host" 8002 "$TSO_SIZE" --seed 3 >/dev/null
    wait_for 100 bash -c "[ \$(grep -c ^sink '$WORK/up.log') -ge $UPLOADS ]" ||
        fail "MTU 1500 TSO upload to $host: the server saw no end of data"
    got=$(grep ^sink "$WORK/up.log" | tail -n 1 | cut -d' ' -f2-)
    [ "$got" = "$want_tso_up" ] || fail "MTU 1500 TSO upload to $host: server got '$got', want '$want_tso_up'"
    few_packets tun_rx "$rx" "MTU 1500 TSO upload to $host"
    log "MTU 1500 with TSO, $host: 16 MiB down and up, SHA-256 match"
done
stop_t2s
log PASS
