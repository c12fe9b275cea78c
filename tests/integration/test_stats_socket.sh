#!/usr/bin/env bash
# --stats-socket: the counters on a Unix socket, served by the instance's
# loop. JSON when the client sends nothing, shuts down its side or sends
# an empty line (socat), Prometheus text for /metrics (curl over HTTP and
# a plain line), every field of struct t2s_stats, counters that move with
# traffic; bad peers (garbage, a huge line, more clients than the cap)
# get a clear answer or are closed, with no descriptor left behind; the
# socket is removed at exit, a stale one replaced at start, a live one or
# a plain file refused.
set -euo pipefail
# shellcheck source=SCRIPTDIR/lib.sh
. "$(dirname "$0")/lib.sh"
require_root
require_tools danted python3 socat curl ss
/usr/bin/python3 -c 'import prometheus_client' 2>/dev/null ||
    fail "missing python3-prometheus-client (run scripts/deps test)"
CLIENT=$T2S_ROOT/tests/integration/stats_client.py

setup_topology
start_danted none 1080
SIZE=$((2 * 1024 * 1024))
tool_net_bg "$WORK/send.log" serve --bind "$SERVER4" --port 8001 --mode send \
    --size "$SIZE" --seed 5
wait_for 100 listening "$NS_NET" 8001 || fail "send server did not start"

# tun2socks runs as nobody once started: it may remove the socket at exit
chmod 755 "$WORK"
mkdir -m 777 "$WORK/run"
SOCK=$WORK/run/stats.sock
sed -n '/^struct t2s_stats {/,/^};/p' "$T2S_ROOT/include/t2s.h" |
    grep -o 'uint64_t [a-z0-9_]*' | cut -d' ' -f2 >"$WORK/fields"
[ "$(wc -l <"$WORK/fields")" -ge 40 ] || fail "could not read the fields of t2s.h"

# A stale socket (nobody accepts on it) is replaced; the option comes from
# a config file here.
python3 -c 'import socket, sys; socket.socket(socket.AF_UNIX).bind(sys.argv[1])' "$SOCK"
[ -S "$SOCK" ] || fail "no stale socket made"
printf 'stats-socket = %s\n' "$SOCK" >"$WORK/t2s.conf"
start_t2s --proxy "socks5://$PROXY4:1080" --config "$WORK/t2s.conf"
grep -q "counters on stats socket $SOCK" "$WORK/t2s.log" || fail "no stats socket line"
fd_count() { find "/proc/$T2S_PID/fd" -mindepth 1 -maxdepth 1 | wc -l; }
FDS_BEFORE=$(fd_count)

json() { # FILE [-u]: socat's stdin is the request (empty: EOF at once);
    # -u: socat only reads the socket and never shuts its side down
    local f=$1
    shift
    if [ "${1:-}" = -u ]; then
        timeout 10 socat -t 3 -u "UNIX-CONNECT:$SOCK" - >"$f"
    else
        timeout 10 socat -t 3 - "UNIX-CONNECT:$SOCK" >"$f"
    fi
}
json "$WORK/a.json" </dev/null || fail "socat (EOF at once) failed"
python3 -m json.tool "$WORK/a.json" >/dev/null || fail "not JSON: $(cat "$WORK/a.json")"
python3 "$CLIENT" check-json "$WORK/a.json" <"$WORK/fields" >"$WORK/a.txt" ||
    fail "JSON fields wrong"
log "JSON after EOF: $(cut -c1-100 "$WORK/a.txt")..."
# a client that sends nothing and keeps its side open: JSON after 200 ms
json "$WORK/b.json" -u || fail "a silent client got no answer and no EOF"
python3 "$CLIENT" check-json "$WORK/b.json" <"$WORK/fields" >/dev/null ||
    fail "no JSON for a silent client: $(cat "$WORK/b.json")"

# traffic moves the counters
want=$(tool_dev sha "$SIZE" --seed 5)
download_ok "download" "$want"
echo | json "$WORK/c.json" || fail "socat (empty line) failed"
python3 "$CLIENT" check-json "$WORK/c.json" <"$WORK/fields" >/dev/null || fail "JSON after traffic"
read -r total down < <(python3 -c '
import json, sys
a = json.load(open(sys.argv[1])); c = json.load(open(sys.argv[2]))
print(c["tcp_total"] - a["tcp_total"], c["bytes_down"] - a["bytes_down"])' \
    "$WORK/a.json" "$WORK/c.json")
log "after one download: tcp_total +$total, bytes_down +$down"
[ "$total" -eq 1 ] || fail "tcp_total moved by $total, want 1"
[ "$down" -eq "$SIZE" ] || fail "bytes_down moved by $down, want $SIZE"

# Prometheus: curl over HTTP, and a plain request line
code=$(curl -sS --unix-socket "$SOCK" -o "$WORK/m.txt" -w '%{http_code} %{content_type}' \
    http://localhost/metrics) || fail "curl /metrics failed"
log "curl /metrics: $code"
[ "$code" = "200 text/plain; version=0.0.4; charset=utf-8" ] || fail "curl /metrics: $code"
/usr/bin/python3 "$CLIENT" check-prom "$WORK/m.txt" "$WORK/c.json" || fail "Prometheus text"
printf '/metrics\n' | json "$WORK/m2.txt" || fail "socat (/metrics) failed"
/usr/bin/python3 "$CLIENT" check-prom "$WORK/m2.txt" "$WORK/c.json" || fail "Prometheus (plain)"
code=$(curl -sS --unix-socket "$SOCK" -o "$WORK/h.json" -w '%{http_code}' http://localhost/)
[ "$code" = 200 ] || fail "curl /: $code"
python3 "$CLIENT" check-json "$WORK/h.json" <"$WORK/fields" >/dev/null || fail "curl / JSON"
code=$(curl -sS --unix-socket "$SOCK" -o /dev/null -w '%{http_code}' http://localhost/nope)
[ "$code" = 404 ] || fail "curl /nope: $code, want 404"
code=$(curl -sS --unix-socket "$SOCK" -o /dev/null -w '%{http_code}' -X POST http://localhost/metrics)
[ "$code" = 405 ] || fail "curl -X POST: $code, want 405"

# bad peers
out=$(python3 "$CLIENT" garbage "$SOCK")
[ "$out" = '{"error":"bad request line"}' ] || fail "garbage: got '$out'"
out=$(python3 "$CLIENT" huge "$SOCK" 200000)
[ "$out" = '{"error":"bad request line"}' ] || fail "huge line: got '$out'"
out=$(python3 "$CLIENT" cap "$SOCK" 12)
log "12 silent clients at once: $out"
[ "$out" = "answered 8 closed 4" ] || fail "client cap: $out, want 8 answered, 4 closed"
out=$(python3 "$CLIENT" noread "$SOCK" 8)
log "8 clients that do not read for 2 s: $out"
[ "$out" = "closed 8" ] || fail "clients that do not read: $out, want closed 8"
kill -0 "$T2S_PID" || fail "tun2socks died"
wait_for 50 bash -c "[ \$(find /proc/$T2S_PID/fd -mindepth 1 -maxdepth 1 | wc -l) -le $FDS_BEFORE ]" ||
    fail "descriptors: $(fd_count) now, $FDS_BEFORE before"
log "descriptors: $(fd_count) now, $FDS_BEFORE before"

stop_t2s
[ ! -e "$SOCK" ] || fail "$SOCK left behind at exit"

# a live listener or a plain file at PATH: a clear error, exit 2
expect_start_error() { # WHAT WANT
    local rc=0
    in_dev "$T2S_BIN" --tun "t2sx$$" --proxy "socks5://$PROXY4:1080" \
        --stats-socket "$SOCK" >"$WORK/err.log" 2>&1 || rc=$?
    log "$1: exit $rc: $(cat "$WORK/err.log")"
    [ "$rc" -eq 2 ] || fail "$1: exit $rc, want 2"
    grep -q "$2" "$WORK/err.log" || fail "$1: want '$2'"
}
spawn "$NS_DEV" "$WORK/listener.log" python3 -c '
import socket, sys, time
s = socket.socket(socket.AF_UNIX); s.bind(sys.argv[1]); s.listen(1)
print("up", flush=True); time.sleep(60)' "$SOCK"
LISTENER=$LAST_PID
wait_for 100 grep -q up "$WORK/listener.log" || fail "listener did not start"
expect_start_error "live socket" "stats socket $SOCK: another process is listening there"
kill "$LISTENER"
wait_for 50 bash -c "! kill -0 $LISTENER" || fail "listener did not stop"
rm -f "$SOCK"
: >"$SOCK"
expect_start_error "plain file" "stats socket $SOCK: exists and is not a socket"
[ -f "$SOCK" ] || fail "the plain file was removed"
log "PASS"
