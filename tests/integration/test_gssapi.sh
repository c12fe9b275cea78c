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
require_tools python3 ss kdb5_util kadmin.local krb5kdc kinit
"$T2S_BIN" --tun t0 --proxy "socks5://$PROXY4:1" --proxy-gssapi rcmd --print-config >/dev/null 2>&1 ||
    skip "this tun2socks has no GSSAPI (built without libkrb5-dev)"

SIZE=${T2S_GSSAPI_SIZE:-$((64 * 1024 * 1024))}
setup_topology
build_sockd
start_kdc
tool_net_bg "$WORK/down.log" serve --port 8001 --mode send --size "$SIZE" --seed 7
tool_net_bg "$WORK/up.out" serve --port 8002 --mode sink --log "$WORK/up.log"
wait_for 100 listening "$NS_NET" 8002 || fail "servers did not start"
want_down=$(python3 "$TOOLS_PY" sha "$SIZE" --seed 7)
want_up=$(python3 "$TOOLS_PY" sha "$SIZE" --seed 9)
cc=$KRB_DIR/alice.cc
kinit_alice "$cc"

# clear: Dante's own level 0, authentication only.
start_sockd_gssapi clear 1090
KRB5CCNAME=FILE:$cc start_t2s --proxy "socks5://$PROXY4:1090" --proxy-gssapi rcmd
transfer_both_ways "gssapi clear" "$SERVER4" "$SIZE" 9 "$want_down" "$want_up"
log "gssapi clear: $SIZE bytes down and up, SHA-256 match"
grep -q "gssapi/clear%alice@$KRB_REALM" "$WORK/sockd-1090.log" ||
    fail "sockd did not log the clear level for alice"
stop_t2s

# The failures: each a one-line error naming GSSAPI, the app refused.
refused_case() { # WHAT PATTERN tun2socks-args...
    local what=$1 pattern=$2
    shift 2
    start_t2s --proxy "socks5://$PROXY4:1090" "$@"
    expect_refused_within 5 "$what" "$SERVER4" 8001
    grep -Eq "$pattern" "$WORK/t2s.log" ||
        fail "$what: no log line matching '$pattern'"
    log "$what: refused, logged: $(grep -E "$pattern" "$WORK/t2s.log" | head -n1)"
    stop_t2s
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
log PASS
