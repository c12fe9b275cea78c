#!/usr/bin/env bash
# Half-close both ways: an app that shuts down its write side still gets
# the whole response; after the server's FIN the app can still send and
# the server receives everything.
set -euo pipefail
# shellcheck source=SCRIPTDIR/lib.sh
. "$(dirname "$0")/lib.sh"
require_root
require_tools danted python3 ss

SIZE=$((4 * 1024 * 1024))
setup_topology
start_danted none 1080
tool_net_bg "$WORK/rr.log" serve --port 8001 --mode reqresp --size "$SIZE" --seed 3
tool_net_bg "$WORK/ff.out" serve --port 8002 --mode finfirst --log "$WORK/ff.log"
wait_for 100 listening "$NS_NET" 8002 || fail "servers did not start"
start_t2s --proxy "socks5://$PROXY4:1080"

want=$(python3 "$TOOLS_PY" sha "$SIZE" --seed 3)
want_after=$(python3 "$TOOLS_PY" sha 1048576 --seed 5)
n=0
for host in "$SERVER4" "$SERVER6"; do
    got=$(tool_dev halfclose "$host" 8001)
    [ "$got" = "$want" ] || fail "app half-close via $host: got '$got', want '$want'"
    log "app shut down writing, still received $SIZE bytes from $host"
    tool_dev after-fin "$host" 8002 1048576 --seed 5 >/dev/null
    n=$((n + 1))
    wait_for 50 bash -c "[ \$(grep -c finfirst '$WORK/ff.log') -ge $n ]" ||
        fail "server never saw the app's EOF after its own FIN"
    got=$(grep finfirst "$WORK/ff.log" | tail -n 1 | cut -d' ' -f2-)
    [ "$got" = "$want_after" ] || fail "server half-close via $host: server got '$got', want '$want_after'"
    log "server shut down writing, still received 1 MiB from the app via $host"
done
log PASS
