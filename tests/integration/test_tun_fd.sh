#!/usr/bin/env bash
# --tun-fd, as a VPN service uses it: a TUN opened by another process, with
# and without a virtio-net header (tun2socks reads the header size from the
# fd and then completes TCP checksums through the kernel). 16 MiB down and
# up with matching SHA-256 over IPv4 and IPv6, at the TUN's default MTU.
set -euo pipefail
# shellcheck source=SCRIPTDIR/lib.sh
. "$(dirname "$0")/lib.sh"
require_root
require_tools danted python3 ss

SIZE=$((16 * 1024 * 1024))
setup_topology
start_danted none 1080
tool_net_bg "$WORK/down.log" serve --port 8001 --mode send --size "$SIZE" --seed 4
tool_net_bg "$WORK/up.out" serve --port 8002 --mode sink --log "$WORK/up.log"
wait_for 100 listening "$NS_NET" 8002 || fail "servers did not start"
want_down=$(python3 "$TOOLS_PY" sha "$SIZE" --seed 4)
want_up=$(python3 "$TOOLS_PY" sha "$SIZE" --seed 6)

for vnet in 0 1; do
    spawn "$NS_DEV" "$WORK/t2s.log" python3 "$TOOLS_PY" tunexec --name tunfd0 \
        --vnet "$vnet" --ipv4 198.18.0.1/30 --ipv6 fd00:18::1/64 -- \
        "$T2S_BIN" --tun-fd '{fd}' --proxy "socks5://$PROXY4:1080"
    T2S_PID=$LAST_PID # the tool execs tun2socks
    wait_for 100 grep -q "socks5 proxy" "$WORK/t2s.log" ||
        fail "tun2socks on a TUN fd (vnet $vnet) did not start: $(tail -n 3 "$WORK/t2s.log")"
    if [ "$vnet" = 1 ]; then
        grep -q "checksum offload" "$WORK/t2s.log" ||
            fail "the virtio-net header of the fd went unnoticed: $(grep 'socks5 proxy' "$WORK/t2s.log")"
    elif grep -q "checksum offload" "$WORK/t2s.log"; then
        fail "offload claimed on a plain TUN fd"
    fi
    in_dev ip route replace default dev tunfd0
    in_dev ip -6 route replace default dev tunfd0
    for host in "$SERVER4" "$SERVER6"; do
        transfer_both_ways "vnet $vnet" "$host" "$SIZE" 6 "$want_down" "$want_up"
        log "TUN fd, vnet header $vnet, $host: 16 MiB down and up, SHA-256 match"
    done
    stop_t2s
done
log PASS
