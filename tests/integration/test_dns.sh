#!/usr/bin/env bash
# DNS in every mode, with dnsmasq as the only resolver on the internet side:
#   relay    dig A/AAAA through danted's UDP relay; with microsocks (no UDP)
#            the query falls back to DNS over TCP
#   tcp      dig A/AAAA/MX as DNS over TCP through CONNECT (danted, microsocks)
#   fake-ip  dig A/AAAA answered from the pool; curl to a host name reaches
#            the server with the name resolved by the proxy (danted,
#            microsocks); other query types forwarded to --dns-resolver
# A capture on the device's uplink shows no DNS packet in any mode: every
# query leaves inside the connection to the proxy.
set -euo pipefail
# shellcheck source=SCRIPTDIR/lib.sh
. "$(dirname "$0")/lib.sh"
require_root
require_tools danted microsocks dnsmasq dig curl tcpdump python3 ss

setup_topology
start_dnsmasq
start_danted none 1080
start_microsocks 1081
mkdir -p "$WORK/www"
echo "hello from the server" >"$WORK/www/hi.txt"
spawn "$NS_NET" "$WORK/http.log" python3 -m http.server --bind :: \
    --directory "$WORK/www" 8080
wait_for 100 listening "$NS_NET" 8080 || fail "HTTP server did not start"

# Everything that leaves the device towards port 53, either protocol.
spawn "$NS_DEV" "$WORK/tcpdump.out" tcpdump -U --immediate-mode -n -i veth0 -w "$WORK/dns.pcap" port 53
CAPTURE_PID=$LAST_PID
wait_for 100 grep -q "listening on" "$WORK/tcpdump.out" || fail "tcpdump did not start"

# dig_expect WHAT SERVER TYPE NAME WANT-REGEX
dig_expect() {
    local what=$1 out
    out=$(in_dev dig +time=3 +tries=1 +short "@$2" "$4" "$3" 2>&1 | tr '\n' ' ') || true
    log "$what: dig @$2 $4 $3 -> $out"
    [[ $out =~ $5 ]] || fail "$what: want /$5/"
}

# Queries dnsmasq answered. In fake-ip mode the device's own A/AAAA
# lookups never reach it, so new ones come from the proxy resolving.
queries_from_proxy() {
    grep -c "query\[$1\] $2 from " "$WORK/dnsmasq.log" || true
}

for proxy in 1080 1081; do
    name=danted
    [ "$proxy" = 1081 ] && name=microsocks
    for mode in relay tcp; do
        start_t2s --proxy "socks5://$PROXY4:$proxy" --dns "$mode"
        dig_expect "$mode/$name A" "$SERVER4" A example.test "^$SERVER4 \$"
        dig_expect "$mode/$name AAAA over IPv6" "$SERVER6" AAAA example.test "^$SERVER6 \$"
        dig_expect "$mode/$name MX" "$SERVER4" MX example.test "^10 mail.example.test. \$"
        if [ "$proxy/$mode" = 1081/relay ]; then
            n=$(grep -c "does not support UDP ASSOCIATE" "$WORK/t2s.log" || true)
            log "relay/microsocks: $(grep "UDP ASSOCIATE" "$WORK/t2s.log" | head -n 1)"
            [ "$n" = 1 ] || fail "want one log line saying the proxy has no UDP, got $n"
        fi
        stop_t2s
    done
done

# fake-ip: the app resolves through tun2socks and connects to a fake
# address; the proxy gets the name and asks dnsmasq itself.
echo "nameserver 198.18.0.2" >"$WORK/dev-resolv.conf"
for proxy in 1080 1081; do
    name=danted
    [ "$proxy" = 1081 ] && name=microsocks
    start_t2s --proxy "socks5://$PROXY4:$proxy" --dns fake-ip \
        --dns-resolver "$SERVER4"
    dig_expect "fake-ip/$name A" 198.18.0.2 A example.test '^198\.18\.(12[89]|1[3-9][0-9]|2[0-5][0-9])\.[0-9]+ $'
    dig_expect "fake-ip/$name AAAA" fd00:18::2 AAAA example.test '^fd00:18:ffff::[0-9a-f]+ $'
    dig_expect "fake-ip/$name same name, same address" 198.18.0.2 A example.test "^$(in_dev dig +short @198.18.0.2 example.test A) \$"
    dig_expect "fake-ip/$name MX forwarded to the resolver" 198.18.0.2 MX example.test "^10 mail.example.test. \$"
    before=$(queries_from_proxy A example.test)
    for fam in -4 -6; do
        out=$(with_resolv "$WORK/dev-resolv.conf" ip netns exec "$NS_DEV" \
            curl -sS "$fam" -m 10 http://example.test:8080/hi.txt) ||
            fail "fake-ip/$name: curl $fam to example.test failed"
        log "fake-ip/$name: curl $fam http://example.test:8080/hi.txt -> $out"
        [ "$out" = "hello from the server" ] || fail "fake-ip/$name: wrong body"
    done
    after=$(queries_from_proxy A example.test)
    [ "$after" -gt "$before" ] ||
        fail "fake-ip/$name: the proxy did not resolve example.test"
    log "fake-ip/$name: dnsmasq answered $((after - before)) A queries from the proxy"
    stop_t2s
done

# A canary proves the capture sees DNS: one query sent straight out of
# the uplink on purpose, from a marked source port.
in_dev dig +time=1 +tries=1 -b "198.18.1.1#5353" @"$PROXY4" canary.test >/dev/null 2>&1 || true
sleep 0.5
kill "$CAPTURE_PID"
wait_for 50 bash -c "! kill -0 $CAPTURE_PID" || fail "tcpdump did not stop"
tcpdump -n -r "$WORK/dns.pcap" 2>/dev/null >"$WORK/dns.txt"
canary=$(grep -c "198.18.1.1.5353 > $PROXY4.53" "$WORK/dns.txt" || true)
leaks=$(grep -vc "198.18.1.1.5353 > $PROXY4.53" "$WORK/dns.txt" || true)
log "DNS packets on the device's uplink: $leaks (plus $canary canary)"
[ "$canary" -ge 1 ] || fail "the capture did not see the canary query"
[ "$leaks" -eq 0 ] || {
    head -n 5 "$WORK/dns.txt" >&2
    fail "DNS leaked outside the proxy"
}
log PASS
