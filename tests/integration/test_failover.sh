#!/usr/bin/env bash
# Several proxies: tun2socks with --proxy twice, two danted on PROXY4 port
# 1080 (A) and 1081 (B); the per-proxy counters come from --stats-socket.
# failover: new sessions go to A; A stopped while a connection runs: that
# connection ends, and new sessions go to B within the probe interval
# (generous slack, no timing assertion); A started again: its probe
# brings it back and new sessions return to it. round-robin: sessions
# spread over both, as each danted's own log shows too.
set -euo pipefail
# shellcheck source=SCRIPTDIR/lib.sh
. "$(dirname "$0")/lib.sh"
require_root
require_tools danted python3 ss socat

setup_topology
tool_net_bg "$WORK/srv.log" serve --port 8001 --mode echo
tool_net_bg "$WORK/hold.log" serve --port 8003 --mode hold
start_danted none 1080
A_PID=$LAST_PID
start_danted none 1081
SOCK=$WORK/stats.sock
A=socks5://$PROXY4:1080
B=socks5://$PROXY4:1081

# FIELD of proxy INDEX in the stats socket's JSON
proxy_field() { # INDEX FIELD
    timeout 10 socat -t 3 - "UNIX-CONNECT:$SOCK" </dev/null |
        python3 -c 'import json, sys
p = json.load(sys.stdin)["proxies"][int(sys.argv[1])]
print(p[sys.argv[2]])' "$1" "$2"
}
field_is() { [ "$(proxy_field "$1" "$2")" = "$3" ]; }
connect_ok() { [[ $(tool_dev connect "$SERVER4" 8001 --timeout 5) == ok* ]]; }
# connections to SERVER4:8001 danted on PORT logged
danted_seen() { grep -c "$SERVER4\.8001" "$WORK/danted-$1.log" || true; }

# ---- failover: the first proxy while it is up
start_t2s --proxy "$A" --proxy "$B" --stats-socket "$SOCK"
grep -q "proxy 1: $B" "$WORK/t2s.log" || fail "no start line for the second proxy"
for _ in 1 2 3; do connect_ok || fail "connect through A failed"; done
field_is 0 sessions 3 || fail "failover: A has $(proxy_field 0 sessions) sessions, want 3"
field_is 1 sessions 0 || fail "failover: B has $(proxy_field 1 sessions) sessions, want 0"
[ "$(danted_seen 1081)" = 0 ] || fail "failover: B's danted saw connections while A was up"
log "ok: failover: 3 sessions on A, none on B"

# ---- A stops while a connection runs: it ends, new sessions go to B
# a download from a server that never sends: it ends only with its proxy
spawn "$NS_DEV" "$WORK/held.out" python3 "$TOOLS_PY" download "$SERVER4" 8003
HOLD_PID=$LAST_PID
wait_for 100 field_is 0 active 1 || fail "the running connection is not on A (active $(proxy_field 0 active))"
# danted's children carry the established sessions: the whole server
# goes, as with a proxy host that dies (its processes, by PID)
mapfile -t A_KIDS < <(ps -o pid= --ppid "$A_PID")
kill "${A_KIDS[@]}" "$A_PID" 2>/dev/null || true
wait_for 100 bash -c "! ip netns exec $NS_NET ss -Hlnt 'sport = :1080' | grep -q ." ||
    fail "danted A did not stop"
wait_for 100 bash -c "! kill -0 $HOLD_PID" || fail "the connection through A did not end with A"
wait_for 100 field_is 0 active 0 || fail "the session on A is still open"
log "ok: A stopped: the connection through it ended"
# the first new session may meet A's refusal; within the probe
# interval (3 s; 30 s allowed) they go to B
B_BEFORE=$(proxy_field 1 sessions)
wait_for 300 connect_ok || fail "no connection got through after A stopped"
for _ in 1 2 3; do connect_ok || fail "connect through B failed"; done
field_is 0 up 0 || fail "A is not marked down"
[ $(($(proxy_field 1 sessions) - B_BEFORE)) -ge 4 ] || fail "the new sessions did not go to B"
[ "$(danted_seen 1081)" -ge 4 ] || fail "B's danted did not see the new connections"
[ "$(grep -c "proxy $A is down" "$WORK/t2s.log")" = 1 ] ||
    fail "A's going down not logged exactly once: $(grep -c "is down" "$WORK/t2s.log")"
log "ok: A down (logged once), new sessions through B"

# ---- A again: its probe brings it back, new sessions return to it
start_danted none 1080
wait_for 300 field_is 0 up 1 || fail "A not marked up again after it came back"
grep -q "proxy $A is up again (probe answered)" "$WORK/t2s.log" || fail "no log line for A coming back"
A_BEFORE=$(proxy_field 0 sessions)
B_BEFORE=$(proxy_field 1 sessions)
for _ in 1 2 3; do connect_ok || fail "connect after A came back failed"; done
[ $(($(proxy_field 0 sessions) - A_BEFORE)) = 3 ] || fail "new sessions did not return to A"
field_is 1 sessions "$B_BEFORE" || fail "B still got new sessions after A came back"
log "ok: A back up (probe answered, logged), new sessions return to it"
stop_t2s

# ---- round-robin: both proxies share the sessions
A_SEEN=$(danted_seen 1080)
B_SEEN=$(danted_seen 1081)
start_t2s --proxy "$A" --proxy "$B" --proxy-policy round-robin --stats-socket "$SOCK"
for _ in 1 2 3 4 5 6; do connect_ok || fail "connect (round-robin) failed"; done
field_is 0 sessions 3 || fail "round-robin: A has $(proxy_field 0 sessions) of 6 sessions"
field_is 1 sessions 3 || fail "round-robin: B has $(proxy_field 1 sessions) of 6 sessions"
[ "$(danted_seen 1080)" -gt "$A_SEEN" ] || fail "round-robin: A's danted logged no new connection"
[ "$(danted_seen 1081)" -gt "$B_SEEN" ] || fail "round-robin: B's danted logged no new connection"
log "ok: round-robin: 3 sessions on each proxy, both danted saw them"
log PASS
