#!/usr/bin/env bash
# A throw-away MIT Kerberos realm for the GSSAPI tests (sourced after
# lib.sh, after setup_topology): the database, keytabs and caches in
# $WORK/krb5, the KDC (krb5kdc) in the NET namespace on PROXY4:88 (UDP
# and TCP), recorded by PID like every other server. KRB5_CONFIG and
# KRB5_KDC_PROFILE point at the files made here, so the host's own
# /etc/krb5.conf and realm are never read or touched.
#
#   start_kdc                  realm KRB_REALM with alice@ and
#                              rcmd/PROXY4@ (keytab $KRB_DIR/sockd.keytab)
#   kinit_alice CCACHE [LIFE]  a ticket for alice from her keytab
#   build_sockd                Dante's sockd with GSSAPI (scripts/fetch-dante,
#                              cached beside the tun2socks build); sets SOCKD
#   start_sockd_gssapi ENCTYPE PORT   sockd with socksmethod gssapi
# shellcheck disable=SC2034  # variables are used by the sourcing scripts

KRB_REALM=T2S.TEST
KRB_DIR=""
SOCKD=""

start_kdc() {
    KRB_DIR=$WORK/krb5
    mkdir -p "$KRB_DIR"
    # krb5.conf and the caches must be reachable by the user nobody
    chmod 755 "$WORK" "$KRB_DIR"
    # rdns/dns_canonicalize_hostname off: the host-based name rcmd@PROXY4
    # becomes rcmd/198.18.1.2 as written, without any lookup.
    cat >"$KRB_DIR/krb5.conf" <<EOC
[libdefaults]
    default_realm = $KRB_REALM
    dns_lookup_kdc = false
    dns_lookup_realm = false
    dns_canonicalize_hostname = false
    rdns = false
    udp_preference_limit = 1
[realms]
    $KRB_REALM = {
        kdc = $PROXY4:88
    }
EOC
    cat >"$KRB_DIR/kdc.conf" <<EOC
[kdcdefaults]
    kdc_listen = $PROXY4:88
    kdc_tcp_listen = $PROXY4:88
[realms]
    $KRB_REALM = {
        database_name = $KRB_DIR/principal
        key_stash_file = $KRB_DIR/stash
        acl_file = $KRB_DIR/kadm5.acl
        max_life = 1h
    }
[logging]
    kdc = FILE:$KRB_DIR/kdc.log
EOC
    : >"$KRB_DIR/kadm5.acl"
    export KRB5_CONFIG=$KRB_DIR/krb5.conf KRB5_KDC_PROFILE=$KRB_DIR/kdc.conf
    kdb5_util create -s -r "$KRB_REALM" -P "master-$SUFFIX" >"$KRB_DIR/kdb5_util.log" 2>&1 ||
        fail "kdb5_util create failed: $(tail -n1 "$KRB_DIR/kdb5_util.log")"
    kadm() { kadmin.local -r "$KRB_REALM" -q "$1" >>"$KRB_DIR/kadmin.log" 2>&1 || fail "kadmin.local: $1"; }
    kadm "addprinc -randkey alice"
    kadm "addprinc -randkey rcmd/$PROXY4"
    kadm "addprinc -randkey other/$PROXY4"
    kadm "ktadd -k $KRB_DIR/sockd.keytab rcmd/$PROXY4"
    kadm "ktadd -k $KRB_DIR/alice.keytab alice"
    spawn "$NS_NET" "$KRB_DIR/krb5kdc.out" krb5kdc -n -r "$KRB_REALM"
    wait_for 100 listening "$NS_NET" 88 || fail "krb5kdc did not start"
}

# tun2socks drops to the user nobody (privsep) before its first proxy
# connection, and MIT's library reads the cache then: the cache is
# nobody's, as a user's own cache is theirs with --user.
kinit_alice() { # CCACHE [LIFETIME]
    in_dev kinit ${2:+-l "$2"} -k -t "$KRB_DIR/alice.keytab" -c "FILE:$1" alice >"$KRB_DIR/kinit.log" 2>&1 ||
        fail "kinit alice failed: $(tail -n1 "$KRB_DIR/kinit.log")"
    chown nobody "$1"
}

build_sockd() {
    # one cache for every build of the tree (build/test, build/asan)
    local dir=${T2S_DANTE_DIR:-$T2S_ROOT/build/dante}
    if ! "$T2S_ROOT/scripts/fetch-dante" "$dir" >"$WORK/fetch-dante.log" 2>&1; then
        skip "cannot build Dante's sockd with GSSAPI here: $(tail -n1 "$WORK/fetch-dante.log")"
    fi
    SOCKD=$(cd "$dir" && pwd)/sockd
}

# sockd with socksmethod gssapi, gssapi.enctype ENCTYPE (clear, integrity,
# confidentiality), its keytab in the client rule and globally (the method
# is negotiated before any socks rule applies).
start_sockd_gssapi() { # ENCTYPE PORT
    local enc=$1 port=$2 conf=$WORK/sockd-$2.conf
    cat >"$conf" <<EOC
logoutput: $WORK/sockd-$port.log
debug: 1
internal: $PROXY4 port = $port
external: $PROXY4
external: $PROXY6
user.privileged: root
user.unprivileged: nobody
clientmethod: none
socksmethod: gssapi
client pass { from: 0/0 to: 0/0
    gssapi.keytab: FILE:$KRB_DIR/sockd.keytab
    gssapi.servicename: rcmd/$PROXY4@$KRB_REALM
    gssapi.enctype: $enc
    log: error connect
}
socks pass { from: 0/0 to: 0/0
    command: connect
    gssapi.enctype: $enc
    log: error connect disconnect
}
EOC
    spawn_resolved "$NS_NET" "$WORK/net-resolv.conf" "$WORK/sockd-$port.out" \
        "$SOCKD" -f "$conf" -p "$WORK/sockd-$port.pid"
    wait_for 100 listening "$NS_NET" "$port" || {
        tail -n 5 "$WORK/sockd-$port.out" "$WORK/sockd-$port.log" >&2 || true
        fail "sockd ($enc) did not start"
    }
}
