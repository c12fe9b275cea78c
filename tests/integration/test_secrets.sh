#!/usr/bin/env bash
# The proxy password is not readable by other local users while tun2socks
# runs: not in /proc/PID/cmdline (password in the URL), not in
# /proc/PID/environ (TUN2SOCKS_PROXY_AUTH, or a URL in TUN2SOCKS_PROXY),
# not in the environment of the route script, in no buffer once used
# (one copy in memory: the configuration; none in the --route parent);
# the process is not dumpable
# (its /proc files belong to root, so a process of the same user cannot
# read them). Traffic still authenticates to danted with the password.
set -euo pipefail
# shellcheck source=SCRIPTDIR/lib.sh
. "$(dirname "$0")/lib.sh"
require_root
require_tools danted python3 ss setpriv

setup_topology
start_danted username 1082
tool_net_bg "$WORK/srv.log" serve --port 8001 --mode send --size 200000 --seed 7
want=$(tool_dev sha 200000 --seed 7)

# /proc/PID/FILE must not hold the password (NUL-separated strings).
no_password_in() { # PID FILE WHAT
    [ -r "/proc/$1/$2" ] || fail "$3: cannot read /proc/$1/$2"
    if tr '\0' '\n' <"/proc/$1/$2" | grep -qF -- "$TEST_PASS"; then
        fail "$3: the password is in /proc/PID/$2"
    fi
}

# Not dumpable: the kernel gives /proc/PID/* to root instead of the owner.
# Checked for a process that runs as an ordinary user, where it differs.
not_dumpable() { # PID WHAT
    local owner uid
    uid=$(awk '/^Uid:/ { print $3 }' "/proc/$1/status")
    [ "$uid" != 0 ] || fail "$2: expected a non-root effective uid"
    owner=$(stat -c %u "/proc/$1/environ")
    [ "$owner" = 0 ] || fail "$2: dumpable (/proc/$1/environ belongs to uid $owner, not root)"
}

# How many copies of the password the process's memory holds (root reads
# /proc/PID/mem of a non-dumpable process). Read in chunks that overlap by
# the needle's length; mappings over 1 GiB are ASan's shadow, not data.
# Not with a sanitizer build: its runtime keeps its own copy of the
# initial environment (read from /proc/self/environ before main).
SANITIZED=0
grep -qa __asan_init "$T2S_BIN" && SANITIZED=1
copies_in_memory() { # PID
    python3 - "$1" "$TEST_PASS" <<'EOP'
import sys
pid, needle, n = sys.argv[1], sys.argv[2].encode(), 0
chunk, k = 16 << 20, len(sys.argv[2])
with open("/proc/%s/maps" % pid) as maps, open("/proc/%s/mem" % pid, "rb", 0) as mem:
    for line in maps:
        f = line.split()
        lo, hi = (int(x, 16) for x in f[0].split("-"))
        if "r" not in f[1] or f[-1] in ("[vvar]", "[vsyscall]") or hi - lo > 1 << 30:
            continue
        tail = b""
        for off in range(lo, hi, chunk):
            try:
                mem.seek(off)
                data = tail + mem.read(min(chunk, hi - off))
            except OSError:
                break
            n += data.count(needle)
            tail = data[-(k - 1):]
print(n)
EOP
}

# 1. Password in the URL on the command line.
start_t2s --proxy "socks5://$TEST_USER:$TEST_PASS@$PROXY4:1082"
no_password_in "$T2S_PID" cmdline "password in the URL"
grep -qF "socks5://$TEST_USER:" <(tr '\0' '\n' <"/proc/$T2S_PID/cmdline") ||
    fail "password in the URL: the rest of the URL should stay readable in argv"
download_ok "password in the URL" "$want"
# one copy: the configuration the handshakes use; none left behind by the
# handshakes (their buffers are zeroed) or by parsing
n=$(copies_in_memory "$T2S_PID")
[ "$SANITIZED" = 1 ] || [ "$n" = 1 ] || fail "password in the URL: $n copies in memory after traffic, want 1"
stop_t2s
log "ok: password in the URL is not in cmdline, traffic authenticates"

# 2. Password in TUN2SOCKS_PROXY_AUTH, and a URL with a password in
# TUN2SOCKS_PROXY (another password, to tell them apart).
TUN2SOCKS_PROXY_AUTH="$TEST_USER:$TEST_PASS" start_t2s --proxy "socks5://$PROXY4:1082"
no_password_in "$T2S_PID" environ "TUN2SOCKS_PROXY_AUTH"
no_password_in "$T2S_PID" cmdline "TUN2SOCKS_PROXY_AUTH"
download_ok "TUN2SOCKS_PROXY_AUTH" "$want"
stop_t2s
TUN2SOCKS_PROXY="socks5://$TEST_USER:$TEST_PASS@$PROXY4:1082" start_t2s
no_password_in "$T2S_PID" environ "TUN2SOCKS_PROXY with a password"
download_ok "TUN2SOCKS_PROXY with a password" "$want"
stop_t2s
log "ok: TUN2SOCKS_PROXY_AUTH and TUN2SOCKS_PROXY passwords are not in environ"

# 3. The route script (a child) does not inherit the password: a stand-in
# script records its environment and does nothing else.
cat >"$WORK/route-stub" <<EOS
#!/bin/sh
env >>"$WORK/route-env"
echo "\$1" >>"$WORK/route-calls"
EOS
chmod 700 "$WORK/route-stub"
TUN2SOCKS_PROXY_AUTH="$TEST_USER:$TEST_PASS" start_t2s --proxy "socks5://$PROXY4:1082" \
    --route --route-script "$WORK/route-stub"
grep -qx up "$WORK/route-calls" || fail "--route: the route script did not run 'up'"
grep -qF -- "$TEST_PASS" "$WORK/route-env" && fail "--route: the route script inherited the password"
grep -q '^TUN2SOCKS_PROXY_AUTH=' "$WORK/route-env" &&
    fail "--route: the route script inherited TUN2SOCKS_PROXY_AUTH"
download_ok "--route with TUN2SOCKS_PROXY_AUTH" "$want"
# the root parent only waits: it keeps no copy
n=$(copies_in_memory "$T2S_PID")
[ "$SANITIZED" = 1 ] || [ "$n" = 0 ] || fail "--route: the root parent holds $n copies of the password"
stop_t2s
log "ok: the route script does not see the password"

# 4. Not dumpable: run as an ordinary user holding CAP_NET_ADMIN, as the
# systemd unit does (DynamicUser= with AmbientCapabilities=); plus
# CAP_DAC_OVERRIDE where /dev/net/tun is root-only (0600). Once set up it
# keeps none of them (no option here needs one).
uid=$(id -u "$TEST_USER")
: >"$WORK/t2s.log"
spawn "$NS_DEV" "$WORK/t2s.log" env TUN2SOCKS_PROXY_AUTH="$TEST_USER:$TEST_PASS" \
    setpriv --reuid "$uid" --regid "$uid" --clear-groups \
    --inh-caps +net_admin,+dac_override --ambient-caps +net_admin,+dac_override \
    "$T2S_BIN" --tun tun0 --tun-ipv4 198.18.0.1/30 \
    --tun-ipv6 fd00:18::1/64 --proxy "socks5://$PROXY4:1082"
T2S_PID=$LAST_PID
wait_for 100 grep -q "socks5 proxy" "$WORK/t2s.log" || fail "tun2socks (unprivileged) did not start"
in_dev ip route replace default dev tun0
not_dumpable "$T2S_PID" "unprivileged with CAP_NET_ADMIN"
no_password_in "$T2S_PID" environ "unprivileged with CAP_NET_ADMIN"
caps=$(awk '/^CapEff:/ { print $2 }' "/proc/$T2S_PID/status")
[ "$caps" = 0000000000000000 ] || fail "unprivileged: capabilities kept after setup: CapEff $caps"
download_ok "unprivileged with CAP_NET_ADMIN" "$want"
stop_t2s
log "ok: not dumpable, no capability kept"
log PASS
