#!/usr/bin/env bash
# A wrong password: the app's connect fails fast, the log names the
# authentication failure and never contains the password.
set -euo pipefail
# shellcheck source=SCRIPTDIR/lib.sh
. "$(dirname "$0")/lib.sh"
require_root
require_tools danted python3 ss

setup_topology
start_danted username 1082
tool_net_bg "$WORK/srv.log" serve --port 8001 --mode echo
wrong="not-the-Pa55word"
TUN2SOCKS_PROXY_AUTH="$TEST_USER:$wrong" start_t2s --proxy "socks5://$PROXY4:1082"

expect_refused_within 3 "connect with a wrong password" "$SERVER4" 8001
grep -q "proxy rejected username/password authentication" "$WORK/t2s.log" ||
    fail "no clear log line about the authentication failure"
grep -q "$wrong" "$WORK/t2s.log" && fail "the password appears in the log"
[ "$(stat_value err_proxy_auth)" -ge 1 ] || fail "err_proxy_auth not counted"
log PASS
