#!/usr/bin/env bash
# scripts/tun2socks-route in network namespaces: a "machine" namespace with
# its own uplink to an "internet" namespace (danted, HTTP servers, dnsmasq).
#
#   MACH veth0 198.18.2.1/30 fd00:2::1/64, default routes via NET
#   NET  veth0 198.18.2.2/30 fd00:2::2/64: dnsmasq :53
#        lo 198.18.3.1 fd00:3::1: danted :1080 (not on MACH's link: reached
#        by MACH's default route, like a real proxy, so only the fwmark and
#        proxy rules keep it out of the TUN)
#        lo 198.19.0.20 fd00:19::20 (proxied servers), 198.19.5.1 (excluded)
#
# After up, curl to arbitrary addresses (v4, v6) goes through danted (the
# servers see danted's address, danted logs the CONNECT) and tun2socks
# counts exactly one session per curl (its own proxy connection never
# loops back into the TUN); the excluded network is reached directly; up
# twice changes nothing; down restores ip rule / ip route show table all
# (v4, v6) and resolv.conf byte for byte, also after kill -9 of tun2socks;
# kill switch: while tun2socks is dead (kill -9 in every mode: up, up
# --no-start with the systemd drop-in's down --keep-if-failed, tun2socks
# --route) a request to the servers fails and never reaches them over
# MACH's direct default route, until down; the systemd restart's up
# --no-start --replace re-attaches without deleting any rule or table-7331
# route (watched with ip monitor); down after a "reboot" (the
# /run state, TUN, rules and routes gone) still restores resolv.conf from
# the persistent copy; an IPv6 nameserver in resolv.conf works as the
# --dns tcp resolver (bracketed; a link-local one before it is skipped);
# up refuses (and leaves nothing) when the proxy would be routed into the
# TUN or the recorded state is inconsistent; --no-start (tun2socks already
# running) works. DNS: up --dns points MACH's resolv.conf at the TUN side;
# dig through tun2socks is checked when the binary has DNS forwarding.
# up --config with a proxy password holding '#', '=' and a space keeps
# the proxy tun2socks reads direct (the script reads the file through
# tun2socks --print-config), also as the systemd drop-in runs it (up
# --no-start --config, down --config: the TUN from the file); under
# tun2socks --route the script never runs tun2socks.
#
# ip netns exec bind-mounts /etc/netns/MACH/resolv.conf over
# /etc/resolv.conf, so the script edits that copy; the host's
# /etc/resolv.conf is checked unchanged at the end (and before each step
# that could write it, the bind mount is verified).
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"

require_root
require_tools danted curl python3 ss dnsmasq dig

ROUTE=$T2S_ROOT/scripts/tun2socks-route
MACH=$NS_DEV
NET=$NS_NET
MARKER="t2s-route-test-$SUFFIX"
HOST_RESOLV_SUM=""
NETNS_DIRS=()
MADE_ETC_NETNS=0

in_mach() { ip netns exec "$MACH" "$@"; }

route_cleanup() {
    local pid _
    # a tun2socks started by the script is ours too
    for f in "$WORK"/state/*/pid; do
        [ -f "$f" ] || continue
        read -r pid _ <"$f"
        kill -9 "$pid" 2>/dev/null || true
    done
    [ -z "${NOSTART_PID:-}" ] || kill -9 "$NOSTART_PID" 2>/dev/null || true
    t2s_cleanup
    for d in "${NETNS_DIRS[@]}"; do
        rm -f "$d/resolv.conf"
        rmdir "$d" 2>/dev/null || true
    done
    [ "$MADE_ETC_NETNS" -eq 0 ] || rmdir /etc/netns 2>/dev/null || true
    if [ -n "$HOST_RESOLV_SUM" ] &&
        [ "$(sha256sum </etc/resolv.conf 2>/dev/null)" != "$HOST_RESOLV_SUM" ]; then
        log "ERROR: the host's /etc/resolv.conf changed during the test"
    fi
}

# The script, run on MACH, with its state (/run and persistent) under $WORK.
route() {
    in_mach env TUN2SOCKS_ROUTE_STATE_DIR="$WORK/state" TUN2SOCKS_BIN="$T2S_BIN" \
        TUN2SOCKS_ROUTE_PERSIST_DIR="$WORK/persist" \
        SSH_CONNECTION="${FAKE_SSH:-}" "$ROUTE" "$@"
}

snapshot() {
    in_mach sh -c 'ip rule; echo; ip -6 rule; echo; ip route show table all
        echo; ip -6 route show table all; echo; cat /etc/resolv.conf'
}

# Routing only (resolv.conf left out), to compare two "up" states.
rules_routes() {
    in_mach sh -c 'ip rule; ip -6 rule; ip route show table all; ip -6 route show table all'
}

same_as_before() { # WHAT
    snapshot >"$WORK/snap.now"
    if ! cmp -s "$WORK/snap.before" "$WORK/snap.now"; then
        diff -u "$WORK/snap.before" "$WORK/snap.now" >&2 || true
        fail "$1: routing/DNS state differs from before up"
    fi
    log "ok: $1: ip rule, ip route show table all (v4, v6), resolv.conf byte for byte as before"
}

# resolv.conf inside MACH must be the namespace's copy, never the host's.
check_resolv_isolated() {
    in_mach grep -q "$MARKER" /etc/resolv.conf ||
        fail "inside $MACH /etc/resolv.conf is not the namespace copy; not running"
    ! grep -q "$MARKER" /etc/resolv.conf || fail "the host's /etc/resolv.conf has the marker"
}

state_pid() { # TUN
    local pid _
    [ -f "$WORK/state/$1/pid" ] || return 1
    read -r pid _ <"$WORK/state/$1/pid"
    echo "$pid"
}

http_get() { # URL: body (server replies with its own name)
    in_mach curl -sS --max-time 10 "$1"
}

client_seen() { # LOGFILE ADDR: the server logged a request from ADDR
    grep -Eq "^(::ffff:)?$2 - " "$1"
}

seen_count() { # LOGFILE ADDR: requests the server logged from ADDR
    grep -Ec "^(::ffff:)?$2 - " "$1" || true
}

# ip monitor of MACH's rules and routes, to prove a step never lifts the
# kill switch: monitor_start, the step, monitor_expect_kept WHAT.
monitor_start() {
    spawn "$MACH" "$WORK/monitor.log" ip -o monitor route rule
    MON_PID=$LAST_PID
    # a marker route, until the monitor shows it is listening
    for _ in $(seq 50); do
        in_mach ip route add 198.18.9.0/24 dev lo table 999
        wait_for 2 grep -q '198.18.9.0/24 dev lo table 999' "$WORK/monitor.log" && break
        in_mach ip route del 198.18.9.0/24 dev lo table 999
    done
    grep -q '198.18.9.0/24 dev lo table 999' "$WORK/monitor.log" || fail "ip monitor saw nothing"
    in_mach ip route del 198.18.9.0/24 dev lo table 999
}

monitor_expect_kept() { # WHAT
    sleep 0.3
    kill "$MON_PID"
    wait "$MON_PID" 2>/dev/null || true
    # (the kernel's own local routes of the TUN come and go: not ours)
    if grep -E '^Deleted ([0-9]+:|.*table 7331)' "$WORK/monitor.log" >&2; then
        fail "$1 lifted the kill switch for a moment (rules/routes deleted)"
    fi
    log "ok: $1: no rule or table-7331 route deleted meanwhile"
}

# Kill switch: tun2socks is dead and down has not run. MACH still has its
# direct default routes, but a request to the servers (v4, v6) must fail
# and never reach them (their logs show no request from MACH's address).
expect_blocked() { # WHAT
    local n4 n6 out
    n4=$(seen_count "$WORK/web4.log" 198.18.2.1)
    n6=$(seen_count "$WORK/web6.log" fd00:2::1)
    if out=$(in_mach curl -sS --max-time 3 http://198.19.0.20:8080/ 2>&1); then
        fail "$1: a request to 198.19.0.20 succeeded (leak): $out"
    fi
    if out=$(in_mach curl -sS --max-time 3 "http://[fd00:19::20]:8080/" 2>&1); then
        fail "$1: a request to fd00:19::20 succeeded (leak): $out"
    fi
    sleep 0.2
    [ "$(seen_count "$WORK/web4.log" 198.18.2.1)" = "$n4" ] ||
        fail "$1: 198.19.0.20 got a request directly from MACH (leak)"
    [ "$(seen_count "$WORK/web6.log" fd00:2::1)" = "$n6" ] ||
        fail "$1: fd00:19::20 got a request directly from MACH (leak)"
    log "ok: $1: blocked (curl: $(tail -c 60 <<<"$out" | tr '\n' ' '))"
}

# After down the direct default routes work again.
expect_direct() { # WHAT
    local n4 n6
    n4=$(seen_count "$WORK/web4.log" 198.18.2.1)
    n6=$(seen_count "$WORK/web6.log" fd00:2::1)
    [ "$(http_get http://198.19.0.20:8080/)" = web4 ] || fail "$1: no direct IPv4 request"
    [ "$(http_get "http://[fd00:19::20]:8080/")" = web6 ] || fail "$1: no direct IPv6 request"
    [ "$(seen_count "$WORK/web4.log" 198.18.2.1)" -gt "$n4" ] ||
        fail "$1: 198.19.0.20 did not see MACH's own address"
    [ "$(seen_count "$WORK/web6.log" fd00:2::1)" -gt "$n6" ] ||
        fail "$1: fd00:19::20 did not see MACH's own address"
    log "ok: $1: direct IPv4 and IPv6 requests reach the servers again"
}


# ------------------------------------------------------------ topology
WORK=$(mktemp -d /tmp/t2s-route.XXXXXX)
trap route_cleanup EXIT

# Under tun2socks --route the script must never run tun2socks: it gets
# every setting on its command line (calls go one way).
printf '#!/bin/sh\necho "$*" >>"%s"\n' "$WORK/callback.log" >"$WORK/callback"
chmod 755 "$WORK/callback"
HOST_RESOLV_SUM=$(sha256sum </etc/resolv.conf)

[ -d /etc/netns ] || MADE_ETC_NETNS=1
for ns in "$MACH" "$NET"; do
    [ ! -e "/etc/netns/$ns" ] || fail "/etc/netns/$ns exists already"
    mkdir -p "/etc/netns/$ns"
    NETNS_DIRS+=("/etc/netns/$ns")
    printf '# %s\nnameserver 198.18.2.2\n' "$MARKER" >"/etc/netns/$ns/resolv.conf"
done

ip netns add "$MACH"
ip netns add "$NET"
ip link add "t2sr0$SUFFIX" type veth peer name "t2sr1$SUFFIX"
ip link set "t2sr0$SUFFIX" netns "$MACH" name veth0
ip link set "t2sr1$SUFFIX" netns "$NET" name veth0
in_mach ip link set lo up
in_net ip link set lo up
in_mach ip addr add 198.18.2.1/30 dev veth0
in_mach ip -6 addr add fd00:2::1/64 dev veth0 nodad
in_net ip addr add 198.18.2.2/30 dev veth0
in_net ip -6 addr add fd00:2::2/64 dev veth0 nodad
in_mach ip link set veth0 up
in_net ip link set veth0 up
in_mach ip route add default via 198.18.2.2
in_mach ip -6 route add default via fd00:2::2
in_net ip addr add 198.19.0.20/32 dev lo
in_net ip -6 addr add fd00:19::20/128 dev lo nodad
in_net ip addr add 198.19.5.1/32 dev lo
in_net ip addr add 198.18.3.1/32 dev lo
in_net ip -6 addr add fd00:3::1/128 dev lo nodad
# NET has no route to MACH's TUN addresses: a packet leaking out of MACH
# with a TUN source address gets no answer.

cat >"$WORK/danted.conf" <<EOC
logoutput: $WORK/danted.log
internal: 198.18.3.1 port = 1080
internal: fd00:3::1 port = 1080
external: 198.18.3.1
external: fd00:3::1
user.privileged: root
user.unprivileged: nobody
clientmethod: none
socksmethod: none
client pass { from: 0/0 to: 0/0
    log: error
}
socks pass { from: 0/0 to: 0/0
    log: error connect
}
EOC
spawn "$NET" "$WORK/danted.out" danted -f "$WORK/danted.conf" -p "$WORK/danted.pid"
wait_for 100 listening "$NET" 1080 || fail "danted did not start"

# One HTTP server per address, each with its own access log.
for srv in 198.19.0.20:web4 fd00:19::20:web6 198.19.5.1:excl; do
    addr=${srv%:*}
    name=${srv##*:}
    mkdir -p "$WORK/$name"
    echo "$name" >"$WORK/$name/index.html"
    spawn "$NET" "$WORK/$name.log" python3 -u -m http.server --bind "$addr" \
        --directory "$WORK/$name" 8080
done
for a in 198.19.0.20 fd00:19::20 198.19.5.1; do
    wait_for 100 bash -c "ip netns exec $NET ss -Hlnt 'sport = :8080' | grep -qF '$a'" ||
        fail "HTTP server on $a did not start"
done

[ "$(in_mach curl -sS --max-time 5 --socks5 198.18.3.1:1080 http://198.19.0.20:8080/)" = web4 ] ||
    fail "danted does not relay for MACH before up"
: >"$WORK/web4.log"

spawn "$NET" "$WORK/dnsmasq.log" dnsmasq -k --conf-file=/dev/null --no-resolv --no-hosts \
    --user=root --listen-address=198.18.2.2 --listen-address=fd00:2::2 --bind-interfaces --pid-file= \
    --address=/example.test/198.19.0.20 --address=/example.test/fd00:19::20 \
    --address=/proxy.test/198.18.3.1 --address=/proxy.test/fd00:3::1 --log-queries \
    --log-facility=-
wait_for 100 listening "$NET" 53 u || fail "dnsmasq did not start"

# IPv6 link-local addresses must have settled before the first snapshot.
wait_for 100 bash -c "! ip netns exec $MACH ip -6 addr show tentative | grep -q . &&
    ip netns exec $MACH ip -6 route show table local | grep -q 'fe80::.* dev veth0'" ||
    fail "IPv6 addresses on $MACH did not settle"
check_resolv_isolated
in_mach dig +short +time=2 +tries=1 example.test | grep -qx 198.19.0.20 ||
    fail "dnsmasq does not answer directly"
snapshot >"$WORK/snap.before"

# ------------------------------------------------------------ refusals
out=$(route up --proxy socks5://198.18.0.2:1080 --log "$WORK/t2s-refused.log" 2>&1) &&
    fail "up with the proxy inside the TUN network succeeded: $out"
log "ok: refused a proxy inside the TUN network: $(grep refusing <<<"$out" | head -n 1)"
grep -q refusing <<<"$out" || fail "no clear refusal: $out"
same_as_before "after the refused up"

out=$(route up --proxy socks5://198.18.3.1:1080 --exclude 300.1.1.1/8 2>&1) &&
    fail "up with a bad --exclude succeeded"
same_as_before "after an up with a bad --exclude ($out)"

out=$(route up --proxy socks5://198.18.3.1:1080 --log "$WORK/t2s-refused.log" -- --mtu 1 2>&1) &&
    fail "up with a tun2socks that cannot start succeeded"
grep -q 'tun2socks is not running' <<<"$out" || fail "no clear message when tun2socks fails: $out"
same_as_before "after tun2socks failed to start ($(grep -m1 'bad\|mtu' <<<"$out"))"

# ------------------------------------------------------------ up
check_resolv_isolated
FAKE_SSH="198.19.6.7 40000 198.18.2.1 22" route up --proxy socks5://198.18.3.1:1080 \
    --exclude 198.19.5.0/24 --dns tcp --log "$WORK/t2s.log" ||
    fail "up failed"
T2S_PID=$(state_pid tun0) || fail "no tun2socks pid recorded"
kill -0 "$T2S_PID" || fail "tun2socks is not running"
log "up: $(head -n 1 "$WORK/t2s.log")"
in_mach ip rule | sed 's/^/    /' >&2

[ "$(in_mach cat /etc/resolv.conf | grep nameserver)" = "nameserver 198.18.0.2" ] ||
    fail "resolv.conf does not point at 198.18.0.2: $(in_mach cat /etc/resolv.conf)"
log "ok: MACH's resolv.conf: $(in_mach grep nameserver /etc/resolv.conf)"
[ "$(sha256sum </etc/resolv.conf)" = "$HOST_RESOLV_SUM" ] || fail "the host's /etc/resolv.conf changed"

dev_of() { in_mach ip route get "$@" | sed -n 's/.* dev \([^ ]*\).*/\1/p' | head -n 1; }
[ "$(dev_of 198.19.0.20)" = tun0 ] || fail "198.19.0.20 is not routed into tun0"
[ "$(dev_of 2001:db8::1)" = tun0 ] || fail "2001:db8::1 is not routed into tun0"
[ "$(dev_of 198.18.3.1 mark 0x7331)" = veth0 ] || fail "marked proxy traffic not via veth0"
[ "$(dev_of 198.18.3.1)" = veth0 ] || fail "proxy traffic not via veth0"
[ "$(dev_of 198.19.5.1)" = veth0 ] || fail "excluded 198.19.5.1 not via veth0"
[ "$(dev_of 198.19.6.7)" = veth0 ] || fail "the SSH client 198.19.6.7 not via veth0"
log "ok: routes: arbitrary v4/v6 -> tun0; proxy (marked or not), excluded net, SSH client -> veth0"

body=$(http_get http://198.19.0.20:8080/) || fail "curl to 198.19.0.20 failed"
[ "$body" = web4 ] || fail "unexpected body from 198.19.0.20: $body"
[ "$(stat_value tcp_total)" = 1 ] ||
    fail "tcp_total after one curl is $(stat_value tcp_total), want 1 (loop?)"
client_seen "$WORK/web4.log" 198.18.3.1 || fail "198.19.0.20 did not see danted's address"
client_seen "$WORK/web4.log" 198.18.2.1 && fail "198.19.0.20 saw MACH directly"
grep -q 'connect.*198\.19\.0\.20\.8080' "$WORK/danted.log" ||
    fail "danted did not log the CONNECT to 198.19.0.20"
log "ok: IPv4 curl through danted (server saw 198.18.3.1, danted logged it, tcp_total=1)"

body=$(http_get "http://[fd00:19::20]:8080/") || fail "curl to [fd00:19::20] failed"
[ "$body" = web6 ] || fail "unexpected body from fd00:19::20: $body"
[ "$(stat_value tcp_total)" = 2 ] || fail "tcp_total after two curls is not 2"
client_seen "$WORK/web6.log" fd00:3::1 || fail "fd00:19::20 did not see danted's address"
grep -q 'connect.*fd00:19::20\.8080' "$WORK/danted.log" ||
    fail "danted did not log the CONNECT to fd00:19::20"
log "ok: IPv6 curl through danted (server saw fd00:3::1, tcp_total=2)"

body=$(http_get http://198.19.5.1:8080/) || fail "curl to the excluded 198.19.5.1 failed"
[ "$body" = excl ] || fail "unexpected body from 198.19.5.1: $body"
client_seen "$WORK/excl.log" 198.18.2.1 || fail "198.19.5.1 did not see MACH's own address"
grep -q '198\.19\.5\.1' "$WORK/danted.log" && fail "the excluded network went through danted"
[ "$(stat_value tcp_total)" = 2 ] || fail "the excluded connection entered tun2socks"
log "ok: excluded 198.19.5.0/24 direct (server saw 198.18.2.1, not in danted's log, tcp_total=2)"

ans=$(in_mach dig +short +time=3 +tries=2 example.test) || true
[ "$ans" = 198.19.0.20 ] || fail "dig example.test via tun2socks (--dns tcp): '$ans'"
log "ok: dig example.test through tun2socks --dns tcp: $ans"

rules_routes >"$WORK/up1"
route up --proxy socks5://198.18.3.1:1080 --exclude 198.19.5.0/24 --dns tcp \
    --log "$WORK/t2s.log" || fail "second up failed"
rules_routes >"$WORK/up2"
cmp -s "$WORK/up1" "$WORK/up2" || {
    diff -u "$WORK/up1" "$WORK/up2" >&2
    fail "second up changed the rules/routes"
}
[ "$(in_mach ip rule | grep -c 'lookup 7331')" = 1 ] || fail "table rule duplicated"
log "ok: up twice: rules and routes unchanged ($(in_mach ip rule | wc -l) rules)"
out=$(route up --proxy socks5://198.18.3.1:1080 2>&1) && fail "up with other settings succeeded"
log "ok: up with other settings refused: $(head -n 1 <<<"$out")"
route status >"$WORK/status" || fail "status says not whole: $(cat "$WORK/status")"

route down || fail "down failed"
kill -0 "$T2S_PID" 2>/dev/null && fail "tun2socks still runs after down"
T2S_PID=""
in_mach ip link show tun0 >/dev/null 2>&1 && fail "tun0 still exists after down"
[ ! -e "$WORK/state/tun0" ] || fail "state left in $WORK/state/tun0"
same_as_before "after down"
route down || fail "second down failed"
same_as_before "after a second down"
rc=0
route status >/dev/null || rc=$?
[ "$rc" = 3 ] || fail "status after down: exit $rc, want 3"

# ------------------------------------------------------------ kill -9
check_resolv_isolated
# the proxy by name this time: both its addresses stay direct
route up --proxy socks5://proxy.test:1080 --exclude 198.19.5.0/24 --dns fake-ip \
    --log "$WORK/t2s-k.log" || fail "up (kill -9 round) failed"
in_mach ip rule list priority 7301 | grep -q 'to 198.18.3.1 lookup main' ||
    fail "proxy.test: its IPv4 address is not kept direct"
in_mach ip -6 rule list priority 7301 | grep -q 'to fd00:3::1 lookup main' ||
    fail "proxy.test: its IPv6 address is not kept direct"
pid=$(state_pid tun0)
# fake-ip: tun2socks answers with a pool address and CONNECTs by name;
# danted resolves example.test through NET's dnsmasq.
ans=$(in_mach dig +short +time=3 +tries=2 example.test A) || true
if ! [[ $ans =~ ^198\.18\.([0-9]+)\.[0-9]+$ ]] || [ "${BASH_REMATCH[1]}" -lt 128 ]; then
    fail "dig example.test via tun2socks (--dns fake-ip): '$ans', want an address of 198.18.128.0/17"
fi
# MACH's own lookups stay in tun2socks; only danted asks dnsmasq.
before=$(grep -c 'query\[A*\] example\.test' "$WORK/dnsmasq.log" || true)
body=$(http_get http://example.test:8080/) || fail "curl http://example.test:8080/ (fake-ip) failed"
case $body in web4 | web6) ;; *) fail "fake-ip: unexpected body $body" ;; esac
after=$(grep -c 'query\[A*\] example\.test' "$WORK/dnsmasq.log" || true)
[ "$after" -gt "$before" ] || fail "danted did not resolve example.test (CONNECT by name)"
log "ok: fake-ip: example.test -> $ans, curl by name went through danted as a name"
kill -9 "$pid"
wait_for 50 bash -c "! kill -0 $pid 2>/dev/null" || fail "tun2socks survived kill -9"
rc=0
route status >"$WORK/status" || rc=$?
[ "$rc" = 4 ] || fail "status after kill -9: exit $rc, want 4"
log "ok: status after kill -9: $(grep PROBLEM "$WORK/status" | head -n 1)"
expect_blocked "up, tun2socks killed (persistent TUN)"
in_mach ip link del tun0 # as if tun2socks had owned a non-persistent TUN
expect_blocked "up, tun2socks killed, TUN gone"
out=$(route up --proxy socks5://proxy.test:1080 --exclude 198.19.5.0/24 --dns fake-ip \
    --log "$WORK/t2s-k.log" 2>&1) && fail "up over a dead tun2socks succeeded"
grep -q 'state is inconsistent' <<<"$out" || fail "up over a dead tun2socks: not refused as inconsistent: $out"
log "ok: up refused over the stale state: $(grep refusing <<<"$out")"
route down || fail "down after kill -9 failed"
same_as_before "down after kill -9"
expect_direct "down after kill -9"

# ------------------------------------------------------------ inconsistent
route up --proxy socks5://198.18.3.1:1080 --log "$WORK/t2s-i.log" || fail "up (round 3) failed"
in_mach ip rule del priority 7301 to 198.18.3.1 lookup main
out=$(route up --proxy socks5://198.18.3.1:1080 --log "$WORK/t2s-i.log" 2>&1) &&
    fail "up over a half-removed state succeeded"
grep -q 'rule missing' <<<"$out" || fail "the refusal does not name the missing rule: $out"
log "ok: up refused, a rule was removed by hand: $(grep 'rule missing' <<<"$out")"
route down || fail "down over a half-removed state failed"
same_as_before "down over a half-removed state"

# ------------------------------------------------------------ IPv6 nameserver
# --dns tcp takes the first usable nameserver of resolv.conf as the
# resolver reached through the proxy: here a link-local one (useless
# through a proxy: skipped) and then an IPv6 one (must be bracketed).
mkdir -p "$WORK/rc6"
printf 'nameserver fe80::1%%veth0\nnameserver fd00:2::2\nnameserver 198.18.2.2\n' >"$WORK/rc6/resolv.conf"
cp "$WORK/rc6/resolv.conf" "$WORK/rc6/orig"
route up --proxy socks5://198.18.3.1:1080 --dns tcp --resolv-conf "$WORK/rc6/resolv.conf" \
    --log "$WORK/t2s-6.log" || fail "up --dns tcp with an IPv6 nameserver in resolv.conf failed"
before=$(grep -c 'query\[A\] example\.test from fd00:3::1' "$WORK/dnsmasq.log" || true)
ans=$(in_mach dig +short +time=3 +tries=2 @198.18.0.2 example.test A) || true
[ "$ans" = 198.19.0.20 ] || fail "--dns tcp via the IPv6 nameserver: dig example.test gave '$ans'"
after=$(grep -c 'query\[A\] example\.test from fd00:3::1' "$WORK/dnsmasq.log" || true)
[ "$after" -gt "$before" ] || fail "the query did not reach fd00:2::2 through danted (fd00:3::1)"
log "ok: --dns tcp with resolver [fd00:2::2] (link-local fe80::1%veth0 skipped): $ans, dnsmasq saw fd00:3::1"
route down || fail "down (IPv6 nameserver round) failed"
cmp -s "$WORK/rc6/orig" "$WORK/rc6/resolv.conf" || fail "--resolv-conf file not restored"
same_as_before "down (IPv6 nameserver round)"
out=$(route up --proxy socks5://198.18.3.1:1080 --dns tcp --dns-resolver fe80::1%veth0 2>&1) &&
    fail "up with a link-local --dns-resolver succeeded"
same_as_before "after a refused link-local --dns-resolver ($(tail -n 1 <<<"$out"))"

# ------------------------------------------------------------ --config
# A tun2socks config file whose proxy password holds '#', '=' and a
# space: tun2socks reads it whole (a '#' starts a comment only at the
# start of a line), and so must the script, which takes it from
# 'tun2socks --print-config' (its own parser of before cut the line at
# the '#' and refused: "cannot resolve the proxy host 'alice'").
printf '# tun2socks.conf\ntun = tun0 \nproxy = socks5://alice:pa#ss w=rd@198.18.3.1:1080\n' >"$WORK/hash.conf"
printf 'dns = fake-ip\n' >>"$WORK/hash.conf"
chmod 600 "$WORK/hash.conf"
printed=$(in_mach "$T2S_BIN" --config "$WORK/hash.conf" --print-config) ||
    fail "tun2socks --config --print-config failed"
grep -qx 'proxy *= *socks5://198\.18\.3\.1:1080' <<<"$printed" ||
    fail "tun2socks reads another proxy: $(grep '^proxy' <<<"$printed" | head -n 1)"
! grep -q 'pa#ss' <<<"$printed" || fail "--print-config printed the password"
route up --config "$WORK/hash.conf" --log "$WORK/t2s-c.log" ||
    fail "up --config with a proxy password holding '#' failed"
grep -qx 'proxy4 198.18.3.1' "$WORK/state/tun0/settings" ||
    fail "the script keeps another proxy direct: $(grep proxy "$WORK/state/tun0/settings")"
[ "$(dev_of 198.18.3.1)" = veth0 ] || fail "--config: the proxy is not routed via veth0"
: >"$WORK/web4.log"
[ "$(http_get http://198.19.0.20:8080/)" = web4 ] || fail "--config: curl through tun0 failed"
client_seen "$WORK/web4.log" 198.18.3.1 || fail "--config: the request did not go through danted"
route down || fail "down (--config round) failed"
same_as_before "down (--config round)"
log "ok: a proxy password with '#', '=' and a space in the config file: tun2socks and the script both use 198.18.3.1"
# Two proxies in the config file: the script keeps both addresses direct
# (198.18.3.9 has no server; without its rule it would go into tun0).
printf 'tun = tun0\nproxy = socks5://198.18.3.1:1080\nproxy = socks5://198.18.3.9:1080\n' >"$WORK/two.conf"
route up --config "$WORK/two.conf" --log "$WORK/t2s-two.log" ||
    fail "up --config with two proxies failed"
for a in 198.18.3.1 198.18.3.9; do
    grep -qx "proxy4 $a" "$WORK/state/tun0/settings" ||
        fail "two proxies: $a not kept direct: $(grep proxy "$WORK/state/tun0/settings")"
    [ "$(dev_of "$a")" = veth0 ] || fail "two proxies: $a routed via $(dev_of "$a")"
    [ "$(dev_of "$a" mark 0x7331)" = veth0 ] || fail "two proxies: marked traffic to $a not via veth0"
done
[ "$(http_get http://198.19.0.20:8080/)" = web4 ] || fail "two proxies: curl through tun0 failed"
route down || fail "down (two proxies) failed"
same_as_before "down (two proxies)"
log "ok: two proxies in the config file: both addresses stay direct"
# As under the systemd drop-in: tun2socks runs on a config file, the
# script only routes (up --no-start --replace --config FILE --pid) and
# takes the TUN (tun1 here) from the file, for down too.
sed 's/^tun = tun0/tun = tun1/' "$WORK/hash.conf" >"$WORK/hash1.conf"
chmod 600 "$WORK/hash1.conf"
spawn "$MACH" "$WORK/t2s-cn.log" "$T2S_BIN" --config "$WORK/hash1.conf" --tun-ipv4 198.18.0.5/30 \
    --tun-ipv6 fd00:18:1::1/64 --fwmark 0x7331
NOSTART_PID=$LAST_PID
route up --no-start --replace --config "$WORK/hash1.conf" --pid "$NOSTART_PID" ||
    fail "up --no-start --config failed"
grep -qx 'proxy4 198.18.3.1' "$WORK/state/tun1/settings" ||
    fail "up --no-start --config keeps another proxy direct: $(grep proxy "$WORK/state/tun1/settings" 2>&1)"
[ "$(dev_of 198.18.3.1 mark 0x7331)" = veth0 ] || fail "--no-start --config: marked proxy traffic not via veth0"
[ "$(dev_of 198.19.0.20)" = tun1 ] || fail "--no-start --config: 198.19.0.20 not routed into tun1"
[ "$(http_get http://198.19.0.20:8080/)" = web4 ] || fail "--no-start --config: curl through tun1 failed"
SERVICE_RESULT=success route down --keep-if-failed --config "$WORK/hash1.conf" ||
    fail "down --keep-if-failed --config failed"
kill "$NOSTART_PID"
wait_for 100 bash -c "! kill -0 $NOSTART_PID 2>/dev/null" || fail "tun2socks did not stop"
NOSTART_PID=""
same_as_before "down --keep-if-failed --config (TUN from the file), tun2socks stopped"

# ------------------------------------------------------------ reboot
# A reboot wipes the processes, the TUN, the rules and routes and /run
# (the state directory), but not /etc/resolv.conf: down must restore it
# from what up kept on persistent storage.
check_resolv_isolated
route up --proxy socks5://198.18.3.1:1080 --dns tcp --log "$WORK/t2s-b.log" || fail "up (reboot round) failed"
pid=$(state_pid tun0)
in_mach grep -qx 'nameserver 198.18.0.2' /etc/resolv.conf || fail "up (reboot round): resolv.conf not ours"
kill -9 "$pid"
wait_for 50 bash -c "! kill -0 $pid 2>/dev/null" || fail "tun2socks survived kill -9"
rm -rf "$WORK/state/tun0"
in_mach ip link del tun0
for f in 4 6; do
    for p in 7300 7301 7302 7303 7304; do
        while in_mach ip -"$f" rule del priority "$p" 2>/dev/null; do :; done
    done
    while in_mach ip -"$f" route del default table 7331 2>/dev/null; do :; done
done
rc=0
route status >"$WORK/status" || rc=$?
[ "$rc" = 4 ] || fail "status after a reboot: exit $rc, want 4 (resolv.conf still to restore)"
log "ok: status after a reboot: $(grep PROBLEM "$WORK/status" | head -n 1)"
route down || fail "down after a reboot failed"
same_as_before "down after a reboot (/run state gone)"
[ ! -e "$WORK/persist/tun0" ] || fail "persistent state left in $WORK/persist/tun0"

# A state written by the previous version (the copy of resolv.conf in
# the /run state directory) is still taken down whole.
mkdir -p "$WORK/rcold"
printf 'nameserver 198.18.2.2\n' >"$WORK/rcold/resolv.conf"
route up --proxy socks5://198.18.3.1:1080 --dns fake-ip --resolv-conf "$WORK/rcold/resolv.conf" \
    --log "$WORK/t2s-o.log" || fail "up (old state layout round) failed"
mv "$WORK/persist/tun0"/resolv.kind "$WORK/persist/tun0"/resolv.orig "$WORK/persist/tun0"/resolv.ours \
    "$WORK/state/tun0"/
rm -r "$WORK/persist/tun0"
route down || fail "down of an old-layout state failed"
[ "$(cat "$WORK/rcold/resolv.conf")" = "nameserver 198.18.2.2" ] ||
    fail "down of an old-layout state did not restore resolv.conf"
same_as_before "down of a state with the copy of resolv.conf in /run (previous layout)"

# ------------------------------------------------------------ --no-start
# tun2socks owns tun1 (as with systemd or tun2socks --route), here with the
# proxy's IPv6 address; the script only routes.
spawn "$MACH" "$WORK/t2s-n.log" "$T2S_BIN" --tun tun1 --tun-ipv4 198.18.0.5/30 \
    --tun-ipv6 fd00:18:1::1/64 --fwmark 0x7331 --proxy "socks5://[fd00:3::1]:1080"
NOSTART_PID=$LAST_PID
# DNS here goes to a resolv.conf that is a symlink (as with systemd-resolved),
# given by --resolv-conf: up replaces the link by a file, down puts it back.
mkdir -p "$WORK/rc"
printf 'nameserver 127.0.0.53\n' >"$WORK/rc/stub.conf"
ln -s stub.conf "$WORK/rc/resolv.conf"
route up --no-start --tun tun1 --pid "$NOSTART_PID" --proxy-addr fd00:3::1 \
    --table 100 --priority 5000 --dns fake-ip --dns-addr 198.18.0.6 --resolv-conf "$WORK/rc/resolv.conf" ||
    fail "up --no-start failed"
[ ! -L "$WORK/rc/resolv.conf" ] || fail "--resolv-conf: the symlink was not replaced"
grep -qx 'nameserver 198.18.0.6' "$WORK/rc/resolv.conf" ||
    fail "--resolv-conf: no 'nameserver 198.18.0.6' in the replacement"
grep -qx 'nameserver 127.0.0.53' "$WORK/rc/stub.conf" || fail "the symlink's target was changed"
[ "$(dev_of 198.19.0.20)" = tun1 ] || fail "--no-start: 198.19.0.20 not routed into tun1"
in_mach ip -6 rule list priority 5004 | grep -q 'lookup 100' || fail "--no-start: no rule for table 100"
[ "$(dev_of fd00:3::1)" = veth0 ] || fail "--no-start: the IPv6 proxy is not routed via veth0"
[ "$(dev_of fd00:3::1 mark 0x7331)" = veth0 ] || fail "--no-start: marked IPv6 proxy traffic not via veth0"
body=$(http_get "http://[fd00:19::20]:8080/") || fail "--no-start: curl failed"
[ "$body" = web6 ] || fail "--no-start: unexpected body $body"
route status --tun tun1 >/dev/null || fail "--no-start: status not whole"
route down --tun tun1 || fail "down --no-start failed" # table, priority, resolv.conf from the state
[ "$(readlink "$WORK/rc/resolv.conf")" = stub.conf ] || fail "the resolv.conf symlink was not restored"
[ "$(cat "$WORK/rc/stub.conf")" = "nameserver 127.0.0.53" ] || fail "the symlink's target changed"
log "ok: --resolv-conf symlink replaced by a file on up, the same link restored on down"
kill -0 "$NOSTART_PID" || fail "down --no-start stopped tun2socks (it must not)"
kill "$NOSTART_PID"
wait_for 100 bash -c "! kill -0 $NOSTART_PID 2>/dev/null" || fail "tun2socks did not stop"
NOSTART_PID=""
same_as_before "down --no-start, tun2socks stopped"
log "ok: --no-start: routed into a running tun2socks, down left it running"

# As under the systemd drop-in (contrib/systemd/route.conf): tun2socks
# dies (its TUN goes with it), systemd runs ExecStopPost (down
# --keep-if-failed, SERVICE_RESULT=signal), restarts tun2socks and runs
# ExecStartPost (up --no-start --replace); a clean stop then restores.
nostart_t2s() {
    spawn "$MACH" "$WORK/t2s-n.log" "$T2S_BIN" --tun tun1 --tun-ipv4 198.18.0.5/30 \
        --tun-ipv6 fd00:18:1::1/64 --fwmark 0x7331 --proxy "socks5://198.18.3.1:1080"
    NOSTART_PID=$LAST_PID
}
nostart_up() {
    route up --no-start --replace --tun tun1 --pid "$NOSTART_PID" --proxy-addr 198.18.3.1
}
nostart_t2s
nostart_up || fail "up --no-start (tun2socks dies) failed"
[ "$(dev_of 198.19.0.20)" = tun1 ] || fail "--no-start: 198.19.0.20 not routed into tun1"
kill -9 "$NOSTART_PID"
wait_for 50 bash -c "! kill -0 $NOSTART_PID 2>/dev/null" || fail "tun2socks survived kill -9"
NOSTART_PID=""
wait_for 50 bash -c "! ip netns exec $MACH ip link show tun1 >/dev/null 2>&1" || fail "tun1 outlived tun2socks"
expect_blocked "up --no-start, tun2socks killed"
SERVICE_RESULT=signal route down --tun tun1 --keep-if-failed || fail "down --keep-if-failed failed"
expect_blocked "up --no-start, tun2socks killed, after ExecStopPost (SERVICE_RESULT=signal)"
# Watch the routes and rules while the restart's up takes over: the kill
# switch (rules, unreachable routes) must stay in place throughout.
monitor_start
nostart_t2s
nostart_up || fail "up --no-start --replace over the dead tun2socks failed"
monitor_expect_kept "up --no-start --replace"
[ "$(http_get http://198.19.0.20:8080/)" = web4 ] || fail "--no-start --replace: curl through tun1 failed"
client_seen "$WORK/web4.log" 198.18.3.1 || fail "--no-start --replace: not through danted"
log "ok: up --no-start --replace took over from the dead tun2socks"
kill "$NOSTART_PID"
wait_for 100 bash -c "! kill -0 $NOSTART_PID 2>/dev/null" || fail "tun2socks did not stop"
NOSTART_PID=""
SERVICE_RESULT=success route down --tun tun1 --keep-if-failed || fail "down (SERVICE_RESULT=success) failed"
same_as_before "down --keep-if-failed after a clean stop"
expect_direct "down --keep-if-failed after a clean stop"

# ------------------------------------------------------------ tun2socks --route
# One process: tun2socks runs the same script itself (up --no-start after
# the TUN exists, down at exit). Then kill -9 and a restart with the same
# settings (the kill switch holds throughout), and one with others (the
# old state is replaced).
route_prog() { # LOG args...
    local logf=$1
    shift
    spawn "$MACH" "$logf" env TUN2SOCKS_ROUTE_STATE_DIR="$WORK/state" \
        TUN2SOCKS_ROUTE_PERSIST_DIR="$WORK/persist" \
        TUN2SOCKS_ROUTE_SCRIPT="$ROUTE" SSH_CONNECTION= TUN2SOCKS_BIN="$WORK/callback" \
        "$T2S_BIN" --route --tun tun0 --proxy socks5://198.18.3.1:1080 "$@"
    ROUTE_PID=$LAST_PID
    wait_for 100 grep -q "tun0: up" "$logf" || fail "tun2socks --route did not set up routing"
}
route_prog "$WORK/t2s-r.log" --dns fake-ip
grep -q 'fwmark 0x7331 lookup main' <(in_mach ip rule) || fail "--route: no fwmark rule"
[ "$(dev_of 198.19.0.20)" = tun0 ] || fail "--route: 198.19.0.20 not routed into tun0"
ans=$(in_mach dig +short +time=3 +tries=2 example.test A) || true
[[ $ans =~ ^198\.18\. ]] || fail "--route --dns fake-ip: dig example.test gave '$ans'"
body=$(http_get http://example.test:8080/) || fail "--route: curl by name failed"
case $body in web4 | web6) ;; *) fail "--route: unexpected body $body" ;; esac
log "ok: tun2socks --route --dns fake-ip: example.test -> $ans, curl by name -> $body"
kill -9 "$ROUTE_PID"
wait_for 50 bash -c "! kill -0 $ROUTE_PID 2>/dev/null" || fail "tun2socks survived kill -9"
wait_for 50 bash -c "! ip netns exec $MACH ip link show tun0 >/dev/null 2>&1" || fail "tun0 outlived tun2socks --route"
expect_blocked "tun2socks --route killed"
# restarted with the same settings: the kill switch holds throughout
monitor_start
route_prog "$WORK/t2s-r1.log" --dns fake-ip
monitor_expect_kept "tun2socks --route restarted after kill -9"
[ "$(http_get http://198.19.0.20:8080/)" = web4 ] || fail "--route restarted: curl failed"
kill -9 "$ROUTE_PID"
wait_for 50 bash -c "! kill -0 $ROUTE_PID 2>/dev/null" || fail "tun2socks survived kill -9"
wait_for 50 bash -c "! ip netns exec $MACH ip link show tun0 >/dev/null 2>&1" || fail "tun0 outlived tun2socks --route"
expect_blocked "tun2socks --route killed again"
# restarted with other settings: the old state is replaced
route_prog "$WORK/t2s-r2.log" --dns tcp --proxy socks5://198.18.3.9:1080
# a second proxy (no server there; the first is up): both stay direct
for a in 198.18.3.1 198.18.3.9; do
    grep -qx "proxy4 $a" "$WORK/state/tun0/settings" ||
        fail "--route, two proxies: $a not kept direct: $(grep proxy "$WORK/state/tun0/settings")"
    [ "$(dev_of "$a")" = veth0 ] || fail "--route, two proxies: $a routed via $(dev_of "$a")"
done
body=$(http_get http://198.19.0.20:8080/) || fail "--route after kill -9: curl failed"
[ "$body" = web4 ] || fail "--route after kill -9: unexpected body $body"
ans=$(in_mach dig +short +time=3 +tries=2 example.test A) || true
[ "$ans" = 198.19.0.20 ] || fail "--route --dns tcp: dig example.test gave '$ans'"
log "ok: tun2socks --route restarted after kill -9 with other settings (state replaced, a second proxy kept direct), --dns tcp: $ans"
kill "$ROUTE_PID"
wait_for 100 bash -c "! kill -0 $ROUTE_PID 2>/dev/null" || fail "tun2socks --route did not exit"
wait "$ROUTE_PID" 2>/dev/null || true
same_as_before "tun2socks --route after SIGTERM"
expect_direct "tun2socks --route after SIGTERM"
[ ! -s "$WORK/callback.log" ] ||
    fail "under tun2socks --route the script ran tun2socks: $(head -n 3 "$WORK/callback.log")"
log "ok: under tun2socks --route the script never ran tun2socks"

[ "$(sha256sum </etc/resolv.conf)" = "$HOST_RESOLV_SUM" ] || fail "the host's /etc/resolv.conf changed"
log "ok: the host's /etc/resolv.conf is unchanged"
log "PASS"
