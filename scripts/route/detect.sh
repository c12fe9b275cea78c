# shellcheck shell=bash
# tun2socks-route module: what is there now, read from the system and
# never changed here: the TUN device, the route a lookup takes, the SSH
# peers to keep direct, the nameserver to forward to, mount points.
# Depends on common.sh. Reads TUN, RESOLV, PERSIST, DNS_ADDRS.
# shellcheck disable=SC2154  # the globals are set by args.sh

tun_exists() { ip link show dev "$TUN" >/dev/null 2>&1; }
tun_is_tun() { ip -d link show dev "$TUN" 2>/dev/null | grep 'tun type tun' >/dev/null; }
tun_carrier() { ip link show dev "$TUN" 2>/dev/null | grep 'LOWER_UP' >/dev/null; }
# tun2socks attached to the TUN, or died trying.
started() { tun_carrier || ! kill -0 "$1" 2>/dev/null; }

# Which device a lookup leaves by; empty if none.
route_dev() { # FAMILY ADDR [mark M]
    local f=$1 a=$2
    shift 2
    ip -"$f" route get "$a" "$@" 2>/dev/null | head -n 1 |
        sed -n 's/.* dev \([^ ]*\).*/\1/p'
}

ssh_peers() {
    local a
    if [ -n "${SSH_CONNECTION:-}" ]; then
        a=${SSH_CONNECTION%% *}
        a=${a#::ffff:}
        is_ip "$a" && echo "$a"
    fi
    command -v ss >/dev/null 2>&1 || return 0
    ss -Htnp state established 2>/dev/null | awk '/"sshd/ { print $4 }' |
        while read -r a; do
            a=${a%:*}
            a=${a#[}
            a=${a%]}
            a=${a#::ffff:}
            case $a in 127.* | ::1) continue ;; esac
            is_ip "$a" && echo "$a"
        done
    return 0
}

# The resolver is reached through the proxy: loopback and link-local
# addresses (fe80::/10, with or without a %zone) mean nothing there.
# tun2socks takes an IPv6 resolver only as [ADDR] or [ADDR]:PORT.
first_nameserver() {
    local a d skip src=$RESOLV
    # once up, resolv.conf is ours: the original is the saved copy
    [ -f "$PERSIST/resolv.orig" ] && src=$PERSIST/resolv.orig
    [ -r "$src" ] || return 0
    awk '$1 == "nameserver" { print $2 }' "$src" | while read -r a; do
        case $a in 127.* | ::1 | 0.0.0.0 | *%* | [Ff][Ee][89AaBb]?:*) continue ;; esac
        is_ip "$a" || continue
        skip=0
        for d in "${DNS_ADDRS[@]}"; do [ "$a" = "$d" ] && skip=1; done
        if [ "$skip" -eq 0 ]; then
            if is_ipv6 "$a"; then echo "[$a]"; else echo "$a"; fi
            break
        fi
    done
    return 0
}

mountinfo_has() { # PATH: is PATH a mount point?
    awk -v p="$1" '$5 == p { found = 1 } END { exit !found }' /proc/self/mountinfo
}
