#!/usr/bin/env bash
# libt2s-jni.so in a real JVM (java/JniTest.java, compiled here with
# javac into the build tree): the JVM runs in the device namespace with a
# TUN descriptor open, as a VPN app's process does, and drives both JNI
# shapes. Routing in the namespace lets a socket reach the proxy only with
# the mark the test's protect() sets (what VpnService.protect() does on
# Android): a proxy socket that skipped protect() fails.
#
# Environment (ctest sets them): T2S_JNI_DIR (libt2s-jni.so),
# T2S_JNI_TEST_DIR (libt2s-jni-test.so, libt2s-jni-compat.so: the
# natives on t2stest/ classes with the older signatures), T2S_JNI_CLASSES (where javac
# writes), JAVA, JAVAC. For a run by hand: JNI_TEST_CYCLES (default 20),
# JNI_TEST_ONLY (t2p,race,refused,compat,bad,cycles: which parts after the first
# hev transfer), JNI_TEST_VERBOSE=1 (every log line on the JVM's stdout).
set -euo pipefail
# shellcheck source=SCRIPTDIR/../integration/lib.sh
. "$(dirname "$0")/../integration/lib.sh"
require_root
require_tools danted python3
JAVA=${JAVA:-java}
JAVAC=${JAVAC:-javac}
if ! command -v "$JAVA" >/dev/null || ! command -v "$JAVAC" >/dev/null; then
    skip "no JDK (scripts/deps test installs default-jdk-headless)"
fi
for v in T2S_JNI_DIR T2S_JNI_TEST_DIR T2S_JNI_CLASSES; do
    [ -n "${!v:-}" ] || fail "$v is not set (run through ctest)"
done
[ -f "$T2S_JNI_DIR/libt2s-jni.so" ] || fail "no $T2S_JNI_DIR/libt2s-jni.so"

HERE=$(cd "$(dirname "$0")" && pwd)
BIG=$((64 * 1024 * 1024))
SMALL=$((256 * 1024))
MARK=0x77

rm -rf "$T2S_JNI_CLASSES"
mkdir -p "$T2S_JNI_CLASSES"
"$JAVAC" -Xlint:all -Werror -d "$T2S_JNI_CLASSES" \
    "$HERE/java/JniTest.java" "$HERE/java/hev/htproxy/TProxyService.java" \
    "$HERE/java/com/github/shadowsocks/bg/Tun2proxy.java" \
    "$HERE/java/t2stest/OldTProxyService.java" "$HERE/java/t2stest/OldTun2proxy.java" ||
    fail "javac failed"

setup_topology
start_danted none 1080
tool_net_bg "$WORK/big.log" serve --port 8001 --mode send --size "$BIG" --seed 4
tool_net_bg "$WORK/small.log" serve --port 8003 --mode send --size "$SMALL" --seed 5
wait_for 100 listening "$NS_NET" 8003 || fail "servers did not start"
want_big=$(python3 "$TOOLS_PY" sha "$BIG" --seed 4)
want_small=$(python3 "$TOOLS_PY" sha "$SMALL" --seed 5)

# protect(): only marked sockets reach the proxy; replies come back on
# veth0 (no reverse-path filter in this namespace).
in_dev sysctl -qw net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.veth0.rp_filter=0
in_dev ip route add prohibit "$PROXY4/32"
in_dev ip route add 198.18.1.0/30 dev veth0 table 100
in_dev ip rule add pref 100 fwmark "$MARK" lookup 100
if in_dev python3 -c "import socket; socket.create_connection(('$PROXY4', 1080), 3)" 2>/dev/null; then
    fail "an unmarked socket reached the proxy: the test would not see a missing protect()"
fi

# A sanitizer build (build/asan): the JVM gets the runtimes first, as
# ASan requires; the JVM's own SEGV handling (safepoints, implicit null
# checks) stays its own, and its allocations are not ours to leak-check.
san_env=()
san_libs=$(ldd "$T2S_JNI_DIR/libt2s-jni.so" | awk '/lib(asan|ubsan)\.so/ {print $3}' | paste -sd: -)
if [ -n "$san_libs" ]; then
    san_env=("LD_PRELOAD=$san_libs"
        "ASAN_OPTIONS=handle_segv=0:allow_user_segv_handler=1:detect_leaks=0:abort_on_error=1"
        "UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1")
fi

# The JVM waits for $WORK/go: the default routes need its TUN first.
spawn "$NS_DEV" "$WORK/java.log" env "JNI_TEST_GO=$WORK/go" "${san_env[@]}" \
    python3 "$TOOLS_PY" tunexec --name tunj0 \
    --ipv4 198.18.0.1/30 --ipv6 fd00:18::1/64 -- \
    "$(command -v "$JAVA")" -XX:+UseSerialGC -XX:-UseDynamicNumberOfCompilerThreads \
    "-Djava.library.path=$T2S_JNI_DIR:$T2S_JNI_TEST_DIR" -cp "$T2S_JNI_CLASSES" \
    JniTest '{fd}' "$PROXY4:1080" "$SERVER4" 8001 "$want_big" 8003 "$want_small" \
    "$WORK" "$MARK" "${JNI_TEST_CYCLES:-20}"
JAVA_PID=$LAST_PID
tun_up() { in_dev ip -o link show up | grep -q ' tunj0:'; }
wait_for 100 tun_up || fail "the TUN did not appear: $(cat "$WORK/java.log")"
in_dev ip route replace default dev tunj0
in_dev ip -6 route replace default dev tunj0
touch "$WORK/go"
rc=0
wait "$JAVA_PID" || rc=$?
cat "$WORK/java.log" >&2
[ "$rc" -eq 0 ] || fail "the JVM test exited with $rc"
grep -q '^PASS$' "$WORK/java.log" || fail "no PASS from the JVM"
log PASS
