#!/usr/bin/env bash
# examples/embed runs a real instance on a TUN it creates in a private
# network namespace (the host's network is never touched): an app's TCP
# connection reaches the library, the socket hook sees the proxy socket,
# the log sink gets the refused proxy connect, the counters are printed.
#   test_embed.sh EMBED_BINARY
set -euo pipefail

embed=$1
if [ "$(id -u)" -ne 0 ] || ! unshare --net true 2>/dev/null; then
    echo "test_embed: needs root and network namespaces: skipped"
    exit 77
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# In the namespace: the TUN is t2sembed0, 198.18.0.1/15; nothing listens
# on the proxy's port, so the proxy connect is refused and the app's
# connection reset. The run lasts 5 s; the app connects once the TUN is up.
# shellcheck disable=SC2016  # expanded by the inner bash
unshare --net bash -c '
    set -eu
    ip link set lo up
    "$0" t2sembed0 socks5://127.0.0.1:1 5 >"$1/out" 2>"$1/err" &
    pid=$!
    for _ in $(seq 100); do
        ip -4 addr show dev t2sembed0 2>/dev/null | grep -q 198.18.0.1 && break
        sleep 0.05
    done
    (exec 3<>/dev/tcp/198.18.7.7/80) 2>/dev/null || true
    wait "$pid"
' "$embed" "$work"

cat "$work/err" "$work/out"
grep -q '^tcp_total=1 err_proxy_connect=1 .* hook_calls=1$' "$work/out"
[ "$(grep -c 'embed: socket hook: fd' "$work/err")" -eq 1 ]
grep -q '^embed: warn: .*cannot connect to proxy 127.0.0.1 port 1' "$work/err"
grep -q '^embed: info: shutting down$' "$work/err"
echo "test_embed: ok"
