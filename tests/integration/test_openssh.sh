#!/usr/bin/env bash
# OpenSSH's dynamic forwarding as the proxy: sshd in the far namespace
# (its own config, host key and authorized key in the work directory, on
# a port of its own) and `ssh -N -D PROXY4:1085` beside it. ssh -D speaks
# SOCKS5 without authentication and without UDP ASSOCIATE, SOCKS4, and
# SOCKS4a (the name resolved by sshd):
#   socks5   16 MiB down and up over IPv4 and down over IPv6 (SHA-256);
#            DNS to port 53 falls back to DNS over TCP (no UDP ASSOCIATE)
#   socks4   16 MiB down over IPv4
#   socks4a  fake-ip: the name goes to ssh, sshd resolves it: 16 MiB down
set -euo pipefail
# shellcheck source=SCRIPTDIR/lib.sh
. "$(dirname "$0")/lib.sh"
require_root
require_tools dnsmasq dig python3 ss ssh ssh-keygen
SSHD=$(command -v sshd || echo /usr/sbin/sshd)
[ -x "$SSHD" ] || skip "sshd not installed (openssh-server)"

SIZE=$((16 * 1024 * 1024))
setup_topology
start_dnsmasq
tool_net_bg "$WORK/down.log" serve --port 8001 --mode send --size "$SIZE" --seed 7
tool_net_bg "$WORK/up.out" serve --port 8002 --mode sink --log "$WORK/up.log"
wait_for 100 listening "$NS_NET" 8002 || fail "servers did not start"
want_down=$(python3 "$TOOLS_PY" sha "$SIZE" --seed 7)
want_up=$(python3 "$TOOLS_PY" sha "$SIZE" --seed 9)

# sshd: everything in $WORK, nothing of the host's /etc/ssh
mkdir -p /run/sshd
ssh-keygen -q -t ed25519 -N '' -f "$WORK/host_key"
ssh-keygen -q -t ed25519 -N '' -f "$WORK/user_key"
cp "$WORK/user_key.pub" "$WORK/authorized_keys"
cat >"$WORK/sshd_config" <<EOC
Port 2222
ListenAddress $PROXY4
HostKey $WORK/host_key
PidFile $WORK/sshd.pid
AuthorizedKeysFile $WORK/authorized_keys
PermitRootLogin prohibit-password
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
StrictModes no
AllowTcpForwarding yes
EOC
# sshd resolves SOCKS4a names: the far namespace's dnsmasq
spawn_resolved "$NS_NET" "$WORK/net-resolv.conf" "$WORK/sshd.log" \
    "$SSHD" -D -e -f "$WORK/sshd_config"
wait_for 100 listening "$NS_NET" 2222 || fail "sshd did not start"
spawn "$NS_NET" "$WORK/ssh.log" ssh -N -D "$PROXY4:1085" \
    -o GatewayPorts=yes -o BatchMode=yes -o ExitOnForwardFailure=yes \
    -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null \
    -i "$WORK/user_key" -p 2222 "root@$PROXY4"
wait_for 100 listening "$NS_NET" 1085 || fail "ssh -D did not listen"

# ---- socks5 ----
start_t2s --proxy "socks5://$PROXY4:1085"
transfer_both_ways "ssh -D socks5" "$SERVER4" "$SIZE" 9 "$want_down" "$want_up"
got=$(tool_dev download "$SERVER6" 8001)
[ "$got" = "$want_down" ] || fail "ssh -D socks5 download over IPv6: got '$got'"
log "socks5: 16 MiB down and up over IPv4, down over IPv6, SHA-256 match"
out=$(in_dev dig +time=5 +tries=2 +short "@$SERVER4" example.test A 2>&1 | tr '\n' ' ') || true
[ "$out" = "$SERVER4 " ] || fail "socks5: DNS through ssh -D failed: '$out'"
[ "$(stat_value dns_tcp)" -ge 1 ] || fail "socks5: the query did not go as DNS over TCP"
log "socks5: dig @$SERVER4 example.test -> $out (DNS over TCP)"
stop_t2s

# ---- socks4 ----
start_t2s --proxy "socks4://root@$PROXY4:1085"
download_ok "ssh -D socks4" "$want_down"
log "socks4: 16 MiB down over IPv4, SHA-256 match"
stop_t2s

# ---- socks4a and a fake-ip name ----
start_t2s --proxy "socks4a://root@$PROXY4:1085" --dns fake-ip --dns-resolver "$SERVER4"
fake=$(in_dev dig +time=3 +tries=1 +short @198.18.0.2 example.test A)
[[ $fake =~ ^198\.18\. ]] || fail "socks4a: no fake address for example.test: '$fake'"
lookups=$(grep -c 'query\[A\] example.test' "$WORK/dnsmasq.log" || true)
got=$(tool_dev download "$fake" 8001)
[ "$got" = "$want_down" ] || fail "ssh -D socks4a download from example.test: got '$got'"
# the name went to ssh: sshd looked it up in the far namespace
now=$(grep -c 'query\[A\] example.test' "$WORK/dnsmasq.log" || true)
[ "$now" -gt "$lookups" ] || fail "socks4a: sshd did not look up example.test"
log "socks4a: example.test ($fake) 16 MiB down, SHA-256 match"
stop_t2s
log "PASS"
