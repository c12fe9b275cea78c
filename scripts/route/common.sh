# shellcheck shell=bash
# tun2socks-route module: messages, address predicates, process and wait
# helpers. Depends on nothing; every other module uses it.

msg() { printf '%s: %s\n' "$PROG" "$*" >&2; }
warn() { msg "warning: $*"; }
die() {
    msg "$*"
    exit 1
}
usage_error() {
    msg "$* (see --help)"
    exit 2
}

is_ipv4() {
    local IFS=. a b c d
    [[ $1 =~ ^[0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3}$ ]] || return 1
    read -r a b c d <<<"$1"
    [ "$a" -le 255 ] && [ "$b" -le 255 ] && [ "$c" -le 255 ] && [ "$d" -le 255 ]
}
is_ipv6() { [[ $1 == *:* && $1 =~ ^[0-9A-Fa-f:.]+$ ]]; }
is_ip() { is_ipv4 "$1" || is_ipv6 "$1"; }
family() { if is_ipv6 "${1%/*}"; then echo 6; else echo 4; fi; }

is_cidr() { # ADDR[/LEN]
    local a=${1%/*} l
    if [[ $1 == */* ]]; then l=${1##*/}; else l=; fi
    if is_ipv4 "$a"; then
        [ -z "$l" ] || { [[ $l =~ ^[0-9]{1,2}$ ]] && [ "$l" -le 32 ]; }
    elif is_ipv6 "$a"; then
        [ -z "$l" ] || { [[ $l =~ ^[0-9]{1,3}$ ]] && [ "$l" -le 128 ]; }
    else
        return 1
    fi
}

# Host part of a socks5 URL: strips scheme, userinfo (up to the last '@',
# as tun2socks reads it: a password may hold '/'), path, brackets and port.
url_host() {
    local u=$1 h
    u=${u#*://}
    u=${u##*@}
    u=${u%%/*}
    if [[ $u == \[* ]]; then
        h=${u#\[}
        h=${h%%\]*}
    else
        h=${u%:*}
    fi
    printf '%s\n' "$h"
}

# Start time of a process (field 22 of /proc/PID/stat), to recognise it.
proc_start() {
    local s
    s=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
    s=${s##*) }
    # shellcheck disable=SC2086  # split the fields
    set -- $s
    printf '%s\n' "${20}"
}

pid_alive() { # PID STARTTIME
    [ -n "$1" ] && kill -0 "$1" 2>/dev/null && [ "$(proc_start "$1" || true)" = "$2" ]
}

wait_until() { # TENTHS cmd...
    local n=$1
    shift
    while [ "$n" -gt 0 ]; do
        "$@" && return 0
        sleep 0.1
        n=$((n - 1))
    done
    return 1
}

# Routes and rules as shown, without the flags that come and go with the
# carrier, to compare what we added with what is there.
norm() { sed -e 's/ linkdown//g' -e 's/[[:space:]]*$//'; }
