# shellcheck shell=bash
# tun2socks-route module: the state records of an up, and what reads and
# undoes them. down and status work on what up recorded, whatever their
# own flags say.
#
# Files in $STATE (the rules and routes files: see rules.sh):
#   settings    what up was asked for (compared by a second up)
#   tun.created the TUN was created by us (deleted by down)
#   pid         PID STARTTIME of the tun2socks we started (killed by down)
#   owner       PID STARTTIME of the tun2socks that owns the TUN (--no-start)
#   ssh         the SSH clients kept direct (shown by status)
# The copy of resolv.conf lives in $PERSIST: see dns.sh.
#
# Depends on common.sh, detect.sh, dns.sh, rules.sh. Reads the globals
# of args.sh; load_settings sets TABLE and RESOLV from the record.
# shellcheck disable=SC2154  # the globals are set by args.sh and up.sh

# What up is asked for, one 'key value' per line: a second up with the
# same text finds nothing to do.
settings_text() {
    local a
    echo "version $VERSION"
    if [ "$NO_START" -eq 1 ]; then echo "mode no-start"; else echo "mode started tun2socks"; fi
    echo "tun $TUN"
    [ "$NO_START" -eq 1 ] || echo "tun-ipv4 $TUN4"
    [ "$NO_START" -eq 1 ] || echo "tun-ipv6 $TUN6"
    echo "ipv6 $V6"
    [ -z "$MTU" ] || echo "mtu $MTU"
    echo "fwmark $FWMARK"
    echo "table $TABLE"
    echo "priority $PRIO"
    [ -z "$PROXY_HOST" ] || echo "proxy-host $PROXY_HOST"
    for a in "${PROXY_ADDRS[@]}"; do echo "proxy$(family "$a") $a"; done
    for a in "${EXCLUDES[@]}"; do echo "exclude $a"; done
    echo "exclude-local $EXCL_LOCAL"
    [ -z "$DNS_MODE" ] || echo "dns $DNS_MODE ${DNS_ADDRS[*]} ${DNS_RESOLVER}"
    echo "resolv-conf $RESOLV"
}

load_settings() {
    local v
    [ -f "$STATE/settings" ] || return 0
    v=$(sed -n 's/^table //p' "$STATE/settings")
    [ -z "$v" ] || TABLE=$v
    v=$(sed -n 's/^resolv-conf //p' "$STATE/settings")
    [ -z "$v" ] || RESOLV=$v
    return 0
}

lock() {
    mkdir -p "$STATE_BASE"
    exec 9>"$STATE_BASE/.$TUN.lock"
    flock -w 30 9 || die "another $PROG is working on $TUN"
}

# Problems of the live state against the recorded one, one per line.
problems() {
    local pid start
    routing_problems
    tun_exists || echo "$TUN does not exist"
    if [ -f "$STATE/pid" ]; then
        read -r pid start <"$STATE/pid"
        pid_alive "$pid" "$start" || echo "tun2socks (pid $pid) is not running"
    fi
    if [ -f "$STATE/owner" ]; then
        read -r pid start <"$STATE/owner"
        pid_alive "$pid" "$start" || echo "the owner of $TUN (pid $pid) is not running"
    fi
    if [ -f "$STATE/pid" ] || [ -f "$STATE/owner" ]; then
        tun_exists && ! tun_carrier && echo "nothing is attached to $TUN (no carrier)"
    fi
    if [ -f "$PERSIST/resolv.ours" ] && ! cmp -s "$PERSIST/resolv.ours" "$RESOLV"; then
        echo "$RESOLV was changed by someone else since up"
    fi
    return 0
}

# The tun2socks that up started: SIGTERM, then SIGKILL.
stop_started() {
    local pid start
    [ -f "$STATE/pid" ] || return 0
    read -r pid start <"$STATE/pid"
    if pid_alive "$pid" "$start"; then
        kill -TERM "$pid" 2>/dev/null || true
        if ! wait_until $((WAIT * 10)) bash -c "! kill -0 $pid 2>/dev/null"; then
            warn "tun2socks (pid $pid) ignored SIGTERM; killing it"
            kill -KILL "$pid" 2>/dev/null || true
            wait_until 50 bash -c "! kill -0 $pid 2>/dev/null" || true
        fi
    fi
    rm -f "$STATE/pid"
}

# The TUN that up created, unless someone else uses it now. Returns 1 if
# it is still there.
delete_created_tun() {
    local ok=0
    [ -f "$STATE/tun.created" ] || return 0
    if tun_exists; then
        if tun_carrier; then
            msg "$TUN is in use by another process; not deleting it"
            ok=1
        else
            ip link del dev "$TUN" || ok=1
        fi
    fi
    tun_exists || rm -f "$STATE/tun.created"
    return "$ok"
}

# Remove what $STATE records, newest first. Returns 1 if something recorded
# could not be removed (the state is kept for another try).
teardown() {
    local ok=0
    [ -d "$STATE" ] || return 0
    adopt_old_resolv_copy
    dns_restore || ok=1
    rules_remove || ok=1
    routes_remove || ok=1
    stop_started
    delete_created_tun || ok=1
    if [ "$ok" -eq 0 ]; then
        rm -f "$STATE/settings" "$STATE/owner" "$STATE/ssh"
        # the log of a tun2socks we started stays only if it lives elsewhere
        rm -f "$STATE/tun2socks.log"
        rmdir "$STATE" 2>/dev/null || warn "left files in $STATE"
    fi
    return "$ok"
}

# up --replace over a recorded state that is not whole or differs: take it
# down as down would (with its own table and resolv.conf), then go on.
# Between the two, traffic is not blocked for the few ip commands it takes.
replace_state() { # WHY
    local table=$TABLE resolv=$RESOLV
    msg "replacing what an earlier up of $TUN left ($1)"
    load_settings
    teardown || die "cannot take down the earlier state of $TUN; see '$PROG status --tun $TUN'"
    TABLE=$table
    RESOLV=$resolv
}

# up --no-start --replace with the same settings after the owner died and
# a new tun2socks made the TUN again (a systemd restart): only the routes
# through the TUN went with the old one. Put them back and record the new
# owner, leaving the rules and the unreachable routes in place, so
# traffic is never let out directly. Fails (changing nothing that up
# would not redo) when more than that is missing.
reattach_state() {
    local p
    [ "$NO_START" -eq 1 ] && [ ! -f "$STATE/pid" ] || return 1
    wait_until $((WAIT * 10)) tun_exists && tun_is_tun && wait_until $((WAIT * 10)) tun_carrier ||
        return 1
    if [ -n "$OWNER_PID" ]; then
        kill -0 "$OWNER_PID" 2>/dev/null || return 1
    fi
    # everything recorded but the routes through the TUN must still be there
    while IFS= read -r p; do
        case $p in "route missing: ip -"?" route default dev $TUN table $TABLE") ;; *) return 1 ;; esac
    done < <(problems | grep -v -e "^the owner of $TUN " -e "^nothing is attached to $TUN")
    routes_reattach || return 1
    record_owner
    [ -z "$(problems)" ]
}

# --no-start: who owns the TUN (checked by status and a later up).
record_owner() {
    if [ -n "$OWNER_PID" ]; then
        echo "$OWNER_PID $(proc_start "$OWNER_PID" || true)" >"$STATE/owner"
    else
        rm -f "$STATE/owner"
    fi
}

# status of a recorded up: prints it, returns 0 whole or 4 inconsistent.
status_report() {
    local n f a args line pid start lines
    load_settings
    echo "$TUN: up ($(sed -n 's/^mode //p' "$STATE/settings" 2>/dev/null))"
    sed -n 's/^\(proxy\|exclude\|dns\|table\|fwmark\|priority\) /  \1: /p' "$STATE/settings" 2>/dev/null
    [ -f "$STATE/ssh" ] && sed 's/^/  kept direct (SSH): /' "$STATE/ssh"
    n=0
    [ -f "$STATE/rules" ] && n=$(wc -l <"$STATE/rules")
    echo "  rules recorded: $n; routes recorded: $( [ -f "$STATE/routes" ] && wc -l <"$STATE/routes" || echo 0)"
    if [ -f "$STATE/pid" ]; then
        read -r pid start <"$STATE/pid"
        if pid_alive "$pid" "$start"; then echo "  tun2socks: pid $pid, running"; else echo "  tun2socks: pid $pid, gone"; fi
    fi
    for f in 4 6; do
        args=$(sed -n "s/^proxy$f //p" "$STATE/settings" 2>/dev/null)
        for a in $args; do
            line=$(ip -"$f" route get "$a" 2>/dev/null | head -n 1 || true)
            echo "  route to proxy $a: ${line:-none}"
        done
    done
    mapfile -t lines < <(problems)
    if [ ${#lines[@]} -gt 0 ]; then
        printf '  PROBLEM: %s\n' "${lines[@]}"
        if grep -q '|unreachable default' "$STATE/routes" 2>/dev/null &&
            ! { tun_exists && tun_carrier; }; then
            echo "  kill switch: traffic routed into $TUN is refused, not sent directly"
        fi
        echo "  -> run '$PROG down --tun $TUN' to clean up"
        return 4
    fi
    echo "  all recorded rules and routes are in place"
    return 0
}
