#!/usr/bin/env bash
# HTTP CONNECT proxies: tinyproxy and squid, each without and with Basic
# authentication (tinyproxy's BasicAuth, squid's basic_ncsa_auth with an
# htpasswd file):
#   64 MiB down and up with SHA-256 to an IPv4 destination (and to an IPv6
#   one without authentication), DNS as DNS over TCP through CONNECT, other
#   UDP dropped and counted; with authentication a wrong password refused
#   at once (reset, err_proxy_auth, "proxy authentication required" in the
#   log, never the password).
set -euo pipefail
# shellcheck source=SCRIPTDIR/lib.sh
. "$(dirname "$0")/lib.sh"
require_root
require_tools tinyproxy squid htpasswd dnsmasq dig python3 ss

SQUID_AUTH=/usr/lib/squid/basic_ncsa_auth
[ -x "$SQUID_AUTH" ] || fail "missing $SQUID_AUTH (package squid)"
SIZE=$((64 * 1024 * 1024))
setup_topology
start_dnsmasq
# the proxies drop root: their files in a directory they may write
PDIR=$WORK/proxies
mkdir -p "$PDIR"
chmod 755 "$WORK"
chmod 777 "$PDIR"

# tinyproxy on PROXY4:PORT. Usage: start_tinyproxy PORT [USER PASS]
start_tinyproxy() {
    local port=$1 conf=$PDIR/tinyproxy-$1.conf
    cat >"$conf" <<EOC
User nobody
Group nogroup
Port $port
Listen $PROXY4
Timeout 600
LogLevel Info
LogFile "$PDIR/tinyproxy-$port.log"
PidFile "$PDIR/tinyproxy-$port.pid"
MaxClients 64
EOC
    [ $# -lt 3 ] || echo "BasicAuth $2 $3" >>"$conf"
    spawn_resolved "$NS_NET" "$WORK/net-resolv.conf" "$WORK/tinyproxy-$port.out" \
        tinyproxy -d -c "$conf"
    wait_for 100 listening "$NS_NET" "$port" || fail "tinyproxy did not start"
}

# squid on PROXY4:PORT. Usage: start_squid PORT none|basic
start_squid() {
    local port=$1 conf=$PDIR/squid-$1.conf
    cat >"$conf" <<EOC
http_port $PROXY4:$port
visible_hostname t2s-test
pid_filename $PDIR/squid-$port.pid
cache_log $PDIR/squid-$port-cache.log
access_log stdio:$PDIR/squid-$port-access.log
coredump_dir $PDIR
cache deny all
dns_nameservers $SERVER4
hosts_file none
shutdown_lifetime 1 seconds
acl CONNECT method CONNECT
EOC
    if [ "$2" = basic ]; then
        cat >>"$conf" <<EOC
auth_param basic program $SQUID_AUTH $PDIR/htpasswd
auth_param basic realm t2s
acl authed proxy_auth REQUIRED
http_access allow CONNECT authed
EOC
    else
        echo "http_access allow CONNECT" >>"$conf"
    fi
    echo "http_access deny all" >>"$conf"
    spawn "$NS_NET" "$WORK/squid-$port.out" squid -N -f "$conf"
    wait_for 300 listening "$NS_NET" "$port" || fail "squid did not start: $(tail -n 5 "$PDIR/squid-$port-cache.log")"
}

htpasswd -bc "$PDIR/htpasswd" "$TEST_USER" "$TEST_PASS" 2>/dev/null
chmod 644 "$PDIR/htpasswd"
start_tinyproxy 8888
start_tinyproxy 8889 "$TEST_USER" "$TEST_PASS"
start_squid 3128 none
start_squid 3129 basic
tool_net_bg "$WORK/down.log" serve --port 8001 --mode send --size "$SIZE" --seed 7
tool_net_bg "$WORK/up.out" serve --port 8002 --mode sink --log "$WORK/up.log"
wait_for 100 listening "$NS_NET" 8002 || fail "servers did not start"
want_down=$(python3 "$TOOLS_PY" sha "$SIZE" --seed 7)
want_up=$(python3 "$TOOLS_PY" sha "$SIZE" --seed 9)
printf '%s:%s\n' "$TEST_USER" "$TEST_PASS" >"$WORK/auth"
chmod 600 "$WORK/auth"

run_case() { # NAME PORT AUTH(none|basic)
    local name=$1 port=$2 auth=$3 out hosts=$SERVER4
    if [ "$auth" = basic ]; then
        start_t2s --proxy "http://$PROXY4:$port" --proxy-auth-file "$WORK/auth"
    else
        start_t2s --proxy "http://$PROXY4:$port"
        hosts="$SERVER4 $SERVER6"
    fi
    for host in $hosts; do
        transfer_both_ways "$name" "$host" "$SIZE" 9 "$want_down" "$want_up"
        log "$name $host: 64 MiB down and up, SHA-256 match"
    done
    out=$(in_dev dig +time=3 +tries=1 +short "@$SERVER4" example.test A 2>&1 | tr '\n' ' ') || true
    log "$name: dig @$SERVER4 example.test -> $out"
    [ "$out" = "$SERVER4 " ] || fail "$name: DNS through the proxy failed"
    [ "$(stat_value dns_tcp)" -ge 1 ] || fail "$name: the query did not go as DNS over TCP"
    tool_dev udpsend "$SERVER4:9999" --timeout 1 >/dev/null || true
    [ "$(stat_value udp_unsupported)" -ge 1 ] || fail "$name: dropped UDP not counted"
    grep -q "dropping UDP: a http proxy has no UDP" "$WORK/t2s.log" ||
        fail "$name: the UDP drop was not said"
    grep -q "$TEST_PASS" "$WORK/t2s.log" && fail "$name: the password appears in the log"
    stop_t2s
    [ "$auth" = basic ] || return 0
    # a wrong password: refused at once, said, counted, never shown
    local wrong="not-the-Pa55word"
    TUN2SOCKS_PROXY_AUTH="$TEST_USER:$wrong" start_t2s --proxy "http://$PROXY4:$port"
    expect_refused_within 3 "$name: a wrong password" "$SERVER4" 8001
    grep -qE "proxy authentication required \(HTTP 40[17]\): credentials refused" "$WORK/t2s.log" ||
        fail "$name: no clear log line about the authentication failure"
    grep -q "$wrong" "$WORK/t2s.log" && fail "$name: the password appears in the log"
    [ "$(stat_value err_proxy_auth)" -ge 1 ] || fail "$name: err_proxy_auth not counted"
    stop_t2s
}

run_case "tinyproxy" 8888 none
run_case "tinyproxy basic" 8889 basic
run_case "squid" 3128 none
run_case "squid basic" 3129 basic
log PASS
