#!/usr/bin/env bash
# UDP through SOCKS5 UDP ASSOCIATE with danted (udp.connectdst: no):
# 8000- and 50000-byte datagrams echoed whole over IPv4 and IPv6, one app
# socket talking to two servers (full cone, right source addresses), iperf3
# UDP both directions with loss reported, the association cap, and the idle
# timeout ending the association at the SOCKS server.
set -euo pipefail
# shellcheck source=SCRIPTDIR/lib.sh
. "$(dirname "$0")/lib.sh"
require_root
require_tools danted iperf3 python3 ss

setup_topology
start_danted none 1080
for a in "$SERVER4" "$SERVER4B" "$SERVER6" "$SERVER6B"; do
    tool_net_bg "$WORK/echo-$a.log" udpecho --bind "$a" --port 7001
done
spawn "$NS_NET" "$WORK/iperf3.log" iperf3 -s -B "$SERVER4" -p 5201
wait_for 100 listening "$NS_NET" 5201 || fail "iperf3 server did not start"
for a in "$SERVER4" "$SERVER4B" "$SERVER6" "$SERVER6B"; do
    wait_for 100 bash -c "ip netns exec $NS_NET ss -Hlnu | grep -q '$a\]*:7001'" ||
        fail "UDP echo on $a did not start"
done
# MTU 1500: the 8000- and 30000-byte datagrams arrive as IP fragments
# (lwIP reassembles them) and the replies leave fragmented.
start_t2s --proxy "socks5://$PROXY4:1080" --udp-timeout 3 --max-udp 8 --mtu 1500

# expect_udp WHAT TOOL-ARGS... : every reply intact, sources as listed in WANT
expect_udp() {
    local what=$1 want=$2 out
    shift 2
    out=$(tool_dev udpsend "$@" | sort)
    log "$what: $(echo "$out" | tr '\n' ' ')"
    [ "$out" = "$(echo -e "$want" | sort)" ] || fail "$what: want '$want'"
}

expect_udp "8000 bytes over IPv4" "same 8000 $SERVER4:7001" \
    "$SERVER4:7001" --size 8000 --seed 4
expect_udp "8000 bytes over IPv6" "same 8000 $SERVER6:7001" \
    "[$SERVER6]:7001" --size 8000 --seed 6
expect_udp "30000 bytes over IPv4 (fragmented)" "same 30000 $SERVER4:7001" \
    "$SERVER4:7001" --size 30000 --seed 7
# 35 fragments each at MTU 1500: more pieces than one sendmsg() iovec
# batch took (the datagram used to go out truncated to 47,352 bytes over
# IPv4 and 46,328 over IPv6).
expect_udp "50000 bytes over IPv4 (35 fragments)" "same 50000 $SERVER4:7001" \
    "$SERVER4:7001" --size 50000 --seed 8
expect_udp "50000 bytes over IPv6 (35 fragments)" "same 50000 $SERVER6:7001" \
    "[$SERVER6]:7001" --size 50000 --seed 9
expect_udp "one socket, two IPv4 servers" \
    "same 1200 $SERVER4:7001\nsame 1200 $SERVER4B:7001" \
    "$SERVER4:7001" "$SERVER4B:7001" --size 1200
expect_udp "one socket, two IPv6 servers" \
    "same 1200 $SERVER6:7001\nsame 1200 $SERVER6B:7001" \
    "[$SERVER6]:7001" "[$SERVER6B]:7001" --size 1200
# The two-server exchanges each used one association (full cone).
assocs=$(grep -c "udpassociate \[" "$WORK/danted-1080.log" || true)
[ "$assocs" -eq 7 ] || fail "danted saw $assocs associations for 7 app sockets"

# iperf3 UDP at a fixed rate, upload then download (-R). The control
# connection is TCP through tun2socks as well.
for dir in up down; do
    rflag=()
    [ "$dir" = down ] && rflag=(-R)
    in_dev iperf3 -c "$SERVER4" -p 5201 -u -b 20M -l 1200 -t 3 "${rflag[@]}" -J \
        >"$WORK/iperf-$dir.json" || fail "iperf3 UDP $dir failed"
    read -r pkts lost pct < <(python3 -c '
import json, sys
s = json.load(open(sys.argv[1]))["end"]["sum"]
print(s["packets"], s["lost_packets"], s["lost_percent"])' "$WORK/iperf-$dir.json")
    log "iperf3 UDP $dir at 20 Mbit/s: $pkts datagrams, $lost lost ($pct %)"
    [ "$pkts" -gt 1000 ] || fail "iperf3 UDP $dir: only $pkts datagrams"
    # Not a performance check: 20 Mbit/s is far below what the path
    # carries, so loss here means datagrams are being dropped by mistake.
    python3 -c "import sys; sys.exit(0 if float('$pct') < 5 else 1)" ||
        fail "iperf3 UDP $dir: $pct % lost at 20 Mbit/s"
done

# Idle timeout (3 s here): every association ends, and danted logs the
# end of each session.
wait_for 100 bash -c "[ \$(grep -c 'udpassociate \]:.*Session duration' '$WORK/danted-1080.log') -ge 9 ]" ||
    fail "danted did not see the associations end"
log "danted: $(grep 'udpassociate \]:' "$WORK/danted-1080.log" | tail -n 1 | sed 's/.*\]: //' | cut -c1-160)"
[ "$(stat_value udp_active)" = 0 ] || fail "associations left open after the idle timeout"

# The cap (--max-udp 8): hold 8 associations, the 9th socket is dropped
# and counted; once they idle out, a new one works.
tool_net_bg "$WORK/hold.log" udpecho --bind "$SERVER4" --port 7002
wait_for 100 listening "$NS_NET" 7002 u || fail "UDP echo on 7002 did not start"
in_dev python3 - "$SERVER4" <<'EOF' >"$WORK/cap.out"
import socket, sys
socks = []
for i in range(9):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(1.5)
    s.sendto(b"x%d" % i, (sys.argv[1], 7002))
    try:
        s.recvfrom(100)
        print("reply")
    except socket.timeout:
        print("timeout")
    socks.append(s)
EOF
got=$(sort "$WORK/cap.out" | uniq -c | tr -s ' ' | tr '\n' ',')
log "9 sockets with --max-udp 8: $got"
[ "$got" = " 8 reply, 1 timeout," ] || fail "cap: want 8 replies and 1 timeout"
[ "$(stat_value udp_dropped)" -ge 1 ] || fail "cap drop not counted"
for _ in $(seq 20); do
    [ "$(stat_value udp_active)" = 0 ] && break
    sleep 0.5
done
[ "$(stat_value udp_active)" = 0 ] || fail "capped associations did not idle out"
expect_udp "after the cap cleared" "same 100 $SERVER4:7001" "$SERVER4:7001" --size 100
kill -0 "$T2S_PID" || fail "tun2socks died"

# The control connection ends the association: a second danted closes
# idle UDP sessions (and their control connections) after 2 s, long
# before tun2socks's own 60 s idle timeout.
stop_t2s
DANTED_EXTRA="timeout.io.udp: 2" start_danted none 1082
start_t2s --proxy "socks5://$PROXY4:1082" --udp-timeout 60
expect_udp "through the second danted" "same 100 $SERVER4:7001" "$SERVER4:7001" --size 100
[ "$(stat_value udp_active)" = 1 ] || fail "want one association open"
for _ in $(seq 20); do
    [ "$(stat_value udp_active)" = 0 ] && break
    sleep 0.5
done
[ "$(stat_value udp_active)" = 0 ] ||
    fail "the association outlived its control connection"
log "association ended with its control connection: $(grep 'udpassociate \]:' "$WORK/danted-1082.log" | tail -n 1 | sed 's/.*-> [0-9/]*: //')"
kill -0 "$T2S_PID" || fail "tun2socks died"
log PASS
