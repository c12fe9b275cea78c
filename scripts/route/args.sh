# shellcheck shell=bash
# tun2socks-route module: the command line and the environment. Sets the
# globals every other module reads (their defaults are here, except those
# of tun2socks itself, which come from tun2socks: see config.sh), and
# checks an up request before anything is touched.
# Depends on common.sh.
# shellcheck disable=SC2034  # the globals are read by the other modules

DEFAULT_TUN=tun0

# The help text: one heredoc, hence longer than a function should be.
usage() {
    cat <<'EOF_USAGE'
usage: tun2socks-route up [options] [-- extra tun2socks arguments]
       tun2socks-route down [--tun NAME] [--state-dir DIR] [--persist-dir DIR]
                            [--keep-if-failed]
       tun2socks-route status [--tun NAME] [--state-dir DIR] [--persist-dir DIR]

up: create the TUN (persistent), give it addresses, start tun2socks on it,
and route all IPv4 and IPv6 traffic into it with policy routing in a
dedicated table. The proxy's own traffic (fwmark and its address), local
networks, the SSH clients of this machine and --exclude networks keep their
routes. With --dns, /etc/resolv.conf points at the TUN-side DNS address.
down: undo exactly what up did (also after a crash, kill -9 or reboot).
status: say what is in place; exit 0 up and whole, 3 not up, 4 inconsistent.

Kill switch: when tun2socks dies, traffic that was routed into the TUN is
refused (an 'unreachable' default route in the table), never sent out
directly, until down.

Defaults marked (tun2socks) are tun2socks's own, as 'tun2socks --route
--print-config' prints them (the same as tun2socks --route uses).

options (environment variable in brackets):
  --proxy URL           socks5://[user[:pass]@]host:port [TUN2SOCKS_PROXY]
  --proxy-addr IP       the proxy's address (repeatable), instead of
                        resolving the host of --proxy (used with --no-start)
  --config FILE         tun2socks config file: tun, tun-ipv4, tun-ipv6, mtu,
                        proxy, fwmark, dns, dns-addr, dns-resolver are taken
                        from it as 'tun2socks --config FILE --print-config'
                        reads them (flags win); passed on to tun2socks
  --tun NAME            TUN device (default tun0) [TUN2SOCKS_ROUTE_TUN]
  --tun-ipv4 ADDR/LEN   TUN IPv4 address (default: tun2socks)
  --tun-ipv6 ADDR/LEN   TUN IPv6 address (default: tun2socks; 'none': no IPv6)
  --mtu N               TUN MTU (default: tun2socks)
  --fwmark MARK         mark of tun2socks's proxy sockets (default: tun2socks;
                        'none': no mark rule) [TUN2SOCKS_ROUTE_FWMARK]
  --table N             routing table (default 7331) [TUN2SOCKS_ROUTE_TABLE]
  --priority N          first of the five rule priorities (default 7300)
                        [TUN2SOCKS_ROUTE_PRIORITY]
  --exclude NET         keep NET (v4 or v6, ADDR[/LEN]) on its original route;
                        repeatable [TUN2SOCKS_ROUTE_EXCLUDE, space-separated]
  --no-exclude-local    route local networks through the TUN too
  --no-exclude-ssh      do not keep SSH clients ($SSH_CONNECTION and the peers
                        of established sshd connections) on their routes
  --dns MODE            relay, tcp or fake-ip: passed to tun2socks; with tcp
                        and fake-ip resolv.conf points at --dns-addr until
                        down (relay leaves it alone)
  --dns-addr ADDR       TUN-side DNS address (default: tun2socks's IPv4 one;
                        repeatable)
  --dns-resolver A[:P]  upstream resolver for tun2socks (tcp default:
                        the first non-loopback nameserver in resolv.conf)
  --no-start            tun2socks already runs and owns the TUN (e.g. started
                        by systemd, or tun2socks --route): only routing and DNS
  --pid PID             with --no-start: the owner's PID (checked by status/up)
  --replace             up over a recorded state that is not whole or has
                        other settings: with --no-start, the same settings
                        and only the old owner gone (tun2socks restarted),
                        re-attach to the new one without lifting the kill
                        switch; otherwise take the old state down, then up
  --keep-if-failed      down, as systemd's ExecStopPost: if \$SERVICE_RESULT
                        is set and not 'success' (tun2socks failed), change
                        nothing: traffic stays blocked until up --replace
                        or down
  --wait SEC            how long to wait for the TUN/tun2socks (default 10)
  --bin PATH            tun2socks binary (default: tun2socks in PATH)
                        [TUN2SOCKS_BIN]
  --log FILE            tun2socks's output (default STATE/tun2socks.log)
  --state-dir DIR       (default /run/tun2socks-route) [TUN2SOCKS_ROUTE_STATE_DIR]
  --persist-dir DIR     where the copy of resolv.conf is kept across reboots
                        (default /var/lib/tun2socks-route)
                        [TUN2SOCKS_ROUTE_PERSIST_DIR]
  --resolv-conf FILE    (default /etc/resolv.conf) [TUN2SOCKS_ROUTE_RESOLV_CONF]
  -h, --help

tun2socks is run (for its defaults and to read --config) only by up, by
down and status only to read --config, and never when it runs this script
itself (tun2socks --route passes every setting).

exit status: 0 done (also: already up / already down), 1 failed or refused
(nothing left changed), 2 usage; status: 3 not up, 4 inconsistent.
EOF_USAGE
}

# The command word: sets CMD (help exits here, before anything is run).
args_command() { # WORD
    CMD=$1
    case $CMD in
    up | down | status) ;;
    -h | --help | help)
        usage
        exit 0
        ;;
    "") usage_error "missing command: up, down or status" ;;
    *) usage_error "unknown command '$CMD'" ;;
    esac
}

args_init() {
    PROXY_URL=${TUN2SOCKS_PROXY:-}
    PROXY_FROM="env"
    PROXY_ADDRS=()
    PROXY_HOST=""
    CONFIG=""
    TUN=${TUN2SOCKS_ROUTE_TUN:-}
    TUN4=""
    TUN6=""
    MTU=""
    FWMARK=${TUN2SOCKS_ROUTE_FWMARK:-}
    TABLE=${TUN2SOCKS_ROUTE_TABLE:-7331}
    PRIO=${TUN2SOCKS_ROUTE_PRIORITY:-7300}
    read -r -a EXCLUDES <<<"${TUN2SOCKS_ROUTE_EXCLUDE:-}"
    EXCL_LOCAL=1
    EXCL_SSH=1
    DNS_MODE=""
    DNS_ADDRS=()
    DNS_RESOLVER=""
    NO_START=0
    OWNER_PID=""
    WAIT=10
    BIN=${TUN2SOCKS_BIN:-}
    LOGF=""
    STATE_BASE=${TUN2SOCKS_ROUTE_STATE_DIR:-/run/tun2socks-route}
    PERSIST_BASE=${TUN2SOCKS_ROUTE_PERSIST_DIR:-/var/lib/tun2socks-route}
    REPLACE=0
    KEEP_IF_FAILED=0
    RESOLV=${TUN2SOCKS_ROUTE_RESOLV_CONF:-/etc/resolv.conf}
    EXTRA=()
}

need_arg() { [ $# -ge 2 ] || usage_error "$1 needs a value"; }

# One option (with its value): returns how many words it took.
args_one() {
    case $1 in
    --proxy) need_arg "$@"; PROXY_URL=$2; PROXY_FROM=flag; return 2 ;;
    --proxy-addr) need_arg "$@"; PROXY_ADDRS+=("$2"); return 2 ;;
    --config) need_arg "$@"; CONFIG=$2; return 2 ;;
    --tun) need_arg "$@"; TUN=$2; return 2 ;;
    --tun-ipv4) need_arg "$@"; TUN4=$2; return 2 ;;
    --tun-ipv6) need_arg "$@"; TUN6=$2; return 2 ;;
    --mtu) need_arg "$@"; MTU=$2; return 2 ;;
    --fwmark) need_arg "$@"; FWMARK=$2; return 2 ;;
    --table) need_arg "$@"; TABLE=$2; return 2 ;;
    --priority) need_arg "$@"; PRIO=$2; return 2 ;;
    --exclude) need_arg "$@"; EXCLUDES+=("$2"); return 2 ;;
    --no-exclude-local) EXCL_LOCAL=0 ;;
    --no-exclude-ssh) EXCL_SSH=0 ;;
    --dns) need_arg "$@"; DNS_MODE=$2; return 2 ;;
    --dns-addr) need_arg "$@"; DNS_ADDRS+=("$2"); return 2 ;;
    --dns-resolver) need_arg "$@"; DNS_RESOLVER=$2; return 2 ;;
    --no-start | --expect-running) NO_START=1 ;;
    --pid) need_arg "$@"; OWNER_PID=$2; return 2 ;;
    --wait) need_arg "$@"; WAIT=$2; return 2 ;;
    --bin) need_arg "$@"; BIN=$2; return 2 ;;
    --log) need_arg "$@"; LOGF=$2; return 2 ;;
    --state-dir) need_arg "$@"; STATE_BASE=$2; return 2 ;;
    --persist-dir) need_arg "$@"; PERSIST_BASE=$2; return 2 ;;
    --replace) REPLACE=1 ;;
    --keep-if-failed) KEEP_IF_FAILED=1 ;;
    --resolv-conf) need_arg "$@"; RESOLV=$2; return 2 ;;
    -h | --help) usage; exit 0 ;;
    *) usage_error "unknown option '$1'" ;;
    esac
    return 1
}

args_parse() { # ARGS...
    local n
    args_init
    while [ $# -gt 0 ]; do
        if [ "$1" = -- ]; then
            shift
            EXTRA=("$@")
            break
        fi
        n=0
        args_one "$@" || n=$?
        shift "$n"
    done
}

# The TUN and the directories of its state, once the TUN is known.
args_tun() {
    TUN=${TUN:-$DEFAULT_TUN}
    [[ $TUN =~ ^[A-Za-z0-9_.-]{1,15}$ ]] || usage_error "bad --tun '$TUN'"
    STATE=$STATE_BASE/$TUN
    PERSIST=$PERSIST_BASE/$TUN
    [ -n "$LOGF" ] || LOGF=$STATE/tun2socks.log
}

# An up request, checked before anything is touched (usage errors exit 2).
# Sets V6, FAMS and MARK_RULE, normalises FWMARK and brackets a bare IPv6
# DNS_RESOLVER.
args_check_up() {
    V6=1
    FAMS=(4)
    MARK_RULE=1
    [ "$TUN6" = none ] && V6=0
    [ "$V6" -eq 1 ] && FAMS+=(6)
    if ! { [[ $TABLE =~ ^[0-9]{1,10}$ ]] && [ "$TABLE" -gt 0 ] && [ "$TABLE" -lt 4294967295 ] &&
        [ "$TABLE" -ne 253 ] && [ "$TABLE" -ne 254 ] && [ "$TABLE" -ne 255 ]; }; then
        usage_error "bad --table '$TABLE' (a number other than 253, 254, 255)"
    fi
    if ! { [[ $PRIO =~ ^[0-9]{1,5}$ ]] && [ "$PRIO" -ge 1 ] && [ "$PRIO" -le 32700 ]; }; then
        usage_error "bad --priority '$PRIO' (1..32700: before the main table's 32766)"
    fi
    if [ "$FWMARK" = none ] || [ "$FWMARK" = 0 ]; then
        MARK_RULE=0
    else
        if ! { [[ $FWMARK =~ ^(0x[0-9A-Fa-f]{1,8}|[0-9]{1,10})$ ]] && [ $((FWMARK)) -gt 0 ] &&
            [ $((FWMARK)) -le 4294967295 ]; }; then
            usage_error "bad --fwmark '$FWMARK'"
        fi
        FWMARK=$(printf '0x%x' $((FWMARK)))
    fi
    args_check_tun
    [[ $WAIT =~ ^[0-9]+$ ]] || usage_error "bad --wait '$WAIT'"
    args_check_dns
    if [ -n "$OWNER_PID" ]; then
        [ "$NO_START" -eq 1 ] || usage_error "--pid goes with --no-start"
        [[ $OWNER_PID =~ ^[0-9]+$ ]] || usage_error "bad --pid '$OWNER_PID'"
    fi
}

# The TUN's addresses and MTU (--no-start: tun2socks has set them; only
# --tun-ipv6 none matters then), and the --exclude networks.
args_check_tun() {
    local a
    if [ "$NO_START" -eq 0 ] || [ -n "$TUN4" ]; then
        if ! { is_cidr "$TUN4" && [[ $TUN4 == */* ]] && is_ipv4 "${TUN4%/*}"; }; then
            usage_error "bad --tun-ipv4 '$TUN4'"
        fi
    fi
    if [ "$V6" -eq 1 ] && { [ "$NO_START" -eq 0 ] || [ -n "$TUN6" ]; }; then
        { is_cidr "$TUN6" && [[ $TUN6 == */* ]] && is_ipv6 "${TUN6%/*}"; } ||
            usage_error "bad --tun-ipv6 '$TUN6'"
    fi
    [ -z "$MTU" ] || [[ $MTU =~ ^[0-9]+$ ]] || usage_error "bad --mtu '$MTU'"
    for a in "${EXCLUDES[@]}"; do
        is_cidr "$a" || usage_error "bad --exclude '$a' (ADDR or ADDR/LEN)"
        [ "$V6" -eq 1 ] || [ "$(family "$a")" = 4 ] || usage_error "--exclude $a: IPv6 is off"
    done
}

args_check_dns() {
    local a
    case $DNS_MODE in
    "" | relay | tcp | fake-ip) ;;
    *) usage_error "bad --dns '$DNS_MODE' (relay, tcp or fake-ip)" ;;
    esac
    for a in "${DNS_ADDRS[@]}"; do is_ip "$a" || usage_error "bad --dns-addr '$a'"; done
    if [ -n "$DNS_MODE" ] && [ ${#DNS_ADDRS[@]} -eq 0 ]; then
        usage_error "--dns $DNS_MODE: no --dns-addr (and tun2socks printed none)"
    fi
    # a bare IPv6 resolver (two colons or more) gets its brackets
    if [[ $DNS_RESOLVER == *:*:* && $DNS_RESOLVER != \[* ]]; then
        DNS_RESOLVER="[$DNS_RESOLVER]"
    fi
    case $DNS_RESOLVER in
    *%* | \[[Ff][Ee][89AaBb]?:*)
        usage_error "bad --dns-resolver '$DNS_RESOLVER': a link-local address cannot be reached through the proxy"
        ;;
    esac
}
