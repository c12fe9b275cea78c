#!/usr/bin/env bash
# `cmake --install` into a temporary prefix, then examples/embed.c is
# compiled against what was installed, with the flags of its t2s.pc only:
# once with libt2s.so, once with libt2s.a (Libs.private), and both run;
# and a C++ program includes t2s.h and links.
#   test_pkgconfig.sh BUILD_DIR SOURCE_DIR [EXTRA_CFLAGS]
set -euo pipefail

build=$1
src=$2
extra=${3:-}
cc=${CC:-cc}
prefix=$(mktemp -d)
trap 'rm -rf "$prefix"' EXIT

cmake --install "$build" --prefix "$prefix" >/dev/null
pc=$(dirname "$(find "$prefix" -name t2s.pc | head -n1)")
[ -f "$pc/t2s.pc" ] || { echo "no t2s.pc installed under $prefix" >&2; exit 1; }
export PKG_CONFIG_PATH=$pc
# only the installed header: nothing of the source tree on the path
read -r -a cflags <<<"$(pkg-config --cflags t2s) $extra"
read -r -a libs <<<"$(pkg-config --libs t2s)"
# the static link: the archive for -lt2s, then its dependencies
static_libs=()
for f in $(pkg-config --static --libs t2s); do
    if [ "$f" = -lt2s ]; then
        static_libs+=("-Wl,-Bstatic" -lt2s "-Wl,-Bdynamic")
    else
        static_libs+=("$f")
    fi
done
libdir=$(pkg-config --variable=libdir t2s)

"$cc" "${cflags[@]}" -o "$prefix/embed_shared" "$src/examples/embed.c" \
    "${libs[@]}" -pthread
LD_LIBRARY_PATH=$libdir "$prefix/embed_shared" --version
# ldd names the installed library, not the build tree's (its output read
# whole: grep -q closing the pipe early would fail ldd under pipefail)
deps=$(LD_LIBRARY_PATH=$libdir ldd "$prefix/embed_shared")
if ! grep -q "$libdir/libt2s.so" <<<"$deps"; then
    echo "embed_shared does not load $libdir/libt2s.so:" >&2
    echo "$deps" >&2
    exit 1
fi

# static: the same flags with the archive chosen over the shared library
"$cc" "${cflags[@]}" -o "$prefix/embed_static" "$src/examples/embed.c" \
    "${static_libs[@]}" -pthread
"$prefix/embed_static" --version
deps=$(ldd "$prefix/embed_static")
if grep -q libt2s <<<"$deps"; then
    echo "embed_static loads libt2s.so" >&2
    exit 1
fi
# the header is C++ too (extern "C"): a C++ program links against it
if command -v c++ >/dev/null; then
    printf '%s\n' '#include <t2s.h>' \
        'int main() { t2s_config *c = t2s_config_new();' \
        '  t2s_config_free(c); return t2s_version()[0] ? 0 : 1; }' \
        >"$prefix/cxx.cc"
    c++ "${cflags[@]}" -o "$prefix/cxx" "$prefix/cxx.cc" "${libs[@]}"
    LD_LIBRARY_PATH=$libdir "$prefix/cxx"
fi
echo "test_pkgconfig: ok"
