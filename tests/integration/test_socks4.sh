#!/usr/bin/env bash
# danted as a SOCKS4 and SOCKS4a proxy (it speaks v4 on its SOCKS5 port):
#   socks4   64 MiB down and up with SHA-256 over IPv4; an IPv6
#            destination and a fake-ip name refused with a reset at once,
#            counted (err_proxy_reply) and said once; DNS to port 53 as
#            DNS over TCP through CONNECT (dns_tcp); other UDP dropped,
#            counted (udp_unsupported) and said once, no UDP ASSOCIATE
#   socks4a  fake-ip: the name goes to the proxy, which resolves it; 64 MiB
#            down and up to the name. danted 1.4 has no SOCKS4a (it
#            connects to 0.0.0.1), so the server is fake_proxy.py's
#            s4a-relay, a SOCKS4a server in Python.
set -euo pipefail
# shellcheck source=SCRIPTDIR/lib.sh
. "$(dirname "$0")/lib.sh"
require_root
require_tools danted dnsmasq dig python3 ss

SIZE=$((64 * 1024 * 1024))
setup_topology
start_dnsmasq
start_danted none 1080
tool_net_bg "$WORK/down.log" serve --port 8001 --mode send --size "$SIZE" --seed 7
tool_net_bg "$WORK/up.out" serve --port 8002 --mode sink --log "$WORK/up.log"
wait_for 100 listening "$NS_NET" 8002 || fail "servers did not start"
want_down=$(python3 "$TOOLS_PY" sha "$SIZE" --seed 7)
want_up=$(python3 "$TOOLS_PY" sha "$SIZE" --seed 9)

# ---- socks4 ----
start_t2s --proxy "socks4://nobody@$PROXY4:1080"
transfer_both_ways "socks4" "$SERVER4" "$SIZE" 9 "$want_down" "$want_up"
log "socks4 $SERVER4: 64 MiB down and up, SHA-256 match"
grep -q "socks4 proxy $PROXY4:1080" "$WORK/t2s.log" ||
    fail "the start line does not name the socks4 proxy"

before=$(stat_value err_proxy_reply)
expect_refused_within 3 "socks4: IPv6 destination" "$SERVER6" 8001
expect_refused_within 3 "socks4: IPv6 destination again" "$SERVER6" 8001
[ "$(stat_value err_proxy_reply)" -eq $((before + 2)) ] ||
    fail "socks4: the refused IPv6 connections were not counted in err_proxy_reply"
n=$(grep -c "cannot carry an IPv6 destination" "$WORK/t2s.log" || true)
[ "$n" = 1 ] || fail "socks4: want the IPv6 refusal said once, got $n lines"
log "socks4: $(grep "cannot carry" "$WORK/t2s.log")"

out=$(in_dev dig +time=3 +tries=1 +short "@$SERVER4" example.test A 2>&1 | tr '\n' ' ') || true
log "socks4: dig @$SERVER4 example.test -> $out"
[ "$out" = "$SERVER4 " ] || fail "socks4: DNS through the proxy failed"
[ "$(stat_value dns_tcp)" -ge 1 ] || fail "socks4: the query did not go as DNS over TCP"

before=$(stat_value udp_unsupported)
tool_dev udpsend "$SERVER4:9999" "$SERVER4:9998" --timeout 1 >/dev/null || true
[ "$(stat_value udp_unsupported)" -ge $((before + 2)) ] ||
    fail "socks4: dropped UDP not counted in udp_unsupported"
n=$(grep -c "dropping UDP: a socks4 proxy has no UDP" "$WORK/t2s.log" || true)
[ "$n" = 1 ] || fail "socks4: want the UDP drop said once, got $n lines"
grep -q "UDP ASSOCIATE" "$WORK/t2s.log" && fail "socks4: a UDP ASSOCIATE was tried"
stop_t2s

# ---- socks4 and a fake-ip name ----
start_t2s --proxy "socks4://$PROXY4:1080" --dns fake-ip --dns-resolver "$SERVER4"
fake=$(in_dev dig +time=3 +tries=1 +short @198.18.0.2 example.test A)
[[ $fake =~ ^198\.18\. ]] || fail "socks4: no fake address for example.test: '$fake'"
expect_refused_within 3 "socks4: a fake-ip name" "$fake" 8001
grep -q "cannot carry a host name" "$WORK/t2s.log" ||
    fail "socks4: the name refusal gives no reason"
stop_t2s

# ---- socks4a and a fake-ip name ----
spawn_resolved "$NS_NET" "$WORK/net-resolv.conf" "$WORK/s4a.log" python3 \
    "$T2S_ROOT/tests/integration/fake_proxy.py" --bind "$PROXY4" --port 1084 \
    --mode s4a-relay
wait_for 100 listening "$NS_NET" 1084 || fail "the SOCKS4a server did not start"
start_t2s --proxy "socks4a://nobody@$PROXY4:1084" --dns fake-ip --dns-resolver "$SERVER4"
fake=$(in_dev dig +time=3 +tries=1 +short @198.18.0.2 example.test A)
[[ $fake =~ ^198\.18\. ]] || fail "socks4a: no fake address for example.test: '$fake'"
transfer_both_ways "socks4a" "$fake" "$SIZE" 9 "$want_down" "$want_up"
log "socks4a example.test ($fake): 64 MiB down and up, SHA-256 match"
grep -q "^connect example.test 8001$" "$WORK/s4a.log" ||
    fail "socks4a: the proxy did not get the name"
expect_refused_within 3 "socks4a: IPv6 destination" "$SERVER6" 8001
grep -q "a socks4a proxy cannot carry an IPv6 destination" "$WORK/t2s.log" ||
    fail "socks4a: the IPv6 refusal gives no reason"
stop_t2s
log PASS
