#!/usr/bin/env bash
# Shared set-up for the integration tests, the demo and the benchmark:
# two network namespaces joined by a veth pair, servers on the "internet"
# side, tun2socks on the device side. Only addresses from 198.18.0.0/15
# and fd00::/8; nothing outside the namespaces is touched. Everything
# started is recorded by PID and stopped by t2s_cleanup (run from a trap).
#
#   DEV  veth 198.18.1.1/30 fd00:1::1/64, tun0 198.18.0.1/30 fd00:18::1/64,
#        default routes (v4, v6) via tun0
#   NET  veth 198.18.1.2/30 fd00:1::2/64 (SOCKS servers listen here),
#        lo 198.19.0.10/32 fd00:19::10/128 (app servers),
#           198.19.0.11/32 fd00:19::11/128 (a second server address)
#
# Name lookups never reach the host's resolver: processes that resolve
# (the SOCKS servers, curl) see a private /etc/resolv.conf that points at
# dnsmasq on SERVER4 (start_dnsmasq) or at tun2socks's DNS address.
# shellcheck disable=SC2034  # variables are used by the sourcing scripts

T2S_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
T2S_BIN=${T2S_BIN:-$T2S_ROOT/build/tun2socks/tun2socks}
TOOLS_PY=$T2S_ROOT/tests/integration/tcptool.py

SUFFIX=$$
NS_DEV=t2sdev$SUFFIX
NS_NET=t2snet$SUFFIX
PROXY4=198.18.1.2
PROXY6=fd00:1::2
SERVER4=198.19.0.10
SERVER6=fd00:19::10
SERVER4B=198.19.0.11
SERVER6B=fd00:19::11
WORK=""
T2S_PID=""
PIDS=()
TEST_USER=t2stest
TEST_PASS="s3cret-Pa55"

log() { printf '%s: %s\n' "$(basename "$0")" "$*" >&2; }

fail() {
    log "FAIL: $*"
    if [ -n "$WORK" ] && [ -f "$WORK/t2s.log" ]; then
        log "tun2socks log (last 20 lines):"
        tail -n 20 "$WORK/t2s.log" >&2
    fi
    exit 1
}

skip() {
    log "SKIP: $*"
    exit 77
}

require_root() {
    [ "$(id -u)" -eq 0 ] || skip "needs root (network namespaces)"
    [ -x "$T2S_BIN" ] || fail "tun2socks binary not found: $T2S_BIN"
    [ -c /dev/net/tun ] || skip "no /dev/net/tun"
}

require_tools() {
    local t
    for t in "$@"; do
        command -v "$t" >/dev/null 2>&1 || fail "missing tool: $t (run scripts/deps test)"
    done
}

in_dev() { ip netns exec "$NS_DEV" "$@"; }
in_net() { ip netns exec "$NS_NET" "$@"; }

# Run a command in a namespace in the background and record its PID.
# Usage: spawn NS LOGFILE cmd args...
spawn() {
    local ns=$1 logf=$2
    shift 2
    # Emptied here, not by the background job's redirection: a caller
    # waiting for a line must not find the previous run's.
    : >"$logf"
    ip netns exec "$ns" "$@" >>"$logf" 2>&1 &
    PIDS+=("$!")
    LAST_PID=$!
}

# A command whose /etc/resolv.conf is FILE (a private mount namespace).
# Usage: with_resolv FILE cmd args...
with_resolv() {
    local conf=$1
    shift
    # shellcheck disable=SC2016  # expanded by the inner shell
    unshare -m sh -c 'mount --bind "$0" /etc/resolv.conf && exec "$@"' "$conf" "$@"
}

# spawn, with /etc/resolv.conf replaced. Usage: spawn_resolved NS FILE LOG cmd...
spawn_resolved() {
    local ns=$1 conf=$2 logf=$3
    shift 3
    # shellcheck disable=SC2016  # expanded by the inner shell
    spawn "$ns" "$logf" unshare -m sh -c \
        'mount --bind "$0" /etc/resolv.conf && exec "$@"' "$conf" "$@"
}

t2s_cleanup() {
    local p
    for p in "${PIDS[@]}"; do
        kill "$p" 2>/dev/null || true
    done
    for p in "${PIDS[@]}"; do
        for _ in $(seq 50); do
            kill -0 "$p" 2>/dev/null || break
            sleep 0.1
        done
        kill -9 "$p" 2>/dev/null || true
    done
    PIDS=()
    ip netns del "$NS_DEV" 2>/dev/null || true
    ip netns del "$NS_NET" 2>/dev/null || true
    if [ -n "$WORK" ] && [ -z "${T2S_KEEP_WORK:-}" ]; then
        rm -rf "$WORK"
    fi
}

# Poll until a command succeeds (timeout in tenths of a second).
wait_for() {
    local tries=$1
    shift
    for _ in $(seq "$tries"); do
        "$@" >/dev/null 2>&1 && return 0
        sleep 0.1
    done
    return 1
}

listening() { # NS PORT [PROTO]
    local proto=${3:-t}
    ip netns exec "$1" ss -Hln"$proto" "sport = :$2" | grep -q .
}

setup_topology() {
    WORK=$(mktemp -d /tmp/t2s-test.XXXXXX)
    trap t2s_cleanup EXIT
    ip netns add "$NS_DEV"
    ip netns add "$NS_NET"
    ip link add "t2sv0$SUFFIX" type veth peer name "t2sv1$SUFFIX"
    ip link set "t2sv0$SUFFIX" netns "$NS_DEV" name veth0
    ip link set "t2sv1$SUFFIX" netns "$NS_NET" name veth0
    in_dev ip link set lo up
    in_net ip link set lo up
    in_dev ip addr add 198.18.1.1/30 dev veth0
    in_dev ip -6 addr add fd00:1::1/64 dev veth0 nodad
    in_net ip addr add 198.18.1.2/30 dev veth0
    in_net ip -6 addr add fd00:1::2/64 dev veth0 nodad
    in_dev ip link set veth0 up
    in_net ip link set veth0 up
    in_net ip addr add "$SERVER4/32" dev lo
    in_net ip -6 addr add "$SERVER6/128" dev lo nodad
    in_net ip addr add "$SERVER4B/32" dev lo
    in_net ip -6 addr add "$SERVER6B/128" dev lo nodad
    printf 'nameserver %s\n' "$SERVER4" >"$WORK/net-resolv.conf"
    # Replies to the SOCKS clients' addresses are on-link; nothing else.
}

# danted on PROXY4/PROXY6 port 1080. Usage: start_danted none|username [PORT]
# (DANTED_EXTRA: more lines for its configuration)
start_danted() {
    local method=$1 port=${2:-1080} conf=$WORK/danted-$2.conf
    conf=$WORK/danted-${port}.conf
    if [ "$method" = username ]; then
        id "$TEST_USER" >/dev/null 2>&1 ||
            useradd --no-create-home --shell /usr/sbin/nologin "$TEST_USER"
        echo "$TEST_USER:$TEST_PASS" | chpasswd
    fi
    cat >"$conf" <<EOC
logoutput: $WORK/danted-$port.log
internal: $PROXY4 port = $port
internal: $PROXY6 port = $port
external: $PROXY4
external: $PROXY6
user.privileged: root
user.unprivileged: nobody
clientmethod: none
socksmethod: $method
udp.connectdst: no
${DANTED_EXTRA:-}
client pass { from: 0/0 to: 0/0
    log: error
}
socks pass { from: 0/0 to: 0/0
    command: bind connect udpassociate bindreply udpreply
    log: error connect disconnect
}
EOC
    spawn_resolved "$NS_NET" "$WORK/net-resolv.conf" "$WORK/danted-$port.out" \
        danted -f "$conf" -p "$WORK/danted-$port.pid"
    wait_for 100 listening "$NS_NET" "$port" || fail "danted did not start"
}

start_microsocks() { # [PORT] [USER PASS]
    local port=${1:-1081}
    if [ $# -ge 3 ]; then
        spawn_resolved "$NS_NET" "$WORK/net-resolv.conf" "$WORK/microsocks.log" \
            microsocks -i "$PROXY4" -p "$port" -u "$2" -P "$3"
    else
        spawn_resolved "$NS_NET" "$WORK/net-resolv.conf" "$WORK/microsocks.log" \
            microsocks -i "$PROXY4" -p "$port"
    fi
    wait_for 100 listening "$NS_NET" "$port" || fail "microsocks did not start"
}

# dnsmasq on SERVER4/SERVER6 port 53, answering for the test zone only
# (example.test -> SERVER4/SERVER6, other.test -> SERVER4B/SERVER6B) and
# logging every query with its source to $WORK/dnsmasq.log.
start_dnsmasq() {
    cat >"$WORK/dnsmasq.conf" <<EOC
no-resolv
no-hosts
no-poll
bind-interfaces
listen-address=$SERVER4
listen-address=$SERVER6
address=/example.test/$SERVER4
address=/example.test/$SERVER6
address=/other.test/$SERVER4B
address=/other.test/$SERVER6B
mx-host=example.test,mail.example.test,10
log-queries=extra
log-facility=$WORK/dnsmasq.log
EOC
    spawn "$NS_NET" "$WORK/dnsmasq.out" dnsmasq -k -C "$WORK/dnsmasq.conf" \
        --pid-file="$WORK/dnsmasq.pid" --user=root
    wait_for 100 listening "$NS_NET" 53 u || fail "dnsmasq did not start"
}

# tun2socks in DEV with tun0 and default routes through it.
# Usage: start_t2s ARGS...   (--tun/addresses are added here;
# T2S_TEST_ARGS adds more, e.g. "--loglevel debug" when investigating)
start_t2s() {
    # shellcheck disable=SC2086  # word splitting of T2S_TEST_ARGS wanted
    spawn "$NS_DEV" "$WORK/t2s.log" "$T2S_BIN" --tun tun0 \
        --tun-ipv4 198.18.0.1/30 --tun-ipv6 fd00:18::1/64 "$@" ${T2S_TEST_ARGS:-}
    T2S_PID=$LAST_PID
    wait_for 100 grep -qE "(socks5h?|socks4a?|http) proxy" "$WORK/t2s.log" ||
        fail "tun2socks did not start"
    in_dev ip route replace default dev tun0
    in_dev ip -6 route replace default dev tun0
}

stop_t2s() {
    [ -n "$T2S_PID" ] || return 0
    kill "$T2S_PID" 2>/dev/null || true
    wait_for 100 bash -c "! kill -0 $T2S_PID" || fail "tun2socks did not exit on SIGTERM"
    T2S_PID=""
    # The kernel unregisters the TUN after the process is gone; a new
    # tun2socks asking for the same name before that finishes can attach
    # to the dying device (seen under load: "Cannot find device tun0").
    wait_for 100 bash -c "! ip netns exec $NS_DEV ip link show tun0" ||
        fail "tun0 still there after tun2socks exited"
}

# A download from the "send" server on SERVER4:8001 has the SHA-256 WANT.
download_ok() { # WHAT WANT
    local got
    got=$(tool_dev download "$SERVER4" 8001)
    [ "$got" = "$2" ] || fail "$1: download got '$got', want '$2'"
}

# One download from a "send" server on 8001 and one upload to a "sink"
# server on 8002 (logging to $WORK/up.log), both checked by SHA-256.
# Usage: transfer_both_ways WHAT HOST SIZE UP_SEED WANT_DOWN WANT_UP
# (UPLOADS counts uploads so far, for the server's log.)
UPLOADS=0
transfer_both_ways() {
    local what=$1 host=$2 size=$3 seed=$4 want_down=$5 want_up=$6 got
    got=$(tool_dev download "$host" 8001)
    [ "$got" = "$want_down" ] || fail "$what download from $host: got '$got', want '$want_down'"
    UPLOADS=$((UPLOADS + 1))
    tool_dev upload "$host" 8002 "$size" --seed "$seed" >/dev/null
    wait_for 100 bash -c "[ \$(grep -c ^sink '$WORK/up.log') -ge $UPLOADS ]" ||
        fail "$what upload to $host: the server saw no end of data"
    got=$(grep ^sink "$WORK/up.log" | tail -n 1 | cut -d' ' -f2-)
    [ "$got" = "$want_up" ] || fail "$what upload to $host: server got '$got', want '$want_up'"
}

# Helpers for the Python client/server tool.
tool_dev() { in_dev python3 "$TOOLS_PY" "$@"; }
tool_net_bg() { # LOGFILE args...
    local logf=$1
    shift
    spawn "$NS_NET" "$logf" python3 "$TOOLS_PY" "$@"
}

# tun2socks counters after SIGUSR1, as "name=value" lines.
t2s_stats() {
    local before
    before=$(grep -c "stats:" "$WORK/t2s.log" || true)
    kill -USR1 "$T2S_PID"
    wait_for 50 bash -c "[ \$(grep -c 'stats:' '$WORK/t2s.log') -gt $before ]" ||
        fail "no stats line after SIGUSR1"
    grep "stats:" "$WORK/t2s.log" | tail -n 1 | sed 's/.*stats: //' | tr ' ' '\n'
}

stat_value() { # NAME
    t2s_stats | sed -n "s/^$1=//p"
}

# The app's connect must be refused (ECONNREFUSED) in under LIMIT seconds.
# Usage: expect_refused_within LIMIT WHAT HOST PORT
expect_refused_within() {
    local limit=$1 what=$2 out secs
    out=$(tool_dev connect "$3" "$4" --timeout 5)
    log "$what: $out"
    case $out in
    error\ ECONNREFUSED\ *) ;;
    *) fail "$what: expected ECONNREFUSED, got '$out'" ;;
    esac
    secs=${out##* }
    python3 -c "import sys; sys.exit(0 if float('$secs') < $limit else 1)" ||
        fail "$what: took ${secs}s (limit ${limit}s)"
}
