#!/usr/bin/env bash
# SOCKS5 GSSAPI (RFC 1961) against Dante's sockd built with GSSAPI and an
# MIT KDC in the server namespace (krb5.sh): transfers with SHA-256
# through the TUN, and the failures a user meets (no ticket, a wrong
# service principal, an expired ticket), each a one-line error and a
# refused app connection.
set -euo pipefail
# shellcheck source=SCRIPTDIR/lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=SCRIPTDIR/krb5.sh
. "$(dirname "$0")/krb5.sh"
require_root
require_tools python3 ss kdb5_util kadmin.local krb5kdc kinit dig dnsmasq tcpdump
"$T2S_BIN" --tun t0 --proxy "socks5://$PROXY4:1" --proxy-gssapi rcmd --print-config >/dev/null 2>&1 ||
    skip "this tun2socks has no GSSAPI (built without libkrb5-dev)"

SIZE=${T2S_GSSAPI_SIZE:-$((64 * 1024 * 1024))}
setup_topology
build_sockd
start_kdc
start_dnsmasq
tool_net_bg "$WORK/down.log" serve --port 8001 --mode send --size "$SIZE" --seed 7
tool_net_bg "$WORK/up.out" serve --port 8002 --mode sink --log "$WORK/up.log"
wait_for 100 listening "$NS_NET" 8002 || fail "servers did not start"
want_down=$(python3 "$TOOLS_PY" sha "$SIZE" --seed 7)
want_up=$(python3 "$TOOLS_PY" sha "$SIZE" --seed 9)
cc=$KRB_DIR/alice.cc
kinit_alice "$cc"

# clear: Dante's own level 0, authentication only.
start_sockd_gssapi clear 1090
KRB5CCNAME=FILE:$cc start_t2s --proxy "socks5://$PROXY4:1090" --proxy-gssapi rcmd \
    --proxy-gssapi-level clear
transfer_both_ways "gssapi clear" "$SERVER4" "$SIZE" 9 "$want_down" "$want_up"
log "gssapi clear: $SIZE bytes down and up, SHA-256 match"
# UDP under GSSAPI is refused like a proxy without UDP: logged once,
# counted, the datagrams dropped (no reply).
for _ in 1 2; do
    out=$(tool_dev udpsend "$SERVER4:7001" --timeout 1)
    [ "$out" = timeout ] || fail "UDP under GSSAPI: got '$out'"
done
[ "$(grep -c "UDP is not carried under GSSAPI" "$WORK/t2s.log")" -eq 1 ] ||
    fail "UDP under GSSAPI: not logged exactly once"
[ "$(stat_value udp_unsupported)" -ge 1 ] || fail "udp_unsupported not counted"
log "UDP under GSSAPI: refused, $(grep "UDP is not carried" "$WORK/t2s.log")"
grep -q "gssapi/clear%alice@$KRB_REALM" "$WORK/sockd-1090.log" ||
    fail "sockd did not log the clear level for alice"
stop_t2s

no_sanitizer_report() { # WHAT
    if grep -q "Sanitizer" "$WORK/t2s.log"; then
        grep -m3 "Sanitizer" "$WORK/t2s.log" >&2
        fail "$1: a sanitizer report"
    fi
}
no_sanitizer_report "gssapi clear"

# What a capture between tun2socks and sockd shows of a 1 MiB download
# and the same upload (the same data, so pieces are looked for in both
# directions at once): pieces of the data at integrity (and so the
# capture works), none at confidentiality.
tool_net_bg "$WORK/wire-send.log" serve --port 8003 --mode send --size 1048576 --seed 11
wire_check() { # LEVEL PORT
    local level=$1 port=$2 pid found
    in_dev tcpdump -i veth0 -U -s 0 -w "$WORK/wire-$level.pcap" "tcp port $port" \
        >"$WORK/tcpdump-$level.log" 2>&1 &
    pid=$!
    PIDS+=("$pid")
    wait_for 100 grep -q "listening on" "$WORK/tcpdump-$level.log" ||
        fail "tcpdump did not start"
    tool_dev download "$SERVER4" 8003 >/dev/null
    UPLOADS=$((UPLOADS + 1))
    tool_dev upload "$SERVER4" 8002 1048576 --seed 11 >/dev/null
    wait_for 100 bash -c "[ \$(grep -c ^sink '$WORK/up.log') -ge $UPLOADS ]" ||
        fail "$level: the wire check's upload did not arrive"
    sleep 0.5
    kill "$pid"
    wait "$pid" 2>/dev/null || true
    found=$(python3 "$T2S_ROOT/tests/integration/gss_wire.py" "$WORK/wire-$level.pcap" 1048576 11)
    if [ "$level" = confidentiality ]; then
        [ "$found" -eq 0 ] || fail "confidentiality: $found of 64 pieces of the data seen in clear on the wire"
    else
        [ "$found" -ge 32 ] || fail "integrity: only $found of 64 pieces seen on the wire (capture broken?)"
    fi
    log "gssapi $level: $found of 64 pieces of the data readable on the wire"
}

# integrity and confidentiality: every byte in RFC 1961 messages.
for level in integrity confidentiality; do
    port=$((1090 + ${#level} % 7 + 1))
    start_sockd_gssapi "$level" "$port"
    KRB5CCNAME=FILE:$cc start_t2s --proxy "socks5://$PROXY4:$port" \
        --proxy-gssapi rcmd --proxy-gssapi-level "$level"
    for host in "$SERVER4" "$SERVER6"; do
        transfer_both_ways "gssapi $level" "$host" "$SIZE" 9 "$want_down" "$want_up"
        log "gssapi $level $host: $SIZE bytes down and up, SHA-256 match"
    done
    grep -q "gssapi/$level%alice@$KRB_REALM" "$WORK/sockd-$port.log" ||
        fail "sockd did not log the $level level for alice"
    wire_check "$level" "$port"
    # UDP is refused under GSSAPI: DNS goes over TCP, in RFC 1961 messages
    out=$(in_dev dig +short +time=3 +tries=1 @"$SERVER4" example.test A || true)
    [ "$out" = "$SERVER4" ] || fail "gssapi $level: DNS over TCP got '$out'"
    log "gssapi $level: DNS (over TCP) answered $out"
    stop_t2s
    no_sanitizer_report "gssapi $level"
done

# The failures: each a one-line error naming GSSAPI, the app refused.
refused_case() { # WHAT PATTERN tun2socks-args...
    local what=$1 pattern=$2
    shift 2
    start_t2s --proxy "socks5://$PROXY4:1090" --proxy-gssapi-level clear "$@"
    expect_refused_within 5 "$what" "$SERVER4" 8001
    grep -Eq "$pattern" "$WORK/t2s.log" ||
        fail "$what: no log line matching '$pattern'"
    log "$what: refused, logged: $(grep -E "$pattern" "$WORK/t2s.log" | head -n1)"
    stop_t2s
    no_sanitizer_report "$what"
}
KRB5CCNAME=FILE:$KRB_DIR/none.cc refused_case "no ticket" \
    "GSSAPI context: .*(credentials|cache)" --proxy-gssapi rcmd
KRB5CCNAME=FILE:$cc refused_case "wrong service principal" \
    "GSSAPI (context|protection-level reply)|closed the connection during the context" \
    --proxy-gssapi "other/$PROXY4@$KRB_REALM"
kinit_alice "$KRB_DIR/short.cc" 5s
sleep 7
KRB5CCNAME=FILE:$KRB_DIR/short.cc refused_case "expired ticket" \
    "GSSAPI context: .*(expired|Ticket)" --proxy-gssapi rcmd

# A client keytab instead of a ccache (--proxy-gssapi-keytab): no ticket
# in KRB5CCNAME, the credentials come from alice's keytab (read by the
# --user tun2socks drops to); a keytab that does not exist is one line.
chown nobody "$KRB_DIR/alice.keytab"
KRB5CCNAME=FILE:$KRB_DIR/none.cc start_t2s --proxy "socks5://$PROXY4:1090" \
    --proxy-gssapi rcmd --proxy-gssapi-level clear \
    --proxy-gssapi-keytab "$KRB_DIR/alice.keytab"
download_ok "gssapi with a client keytab" "$want_down"
[ "$(grep -c "gssapi/clear%alice@$KRB_REALM" "$WORK/sockd-1090.log")" -ge 2 ] ||
    fail "client keytab: sockd did not see alice"
log "client keytab: $SIZE bytes down as alice, no ccache"
stop_t2s
no_sanitizer_report "client keytab"
KRB5CCNAME=FILE:$cc refused_case "missing client keytab" \
    "GSSAPI client keytab FILE:.*nonexistent.keytab: " --proxy-gssapi rcmd \
    --proxy-gssapi-keytab "$KRB_DIR/nonexistent.keytab"

# Bad input from a proxy that chose GSSAPI: one clear error per session,
# no crash (tun2socks still answers), nothing left behind (ASan builds).
fake_case() { # MODE PORT PATTERN [tun2socks args...]
    local mode=$1 port=$2 pattern=$3
    shift 3
    spawn "$NS_NET" "$WORK/fake-$mode.log" python3 "$FAKE_PY" --host "$PROXY4" --port "$port" "$mode"
    wait_for 100 listening "$NS_NET" "$port" || fail "fake proxy ($mode) did not start"
    KRB5CCNAME=FILE:$cc start_t2s --proxy "socks5://$PROXY4:$port" --proxy-gssapi rcmd "$@"
    expect_refused_within 5 "fake proxy $mode (1)" "$SERVER4" 8001
    expect_refused_within 5 "fake proxy $mode (2)" "$SERVER4" 8001
    [ "$(grep -Ec "$pattern" "$WORK/t2s.log")" -ge 2 ] ||
        fail "fake proxy $mode: not one line per session matching '$pattern'"
    kill -0 "$T2S_PID" || fail "fake proxy $mode: tun2socks died"
    log "fake proxy $mode: $(grep -E "$pattern" "$WORK/t2s.log" | head -n1)"
    stop_t2s
    no_sanitizer_report "fake proxy $mode"
}
FAKE_PY=$T2S_ROOT/tests/integration/gss_fake_proxy.py
fake_case neverends 1095 "timed out|timeout" --connect-timeout 1
fake_case badver 1096 "GSSAPI message with a version other than 1"
fake_case abort 1097 "aborted the GSSAPI context establishment"
fake_case garbage 1098 "GSSAPI context: "
fake_case close 1099 "closed the connection during the context establishment"
log PASS
