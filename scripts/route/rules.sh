# shellcheck shell=bash
# tun2socks-route module: the policy rules and the routes of table TABLE.
# Each one added is recorded in $STATE as it goes, with the line 'ip'
# shows for it, so that down removes exactly that and status can tell
# whether it is still there:
#   rules       one per line: FAMILY PRIORITY|ADD-ARGS|SHOWN-LINE
#   routes      one per line: FAMILY|ADD-ARGS|SHOWN-LINE
#
# Rules (base priority P, default 7300; table T, default 7331; mark M):
#   P    fwmark M lookup main              sockets of tun2socks to the proxy
#   P+1  to PROXY lookup main              the proxy's address(es)
#   P+2  to NET lookup main                --exclude networks, SSH clients
#   P+3  lookup main suppress_prefixlength 0   local networks (every route
#                                          of the main table but the default)
#   P+4  lookup T                          everything else: default dev TUN
# Table T: default dev TUN, and the kill switch: 'unreachable default' of
# the highest metric, which takes over when the TUN goes.
#
# Depends on common.sh, detect.sh (route_dev). Reads STATE, TUN, TABLE,
# PRIO, FWMARK, MARK_RULE, FAMS, V6, PROXY_ADDRS, KEEP, EXCL_LOCAL.
# Functions that change something return 1 with the reason in ROUTE_ERR.
# shellcheck disable=SC2034,SC2154  # globals shared with the other modules

# Highest metric: below every route through the TUN, IPv4 (0) and IPv6 (1024).
KS_METRIC=4294967295
ROUTE_ERR=""

rule_add() { # FAMILY PRIORITY ARGS...
    local f=$1 p=$2 before after line
    shift 2
    before=$(ip -"$f" rule list priority "$p" | norm)
    ip -"$f" rule add priority "$p" "$@" || return 1
    after=$(ip -"$f" rule list priority "$p" | norm)
    line=$(comm -13 <(sort <<<"$before") <(sort <<<"$after") | head -n 1)
    printf '%s %s|%s|%s\n' "$f" "$p" "$*" "$line" >>"$STATE/rules"
}

route_add() { # FAMILY ARGS... (table $TABLE)
    local f=$1 before after line
    shift
    before=$(ip -"$f" route show table "$TABLE" 2>/dev/null | norm)
    ip -"$f" route add "$@" table "$TABLE" || return 1
    after=$(ip -"$f" route show table "$TABLE" 2>/dev/null | norm)
    line=$(comm -13 <(sort <<<"$before") <(sort <<<"$after") | head -n 1)
    printf '%s|%s|%s\n' "$f" "$*" "$line" >>"$STATE/routes"
}

rule_present() { # FAMILY PRIORITY LINE
    ip -"$1" rule list priority "$2" | norm | grep -Fx -- "$3" >/dev/null
}
route_present() { # FAMILY LINE
    ip -"$1" route show table "$TABLE" 2>/dev/null | norm | grep -Fx -- "$2" >/dev/null
}

# Before up: the priorities and the table must be free (dies if not).
routing_check_free() {
    local f p
    for f in "${FAMS[@]}"; do
        for ((p = PRIO; p <= PRIO + 4; p++)); do
            [ -z "$(ip -"$f" rule list priority "$p")" ] ||
                die "refusing: ip -$f rule priority $p is already in use, and not recorded in $STATE (leftover? see 'ip -$f rule'); choose --priority"
        done
        [ -z "$(ip -"$f" route show table "$TABLE" 2>/dev/null)" ] ||
            die "refusing: routing table $TABLE (IPv$f) is not empty and not ours; choose --table"
    done
}

# Routes first (an unused table is harmless), then the rules that use it.
routing_add() {
    local f a
    for f in "${FAMS[@]}"; do
        route_add "$f" unreachable default metric "$KS_METRIC" ||
            { ROUTE_ERR="cannot add the IPv$f unreachable default route to table $TABLE"; return 1; }
        route_add "$f" default dev "$TUN" ||
            { ROUTE_ERR="cannot add the IPv$f default route to table $TABLE"; return 1; }
    done
    for f in "${FAMS[@]}"; do
        if [ "$MARK_RULE" -eq 1 ]; then
            rule_add "$f" "$PRIO" fwmark "$FWMARK" lookup main ||
                { ROUTE_ERR="cannot add the fwmark rule"; return 1; }
        fi
    done
    for a in "${PROXY_ADDRS[@]}"; do
        rule_add "$(family "$a")" $((PRIO + 1)) to "$a" lookup main ||
            { ROUTE_ERR="cannot add the rule for the proxy $a"; return 1; }
    done
    for a in "${KEEP[@]}"; do
        f=$(family "$a")
        [ "$V6" -eq 1 ] || [ "$f" = 4 ] || continue
        rule_add "$f" $((PRIO + 2)) to "$a" lookup main ||
            { ROUTE_ERR="cannot add the rule for $a"; return 1; }
    done
    for f in "${FAMS[@]}"; do
        if [ "$EXCL_LOCAL" -eq 1 ]; then
            rule_add "$f" $((PRIO + 3)) lookup main suppress_prefixlength 0 ||
                { ROUTE_ERR="cannot add the local-networks rule"; return 1; }
        fi
        rule_add "$f" $((PRIO + 4)) lookup "$TABLE" ||
            { ROUTE_ERR="cannot add the rule for table $TABLE"; return 1; }
    done
}

# The proxy must still be reached directly, marked or not.
routing_check_proxy() {
    local a f p
    for a in "${PROXY_ADDRS[@]}"; do
        f=$(family "$a")
        [ "$(route_dev "$f" "$a")" != "$TUN" ] ||
            { ROUTE_ERR="the proxy $a would be routed through $TUN (is it inside the TUN's network or a local route via $TUN?)"; return 1; }
        if [ "$MARK_RULE" -eq 1 ]; then
            p=$(route_dev "$f" "$a" mark "$FWMARK")
            [ -n "$p" ] || { ROUTE_ERR="no route to the proxy $a for marked sockets"; return 1; }
            [ "$p" != "$TUN" ] || { ROUTE_ERR="marked sockets would reach the proxy $a through $TUN"; return 1; }
        fi
    done
}

# Problems of the recorded rules and routes against the live ones.
routing_problems() {
    local fp args line f
    if [ -f "$STATE/rules" ]; then
        while IFS='|' read -r fp args line; do
            rule_present "${fp% *}" "${fp#* }" "$line" ||
                echo "rule missing: ip -${fp% *} rule priority ${fp#* } $args"
        done <"$STATE/rules"
    fi
    if [ -f "$STATE/routes" ]; then
        while IFS='|' read -r f args line; do
            route_present "$f" "$line" ||
                echo "route missing: ip -$f route $args table $TABLE"
        done <"$STATE/routes"
    fi
    return 0
}

# Deletes the recorded rules, newest first; what cannot be deleted stays
# recorded. Returns 1 if something stayed.
rules_remove() {
    local ok=0 fp args line lines i
    [ -f "$STATE/rules" ] || return 0
    mapfile -t lines <"$STATE/rules"
    : >"$STATE/rules.left"
    for ((i = ${#lines[@]} - 1; i >= 0; i--)); do
        IFS='|' read -r fp args line <<<"${lines[i]}"
        if [ -z "$line" ]; then # not seen when added: try once
            # shellcheck disable=SC2086  # args are words we wrote
            ip -"${fp% *}" rule del priority "${fp#* }" $args 2>/dev/null || true
            continue
        fi
        # shellcheck disable=SC2086  # args are words we wrote
        if rule_present "${fp% *}" "${fp#* }" "$line"; then
            ip -"${fp% *}" rule del priority "${fp#* }" $args 2>/dev/null || true
            if rule_present "${fp% *}" "${fp#* }" "$line"; then
                msg "cannot delete rule: ip -${fp% *} rule del priority ${fp#* } $args"
                printf '%s\n' "${lines[i]}" >>"$STATE/rules.left"
                ok=1
            fi
        fi
    done
    mv "$STATE/rules.left" "$STATE/rules"
    [ -s "$STATE/rules" ] || rm -f "$STATE/rules"
    return "$ok"
}

# As rules_remove, for the recorded routes.
routes_remove() {
    local ok=0 f args line lines i
    [ -f "$STATE/routes" ] || return 0
    mapfile -t lines <"$STATE/routes"
    : >"$STATE/routes.left"
    for ((i = ${#lines[@]} - 1; i >= 0; i--)); do
        IFS='|' read -r f args line <<<"${lines[i]}"
        if route_present "$f" "$line"; then
            # shellcheck disable=SC2086
            ip -"$f" route del $args table "$TABLE" 2>/dev/null || true
            if route_present "$f" "$line"; then
                msg "cannot delete route: ip -$f route del $args table $TABLE"
                printf '%s\n' "${lines[i]}" >>"$STATE/routes.left"
                ok=1
            fi
        fi
    done
    mv "$STATE/routes.left" "$STATE/routes"
    [ -s "$STATE/routes" ] || rm -f "$STATE/routes"
    return "$ok"
}

# The routes through the TUN went with an old TUN (the rest is still in
# place): add them again. Returns 1 if anything else is missing.
routes_reattach() {
    local f args line
    while IFS='|' read -r f args line; do
        route_present "$f" "$line" && continue
        [ "$args" = "default dev $TUN" ] || return 1
        ip -"$f" route add default dev "$TUN" table "$TABLE" || return 1
    done <"$STATE/routes"
}
