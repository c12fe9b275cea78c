# shellcheck shell=bash
# tun2socks-route module: /etc/resolv.conf (or --resolv-conf). up points it
# at the TUN-side DNS addresses; down puts back exactly what was there (a
# file, a symlink or nothing).
#
# Files in $PERSIST (resolv.conf outlives a reboot, so its copy must too):
#   resolv.path the resolv.conf that up changed
#   resolv.kind file|symlink|absent, resolv.orig, resolv.link, resolv.ours
# The copy is on disk (synced) before resolv.conf is touched.
#
# Depends on common.sh, detect.sh (mountinfo_has). Reads PROG, TUN,
# PERSIST, STATE, DNS_ADDRS; RESOLV is read and, when a recorded path
# says so, set.
# shellcheck disable=SC2154  # the globals are set by args.sh

resolv_write() { # FILE: contents from stdin, in place (keeps a bind mount)
    cat >"$1"
}

persist_sync() { sync "$PERSIST" "$PERSIST"/resolv.* 2>/dev/null || true; }

dns_apply() {
    local new=$PERSIST/resolv.ours
    mkdir -p "$PERSIST"
    printf '%s\n' "$RESOLV" >"$PERSIST/resolv.path"
    {
        echo "# written by $PROG up; '$PROG down --tun $TUN' restores the original"
        grep -E '^[[:space:]]*(search|domain)[[:space:]]' "$RESOLV" 2>/dev/null || true
        printf 'nameserver %s\n' "${DNS_ADDRS[@]}"
    } >"$new.tmp"
    if [ -L "$RESOLV" ]; then
        dns_apply_link "$new.tmp"
    elif [ -e "$RESOLV" ]; then
        cat "$RESOLV" >"$PERSIST/resolv.orig"
        echo file >"$PERSIST/resolv.kind"
        persist_sync
        resolv_write "$RESOLV" <"$new.tmp"
    else
        echo absent >"$PERSIST/resolv.kind"
        persist_sync
        (umask 022 && resolv_write "$RESOLV" <"$new.tmp")
    fi
    mv "$new.tmp" "$new"
    persist_sync
}

# resolv.conf is a symlink: keep the link and the file it shows.
dns_apply_link() { # NEW-CONTENTS-FILE
    printf '%s\n' "$(readlink "$RESOLV")" >"$PERSIST/resolv.link"
    cat "$RESOLV" >"$PERSIST/resolv.orig" 2>/dev/null || : >"$PERSIST/resolv.orig"
    if mountinfo_has "$(readlink -f "$RESOLV")"; then
        # The link's target is a mount (e.g. ip netns exec's bind mount):
        # the link itself belongs to someone else; write through it.
        echo file >"$PERSIST/resolv.kind"
        persist_sync
        resolv_write "$RESOLV" <"$1"
    else
        echo symlink >"$PERSIST/resolv.kind"
        persist_sync
        rm -f "$RESOLV"
        (umask 022 && resolv_write "$RESOLV" <"$1")
    fi
}

dns_restore() {
    local kind
    [ -f "$PERSIST/resolv.kind" ] || return 0
    kind=$(cat "$PERSIST/resolv.kind")
    [ ! -s "$PERSIST/resolv.path" ] || RESOLV=$(cat "$PERSIST/resolv.path")
    if [ -f "$PERSIST/resolv.ours" ] && ! cmp -s "$PERSIST/resolv.ours" "$RESOLV"; then
        warn "$RESOLV changed since up; restoring the copy saved by up anyway"
    fi
    case $kind in
    file)
        resolv_write "$RESOLV" <"$PERSIST/resolv.orig" ||
            { msg "cannot restore $RESOLV"; return 1; }
        ;;
    symlink)
        if [ -L "$RESOLV" ]; then
            [ "$(readlink "$RESOLV")" = "$(cat "$PERSIST/resolv.link")" ] ||
                warn "$RESOLV is now a link to $(readlink "$RESOLV"); replacing it"
        fi
        if ! { rm -f "$RESOLV" && ln -s "$(cat "$PERSIST/resolv.link")" "$RESOLV"; }; then
            msg "cannot restore the link $RESOLV"
            return 1
        fi
        ;;
    absent) rm -f "$RESOLV" ;;
    esac
    dns_forget
}

# An up by an earlier version of this script kept the copy in $STATE.
adopt_old_resolv_copy() {
    [ -f "$STATE/resolv.kind" ] && [ ! -f "$PERSIST/resolv.kind" ] || return 0
    mkdir -p "$PERSIST"
    printf '%s\n' "$RESOLV" >"$PERSIST/resolv.path"
    mv -f "$STATE"/resolv.* "$PERSIST"/
}

dns_forget() {
    rm -f "$PERSIST/resolv.kind" "$PERSIST/resolv.orig" "$PERSIST/resolv.link" \
        "$PERSIST/resolv.ours" "$PERSIST/resolv.path"
    rmdir "$PERSIST" 2>/dev/null || true
}

# The copy of resolv.conf outlived the state in /run (a reboot, or /run
# cleared): nothing else of that up is left. Put resolv.conf back if it
# is still ours; if something rewrote it since (e.g. DHCP at boot), that
# newer file wins and the old copy is dropped.
dns_restore_stale() {
    [ -f "$PERSIST/resolv.kind" ] || return 0
    [ ! -s "$PERSIST/resolv.path" ] || RESOLV=$(cat "$PERSIST/resolv.path")
    if [ -f "$PERSIST/resolv.ours" ] && ! cmp -s "$PERSIST/resolv.ours" "$RESOLV"; then
        warn "$RESOLV was rewritten since an earlier up (before a reboot?); keeping it, dropping the old copy in $PERSIST"
        dns_forget
        return 0
    fi
    msg "restoring $RESOLV from $PERSIST (an earlier up was not taken down, e.g. before a reboot)"
    dns_restore
}
