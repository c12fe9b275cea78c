#!/usr/bin/env bash
# `cmake --install` into a temporary DESTDIR (no root needed): the exact
# file list of the GNU layout, the installed unit, drop-in and program
# naming the installed paths, and man pages that render cleanly and
# document every option the --help of both programs lists.
#
#   tests/package/test_install.sh BUILD_DIR PREFIX LIBDIR UNITDIR [SHARED]
#
# PREFIX, LIBDIR (relative), UNITDIR (absolute): as configured in CMake;
# SHARED: 1 when the shared library target exists. Registered with ctest
# as package_install (label package).
set -euo pipefail

build=${1:?usage: test_install.sh BUILD_DIR PREFIX LIBDIR UNITDIR [SHARED]}
prefix=${2:?} libdir=${3:?} unitdir=${4:?} shared=${5:-0}
src=$(cd "$(dirname "$0")/../.." && pwd)
dest=$(mktemp -d /tmp/t2s-install.XXXXXX)
trap 'rm -rf "$dest"' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

errors=0
fail() {
    echo "test_install: FAIL: $*" >&2
    errors=$((errors + 1))
}

DESTDIR=$dest cmake --install "$build" >"$dest.log" 2>&1 || {
    cat "$dest.log" >&2
    rm -f "$dest.log"
    echo "test_install: FAIL: cmake --install failed" >&2
    exit 1
}
rm -f "$dest.log"

# ---- the file list ----
p=${prefix#/}
expected=(
    "$p/sbin/tun2socks"
    "$p/libexec/tun2socks/tun2socks-route"
    "$p/share/man/man8/tun2socks.8"
    "$p/share/man/man8/tun2socks-route.8"
    "$p/include/t2s.h"
    "$p/$libdir/libt2s.a"
    "${unitdir#/}/tun2socks.service"
    "$p/share/doc/tun2socks/examples/route.conf"
    "$p/share/doc/tun2socks/examples/tun2socks.conf"
    "$p/share/doc/tun2socks/examples/tun2socks.env"
)
if [ -f "$build/include/t2s_version.h" ]; then
    expected+=("$p/include/t2s_version.h")
fi
if [ -d "$src/scripts/route" ]; then
    for m in "$src"/scripts/route/*.sh; do
        expected+=("$p/libexec/tun2socks/route/$(basename "$m")")
    done
fi
if [ "$shared" = 1 ]; then
    # libt2s.so -> libt2s.so.N (the SONAME) [-> libt2s.so.N.M.P]
    so=$dest/$p/$libdir/libt2s.so
    [ -L "$so" ] || fail "$p/$libdir/libt2s.so is not a symlink"
    soname=$(readelf -d "$so" | sed -n 's/.*(SONAME).*\[\(.*\)\]/\1/p')
    case $soname in
    libt2s.so.*) ;;
    *) fail "libt2s.so has SONAME '$soname', want libt2s.so.N" ;;
    esac
    for f in "$dest/$p/$libdir"/libt2s.so*; do
        expected+=("$p/$libdir/$(basename "$f")")
    done
    [ -e "$dest/$p/$libdir/$soname" ] || fail "no file named by the SONAME $soname"
    expected+=("$p/$libdir/pkgconfig/t2s.pc")
fi
got=$(cd "$dest" && find . \( -type f -o -type l \) | sed 's|^\./||' | sort)
want=$(printf '%s\n' "${expected[@]}" | sort)
if [ "$got" != "$want" ]; then
    fail "installed files differ from the expected list (< expected, > installed):"
    diff <(echo "$want") <(echo "$got") >&2 || true
fi

# ---- the installed paths are the ones that get used ----
bin=$prefix/sbin/tun2socks
route=$prefix/libexec/tun2socks/tun2socks-route
[ -x "$dest$bin" ] || fail "$bin is not executable"
[ -x "$dest$route" ] || fail "$route is not executable"
# the route modules are sourced, not run (lintian: executable-not-elf-or-script)
if [ -d "$dest$prefix/libexec/tun2socks/route" ]; then
    find "$dest$prefix/libexec/tun2socks/route" -type f -perm /111 | grep . &&
        fail "executable route modules (above): they are sourced, mode 0644"
fi
unit=$dest$unitdir/tun2socks.service
grep -qx "ExecStart=$bin --config /etc/tun2socks/tun2socks.conf" "$unit" ||
    fail "the unit does not start $bin: $(grep ExecStart= "$unit")"
dropin=$dest$prefix/share/doc/tun2socks/examples/route.conf
for k in ExecStartPost ExecStopPost; do
    grep -q "^$k=+$route " "$dropin" || fail "route.conf's $k does not run $route"
done
grep -q "/usr/local/" "$unit" "$dropin" && [ "$prefix" != /usr/local ] &&
    fail "a /usr/local path is left in the installed unit or drop-in"
# --route's default script is the installed one (tun2socks/route.c gets
# it from CMake; --help shows it)
help=$("$dest$bin" --help) # captured: grep -q would cut a pipe short
grep -qF -- "else $route)" <<<"$help" ||
    fail "$bin --help does not name $route as --route's default"

# ---- man pages: filled in, clean roff, every --help option documented ----
for page in tun2socks tun2socks-route; do
    m=$dest$prefix/share/man/man8/$page.8
    grep -n '@[A-Za-z_]*@' "$m" && fail "$page.8 has an unfilled @placeholder@"
    warn=$(groff -man -ww -z "$m" 2>&1) || true
    [ -z "$warn" ] || fail "$page.8: groff warnings: $warn"
done
check_options() { # PAGE HELP-TEXT
    local page=$1 help=$2 text opt opts
    text=$(sed 's/\\-/-/g; s/\\f[BIRP]//g' "$dest$prefix/share/man/man8/$page.8")
    mapfile -t opts < <(grep -oE -- '--[a-z][a-z0-9-]*' <<<"$help" | sort -u)
    [ "${#opts[@]}" -gt 5 ] || fail "too few options found in $page --help"
    for opt in "${opts[@]}"; do
        grep -qE -- "(^|[^a-z-])$opt([^a-z-]|\$)" <<<"$text" ||
            fail "$page.8 does not document $opt (in its --help)"
    done
}
check_options tun2socks "$("$dest$bin" --help)"
route_help=$("$dest$route" --help) || fail "the installed $route --help failed"
check_options tun2socks-route "$route_help"

if [ "$errors" -gt 0 ]; then
    echo "test_install: $errors failure(s)" >&2
    exit 1
fi
echo "test_install: ${#expected[@]} files installed as expected under $prefix and $unitdir"
