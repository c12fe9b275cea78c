#!/usr/bin/env bash
# libt2s.so exports exactly the functions include/t2s.h declares with
# T2S_API: no lwIP, libev or internal t2s_ symbol, and none missing.
#   test_exports.sh LIBT2S_SO T2S_H
set -euo pipefail

lib=$1
header=$2

# The declarations, joined onto one line each: "T2S_API ... t2s_name(".
mapfile -t api < <(tr '\n' ' ' <"$header" | grep -oE 'T2S_API[^;]*;' |
    grep -oE '\bt2s_[a-z0-9_]+[[:space:]]*\(' | tr -d ' (' | sort -u)
if [ "${#api[@]}" -lt 10 ]; then
    echo "test_exports: found only ${#api[@]} T2S_API functions in $header" >&2
    exit 1
fi
# A coverage build (T2S_FUZZ) adds the linker's section bounds of its
# counters; they are not ours to hide.
mapfile -t exported < <(nm -D --defined-only "$lib" | awk '{print $NF}' |
    grep -vE '^__(start|stop)___sancov_' | sort -u)

fail=0
for sym in "${exported[@]}"; do
    case " ${api[*]} " in
    *" $sym "*) ;;
    *)
        case $sym in
        t2s_*) echo "exported but not in $header: $sym" >&2 ;;
        *) echo "exported symbol outside the t2s_ API: $sym" >&2 ;;
        esac
        fail=1
        ;;
    esac
done
for sym in "${api[@]}"; do
    case " ${exported[*]} " in
    *" $sym "*) ;;
    *) echo "declared in $header but not exported: $sym" >&2; fail=1 ;;
    esac
done
if [ "$fail" -ne 0 ]; then exit 1; fi
echo "test_exports: $lib exports exactly the ${#api[@]} functions of $header"
