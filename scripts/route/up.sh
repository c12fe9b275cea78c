# shellcheck shell=bash
# tun2socks-route module: the steps of up, in the order cmd_up runs them.
# Nothing is changed before up_go; from there on, a failure or a signal
# undoes what this up did (rollback, through teardown).
#
# Depends on common.sh, detect.sh, dns.sh, rules.sh, state.sh. Reads the
# globals of args.sh; sets PROXY_ADDRS, PROXY_HOST, DNS_RESOLVER, SSH_LIST,
# KEEP, SETTINGS, UP_DONE.
# shellcheck disable=SC2034,SC2154  # globals shared with the other modules

ROLLBACK_ARMED=0
UP_DONE=0
SSH_LIST=()
KEEP=()
SETTINGS=""

rollback() {
    [ "$ROLLBACK_ARMED" -eq 1 ] || return 0
    ROLLBACK_ARMED=0
    msg "undoing what this up did"
    teardown || msg "could not undo everything; see '$PROG status --tun $TUN'"
}

fail_up() {
    msg "refusing: $*"
    rollback
    exit 1
}

on_signal() {
    msg "interrupted"
    rollback
    exit 1
}

# The addresses of the proxies of a config file that lists several (one
# URL per line in PROXY_URL): each literal, each name resolved now.
up_proxy_list_addrs() {
    local u a
    while IFS= read -r u; do
        [[ $u == socks5://* ]] || usage_error "the proxy URL must start with socks5://"
        a=$(url_host "$u")
        [ -n "$a" ] || usage_error "no host in the proxy URL"
        if is_ip "$a"; then
            PROXY_ADDRS+=("$a")
        else
            mapfile -t -O ${#PROXY_ADDRS[@]} PROXY_ADDRS < <(getent ahosts "$a" | awk '{ print $1 }' | sort -u)
            [ ${#PROXY_ADDRS[@]} -gt 0 ] || die "refusing: cannot resolve the proxy host '$a'"
        fi
    done <<<"$PROXY_URL"
}

# The proxy's addresses: --proxy-addr, else the host of the proxy URL
# (of every proxy URL when the config file lists several).
up_proxy_addrs() {
    local a
    if [ ${#PROXY_ADDRS[@]} -eq 0 ] && [[ $PROXY_URL == *$'\n'* ]]; then
        up_proxy_list_addrs
    elif [ ${#PROXY_ADDRS[@]} -eq 0 ]; then
        [ -n "$PROXY_URL" ] || usage_error "no proxy: give --proxy URL (or TUN2SOCKS_PROXY, or --proxy-addr)"
        [[ $PROXY_URL == socks5://* ]] || usage_error "the proxy URL must start with socks5://"
        a=$(url_host "$PROXY_URL")
        [ -n "$a" ] || usage_error "no host in the proxy URL"
        if is_ip "$a"; then
            PROXY_ADDRS=("$a")
        elif [ -f "$STATE/settings" ] && grep -Fqx "proxy-host $a" "$STATE/settings"; then
            # Already up: resolv.conf may point into the TUN by now, so take
            # the addresses resolved by the first up.
            PROXY_HOST=$a
            mapfile -t PROXY_ADDRS < <(sed -n 's/^proxy[46] //p' "$STATE/settings")
        else
            PROXY_HOST=$a
            mapfile -t PROXY_ADDRS < <(getent ahosts "$a" | awk '{ print $1 }' | sort -u)
            [ ${#PROXY_ADDRS[@]} -gt 0 ] || die "refusing: cannot resolve the proxy host '$a'"
        fi
    fi
    for a in "${PROXY_ADDRS[@]}"; do
        is_ip "$a" || usage_error "bad proxy address '$a'"
        [ "$V6" -eq 1 ] || [ "$(family "$a")" = 4 ] ||
            usage_error "the proxy $a is IPv6 but IPv6 is off (--tun-ipv6 none)"
    done
}

# The rest of the request: the binary, the SSH peers, the resolver; then
# the settings text that identifies this up.
up_prepare() {
    [ "$NO_START" -eq 1 ] || find_bin
    if [ "$EXCL_SSH" -eq 1 ]; then
        mapfile -t SSH_LIST < <(ssh_peers | sort -u)
    fi
    if [ "$DNS_MODE" = tcp ] && [ -z "$DNS_RESOLVER" ] && [ "$NO_START" -eq 0 ]; then
        DNS_RESOLVER=$(first_nameserver)
        [ -n "$DNS_RESOLVER" ] ||
            usage_error "--dns $DNS_MODE: no non-loopback nameserver in $RESOLV to forward to; give --dns-resolver"
    fi
    SETTINGS=$(settings_text)
}

# A recorded state of this TUN: sets UP_DONE when there is nothing more
# to do (already up, or re-attached); dies when refused.
up_existing() {
    local problems_now=() a
    if [ -d "$STATE" ]; then
        if [ "$(cat "$STATE/settings" 2>/dev/null)" != "$SETTINGS" ]; then
            [ "$REPLACE" -eq 1 ] ||
                die "refusing: $TUN is already up with other settings ($STATE/settings); run '$PROG down --tun $TUN' first"
            replace_state "it was up with other settings"
        else
            mapfile -t problems_now < <(problems)
            if [ ${#problems_now[@]} -gt 0 ] && [ "$REPLACE" -eq 1 ] && reattach_state; then
                msg "$TUN: up again, on the new tun2socks (the kill switch stayed in place)"
                UP_DONE=1
                return 0
            elif [ ${#problems_now[@]} -gt 0 ] && [ "$REPLACE" -eq 1 ]; then
                replace_state "${problems_now[0]}"
            elif [ ${#problems_now[@]} -gt 0 ]; then
                msg "refusing: $TUN was brought up before but the state is inconsistent:"
                printf '  %s\n' "${problems_now[@]}" >&2
                die "run '$PROG down --tun $TUN' to clean up, then up again"
            else
                msg "$TUN is already up; nothing changed"
                UP_DONE=1
                return 0
            fi
        fi
    fi
    # only a copy of resolv.conf left (a reboot since an up): put it back
    if [ ! -d "$STATE" ]; then
        a=$RESOLV
        dns_restore_stale || die "cannot restore $RESOLV from $PERSIST"
        RESOLV=$a
    fi
}

# Would up collide with something that is not ours? Dies if so.
up_preflight() {
    local a f
    routing_check_free
    if [ "$NO_START" -eq 1 ]; then
        wait_until $((WAIT * 10)) tun_exists ||
            die "refusing: $TUN does not exist (--no-start expects tun2socks to have created it)"
        tun_is_tun || die "refusing: $TUN is not a TUN device"
        wait_until $((WAIT * 10)) tun_carrier ||
            die "refusing: nothing is attached to $TUN (is tun2socks running on it?)"
        if [ -n "$OWNER_PID" ]; then
            kill -0 "$OWNER_PID" 2>/dev/null || die "refusing: --pid $OWNER_PID is not running"
        fi
    else
        tun_exists && die "refusing: $TUN already exists and is not recorded as ours; if tun2socks already runs on it use --no-start, else delete it or choose --tun"
    fi
    # The proxy must be reachable now, and not through the TUN.
    for a in "${PROXY_ADDRS[@]}"; do
        f=$(family "$a")
        ip -"$f" route get "$a" >/dev/null 2>&1 ||
            die "refusing: no route to the proxy $a (ip -$f route get $a)"
        [ "$(route_dev "$f" "$a")" != "$TUN" ] ||
            die "refusing: the proxy $a is routed through $TUN already; fix the routing first"
    done
    # Excluded networks and SSH clients, each once (a /32 or /128 is the address).
    mapfile -t KEEP < <(for a in "${EXCLUDES[@]}" "${SSH_LIST[@]}"; do
        a=${a%/32}
        [ "$(family "$a")" = 4 ] || a=${a%/128}
        echo "$a"
    done | awk '!seen[$0]++')
}

# From here on a failure undoes this up.
up_go() {
    ROLLBACK_ARMED=1
    trap on_signal INT TERM HUP
    mkdir -p "$STATE"
    printf '%s\n' "$SETTINGS" >"$STATE/settings"
    [ ${#SSH_LIST[@]} -eq 0 ] || printf '%s\n' "${SSH_LIST[@]}" >"$STATE/ssh"
}

# The TUN, persistent and ours (recorded), with its addresses.
up_make_tun() {
    ip tuntap add dev "$TUN" mode tun || fail_up "cannot create $TUN"
    : >"$STATE/tun.created"
    [ -z "$MTU" ] || ip link set dev "$TUN" mtu "$MTU" || fail_up "cannot set MTU $MTU"
    ip addr add "$TUN4" dev "$TUN" || fail_up "cannot add $TUN4 to $TUN"
    if [ "$V6" -eq 1 ]; then
        ip -6 addr add "$TUN6" dev "$TUN" nodad || fail_up "cannot add $TUN6 to $TUN"
    fi
    ip link set dev "$TUN" up || fail_up "cannot bring $TUN up"
}

# tun2socks on the TUN, in the background; recorded, then waited for.
up_start_tun2socks() {
    local a pid start args=(--tun "$TUN")
    [ -z "$CONFIG" ] || args=(--config "$CONFIG" "${args[@]}")
    [ -z "$MTU" ] || args+=(--mtu "$MTU")
    [ "$MARK_RULE" -eq 0 ] || args+=(--fwmark "$FWMARK")
    if [ -n "$DNS_MODE" ]; then
        args+=(--dns "$DNS_MODE")
        for a in "${DNS_ADDRS[@]}"; do args+=(--dns-addr "$a"); done
        [ -z "$DNS_RESOLVER" ] || args+=(--dns-resolver "$DNS_RESOLVER")
    fi
    args+=("${EXTRA[@]}")
    mkdir -p "$(dirname "$LOGF")"
    # The URL (it may hold credentials) goes by environment, not argv.
    # fd 9 is our lock: tun2socks must not inherit it.
    if [ "$PROXY_FROM" = config ]; then
        "$BIN" "${args[@]}" </dev/null >>"$LOGF" 2>&1 9>&- &
    else
        TUN2SOCKS_PROXY=$PROXY_URL "$BIN" "${args[@]}" </dev/null >>"$LOGF" 2>&1 9>&- &
    fi
    pid=$!
    start=$(proc_start "$pid" || true)
    echo "$pid $start" >"$STATE/pid"
    wait_until $((WAIT * 10)) started "$pid" || true
    if ! tun_carrier || ! kill -0 "$pid" 2>/dev/null; then
        msg "tun2socks did not start; its output ($LOGF):"
        tail -n 5 "$LOGF" >&2 || true
        fail_up "tun2socks is not running on $TUN"
    fi
    disown "$pid" 2>/dev/null || true
}

# The rules and routes, the check that the proxy stays direct, and DNS.
up_route() {
    routing_add || fail_up "$ROUTE_ERR"
    routing_check_proxy || fail_up "$ROUTE_ERR"
    # relay: DNS is ordinary UDP to the machine's own nameservers, so
    # resolv.conf stays as it is (a nameserver on a local or excluded
    # network is then reached directly: use tcp or fake-ip to avoid that).
    if [ -n "$DNS_MODE" ] && [ "$DNS_MODE" != relay ]; then
        dns_apply || fail_up "cannot write $RESOLV"
    fi
}

up_done() {
    ROLLBACK_ARMED=0
    trap - INT TERM HUP
    msg "$TUN: up; all traffic but the proxy's$([ "$EXCL_LOCAL" -eq 1 ] && echo ", local networks'")$([ ${#EXCLUDES[@]} -gt 0 ] && echo ", excluded networks'")$([ ${#SSH_LIST[@]} -gt 0 ] && echo " and SSH clients'") goes through tun2socks$(case $DNS_MODE in relay) echo "; DNS: relayed as UDP, resolv.conf unchanged" ;; ?*) echo "; DNS: ${DNS_ADDRS[*]} ($DNS_MODE)" ;; esac)"
}
