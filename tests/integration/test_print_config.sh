#!/usr/bin/env bash
# tun2socks --print-config, the real binary: no password on stdout or
# stderr however it was given (URL, TUN2SOCKS_PROXY, TUN2SOCKS_PROXY_AUTH,
# --proxy-auth-file, a config file), exit 0; its output read back with
# --config prints the same; with --route it shows what --route fills in
# and runs no route script. No root, no network.
set -euo pipefail
# shellcheck source=SCRIPTDIR/lib.sh
. "$(dirname "$0")/lib.sh"
[ -x "$T2S_BIN" ] || fail "tun2socks binary not found: $T2S_BIN"

WORK=$(mktemp -d /tmp/t2s-test.XXXXXX)
trap t2s_cleanup EXIT
unset TUN2SOCKS_PROXY TUN2SOCKS_PROXY_AUTH TUN2SOCKS_ROUTE_SCRIPT

# print WHAT [env NAME=VALUE...] -- ARGS: --print-config into $WORK/out
print() {
    local what=$1 rc=0
    shift
    env "$@" --print-config >"$WORK/out" 2>"$WORK/err" || rc=$?
    [ "$rc" -eq 0 ] || fail "$what: exit $rc: $(cat "$WORK/err")"
    if grep -qF -- "$TEST_PASS" "$WORK/out" "$WORK/err"; then
        fail "$what: --print-config shows the password"
    fi
}

no_secret() { # WHAT env-and-args...
    local what=$1
    shift
    print "$what" "$@"
    grep -qx '# proxy-auth = yes' "$WORK/out" || fail "$what: no '# proxy-auth = yes'"
    grep -qx "proxy = socks5://$PROXY4:1080" "$WORK/out" ||
        fail "$what: proxy line: $(grep '^proxy =' "$WORK/out")"
    log "ok: $what: no password, proxy-auth = yes"
}

no_secret "password in the URL" "$T2S_BIN" --tun t0 \
    --proxy "socks5://$TEST_USER:$TEST_PASS@$PROXY4:1080"
no_secret "TUN2SOCKS_PROXY" \
    TUN2SOCKS_PROXY="socks5://$TEST_USER:$TEST_PASS@$PROXY4:1080" "$T2S_BIN" --tun t0
no_secret "TUN2SOCKS_PROXY_AUTH" TUN2SOCKS_PROXY_AUTH="$TEST_USER:$TEST_PASS" \
    "$T2S_BIN" --tun t0 --proxy "socks5://$PROXY4:1080"
printf '%s:%s\n' "$TEST_USER" "$TEST_PASS" >"$WORK/auth"
chmod 600 "$WORK/auth"
no_secret "--proxy-auth-file" "$T2S_BIN" --tun t0 \
    --proxy "socks5://$PROXY4:1080" --proxy-auth-file "$WORK/auth"
printf 'tun = t0\nproxy = socks5://%s:%s@%s:1080\n' "$TEST_USER" "$TEST_PASS" \
    "$PROXY4" >"$WORK/secret.conf"
chmod 600 "$WORK/secret.conf"
no_secret "config file" "$T2S_BIN" --config "$WORK/secret.conf"

# Read back: the same lines (but proxy-auth: credentials are not printed).
print "read back" "$T2S_BIN" --config "$WORK/secret.conf" --dns fake-ip \
    --memory-limit 64M --fwmark 0x10 --user daemon --fake-ip-pool6 none
mv "$WORK/out" "$WORK/first.conf"
print "read back, second run" "$T2S_BIN" --config "$WORK/first.conf"
sed 's/^# proxy-auth = yes$/# proxy-auth = no/' "$WORK/first.conf" |
    diff -u - "$WORK/out" >&2 || fail "read back: the output changed"
log "ok: the output read back with --config prints the same"

# --route: its defaults shown, the route script not run.
cat >"$WORK/route" <<EOS
#!/bin/sh
touch "$WORK/route-ran"
EOS
chmod 755 "$WORK/route"
print "--route" "$T2S_BIN" --tun t0 --proxy "socks5://$PROXY4:1080" --route \
    --route-script "$WORK/route"
[ ! -e "$WORK/route-ran" ] || fail "--route --print-config ran the route script"
grep -qx 'route = yes' "$WORK/out" || fail "--route: no 'route = yes'"
grep -q '^fwmark = 0x' "$WORK/out" || fail "--route: no fwmark filled in"
grep -q '^tun-ipv4 = .' "$WORK/out" || fail "--route: no tun-ipv4 filled in"
log "ok: --route --print-config fills in the route defaults and runs nothing"

# An error is still one line on stderr and exit 2.
rc=0
"$T2S_BIN" --tun t0 --print-config >"$WORK/out" 2>"$WORK/err" || rc=$?
[ "$rc" -eq 2 ] || fail "no proxy: exit $rc, want 2"
[ ! -s "$WORK/out" ] || fail "no proxy: printed a configuration anyway"
log PASS
