# shellcheck shell=bash
# tun2socks-route module: tun2socks's own settings, read from tun2socks
# itself. The script has no parser of its own for the tun2socks config
# file and no copy of tun2socks's defaults: 'tun2socks --print-config'
# parses a --config FILE exactly as a start would and prints every option
# as 'key = value' (empty when unset, the proxy without credentials), and
# 'tun2socks --route --print-config' prints the defaults --route implies
# (fwmark, TUN addresses, DNS addresses).
#
# tun2socks is asked only when a user runs the script by hand with --config
# or without a value it needs; tun2socks --route passes everything on the
# command line, so the script never calls it back.
#
# Depends on common.sh. Reads BIN, CONFIG, TUN; config_from_file sets
# PROXY_URL (one URL per line when the file lists several proxies),
# PROXY_FROM and TUN; config_fill sets what is still unset of
# TUN4, TUN6, MTU, FWMARK, DNS_MODE, DNS_ADDRS, DNS_RESOLVER.
# shellcheck disable=SC2154  # the globals are set by args.sh

declare -A CFG_FILE=() # tun2socks --config CONFIG --print-config
declare -A CFG_DEF=()  # tun2socks --route --tun TUN --print-config
CFG_FILE_READ=0

# The tun2socks binary: --bin, else $TUN2SOCKS_BIN, else tun2socks in PATH.
find_bin() {
    if [ -z "$BIN" ]; then
        BIN=$(command -v tun2socks || true)
        [ -n "$BIN" ] || usage_error "tun2socks not found in PATH: give --bin"
    fi
    [ -x "$BIN" ] || usage_error "not executable: $BIN"
}

# Runs tun2socks ARGS... --print-config, with PROXY (if any) as its
# TUN2SOCKS_PROXY, and fills the associative array NAME: key -> value,
# values of a repeated key joined by newlines. As tun2socks reads its
# config file: a line that starts with '#' is a comment, any other is
# split at its first '=' and trimmed. Returns 1, changing nothing, when
# tun2socks refuses the settings (its message on stderr).
config_try() { # NAME PROXY ARGS...
    local -n into=$1
    local proxy=$2 out line key val
    shift 2
    find_bin
    out=$(env -u TUN2SOCKS_PROXY ${proxy:+TUN2SOCKS_PROXY="$proxy"} \
        "$BIN" "$@" --print-config </dev/null) || return 1
    while IFS= read -r line; do
        line=${line#"${line%%[![:space:]]*}"}
        [[ $line == *=* && $line != '#'* ]] || continue
        key=${line%%=*}
        val=${line#*=}
        key=${key//[[:space:]]/}
        val=${val#"${val%%[![:space:]]*}"}
        val=${val%"${val##*[![:space:]]}"}
        if [ -n "${into["$key"]+set}" ]; then
            into["$key"]+=$'\n'$val
        else
            into["$key"]=$val
        fi
    done <<<"$out"
}

# As config_try; a refusal is a usage error.
config_print() { # NAME PROXY ARGS...
    config_try "$@" || usage_error "'$BIN ${*:3} --print-config' failed (its message is above)"
}

# The value the config file gives KEY: empty when it leaves the default
# (tun2socks prints an unset fwmark as 0: no mark).
cfg_file() { # KEY
    local v=${CFG_FILE[$1]:-}
    [ "$CFG_FILE_READ" -eq 1 ] && [ -n "$v" ] && [ "$v" != "${CFG_DEF[$1]:-}" ] || return 0
    [ "$1" != fwmark ] || [ "$v" != 0 ] || return 0
    printf '%s\n' "$v"
}

# tun2socks prints its settings only for a command line it would start
# with, which names a proxy; the defaults do not depend on which. Without
# a URL (--no-start --proxy-addr ADDR), one for the proxy's address; of
# several proxies (a config file's), the first.
given_proxy() {
    local a=${PROXY_ADDRS[0]:-}
    if [ -n "$PROXY_URL" ]; then
        printf '%s\n' "${PROXY_URL%%$'\n'*}"
    elif is_ipv6 "$a"; then
        printf 'socks5://[%s]:1080\n' "$a"
    elif [ -n "$a" ]; then
        printf 'socks5://%s:1080\n' "$a"
    fi
}

# host:port of a proxy URL, without scheme, credentials or path.
url_hostport() {
    local u=${1#*://}
    u=${u##*@}
    printf '%s\n' "${u%%/*}"
}

# --config FILE: the TUN and the proxy (flags and environment win for the
# TUN; for the proxy the file wins, as in tun2socks: it prints the URL of
# --proxy or TUN2SOCKS_PROXY only when the file has none). tun2socks
# prints only settings it could start with, which name a TUN: a file
# without one is read again with the script's default TUN.
config_from_file() {
    local p given
    [ -n "$CONFIG" ] || return 0
    [ -r "$CONFIG" ] || usage_error "cannot read --config $CONFIG"
    given=$(given_proxy)
    if [ -n "$TUN" ]; then
        config_print CFG_FILE "$given" --config "$CONFIG" --tun "$TUN"
    elif ! config_try CFG_FILE "$given" --config "$CONFIG" 2>/dev/null; then
        config_print CFG_FILE "$given" --config "$CONFIG" --tun "$DEFAULT_TUN"
    fi
    CFG_FILE_READ=1
    [ -n "$TUN" ] || TUN=${CFG_FILE[tun]:-}
    # one line per proxy (a file may list several); the first is compared
    p=${CFG_FILE[proxy]:-}
    [ -n "$p" ] || return 0
    [ -z "$given" ] || [ "$(url_hostport "$given")" != "$(url_hostport "${p%%$'\n'*}")" ] || return 0
    if [ "$PROXY_FROM" = flag ]; then
        usage_error "--proxy differs from 'proxy' in $CONFIG (tun2socks would use the file's)"
    fi
    PROXY_URL=$p
    PROXY_FROM=config
}

# Each setting not given as a flag: the config file's, else tun2socks
# --route's default. tun2socks is not asked when nothing is missing.
config_fill() {
    if [ "$CFG_FILE_READ" -eq 1 ] || [ -z "$FWMARK" ] ||
        { [ "$NO_START" -eq 0 ] && { [ -z "$TUN4" ] || [ -z "$TUN6" ]; }; } ||
        { [ -n "$DNS_MODE" ] && [ ${#DNS_ADDRS[@]} -eq 0 ]; }; then
        [ -n "$(given_proxy)" ] ||
            usage_error "no proxy: give --proxy URL (or TUN2SOCKS_PROXY, or --proxy-addr)"
        config_print CFG_DEF "$(given_proxy)" --route --tun "$TUN"
    fi
    [ -n "$TUN4" ] || TUN4=$(cfg_file tun-ipv4)
    [ -n "$TUN6" ] || TUN6=$(cfg_file tun-ipv6)
    [ -n "$MTU" ] || MTU=$(cfg_file mtu)
    [ -n "$FWMARK" ] || FWMARK=$(cfg_file fwmark)
    [ -n "$DNS_MODE" ] || DNS_MODE=$(cfg_file dns)
    [ -n "$DNS_RESOLVER" ] || DNS_RESOLVER=$(cfg_file dns-resolver)
    [ ${#DNS_ADDRS[@]} -gt 0 ] || mapfile -t DNS_ADDRS < <(config_dns_addrs)
    # --no-start: tun2socks has its TUN addresses; only 'none' matters here
    [ -n "$TUN4" ] || [ "$NO_START" -eq 1 ] || TUN4=${CFG_DEF[tun-ipv4]:-}
    [ -n "$TUN6" ] || [ "$NO_START" -eq 1 ] || TUN6=${CFG_DEF[tun-ipv6]:-}
    [ -n "$FWMARK" ] || FWMARK=${CFG_DEF[fwmark]:-}
    return 0
}

# The TUN-side DNS addresses resolv.conf gets: the file's, else tun2socks's
# first IPv4 one (the IPv6 default stays out of resolv.conf, as before).
config_dns_addrs() {
    local a d given=() file=() def=()
    # one per line, or several on a line (separated by spaces or commas)
    IFS=$' \t\n,' read -r -d '' -a def <<<"${CFG_DEF[dns-addr]:-}" || true
    IFS=$' \t\n,' read -r -d '' -a given <<<"${CFG_FILE[dns-addr]:-}" || true
    for a in "${given[@]}"; do
        for d in "${def[@]}"; do [ "$a" != "$d" ] || continue 2; done
        file+=("$a")
    done
    if [ ${#file[@]} -gt 0 ]; then
        printf '%s\n' "${file[@]}"
        return 0
    fi
    for d in "${def[@]}"; do
        if is_ipv4 "$d"; then
            printf '%s\n' "$d"
            return 0
        fi
    done
}
