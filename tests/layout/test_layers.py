#!/usr/bin/env python3
"""The library's folders depend downward only, and no files include each
other in a cycle across folders.

    layer 6  api        the public API and the instance it wraps
    layer 5  netif      TUN <-> lwIP, per-iteration work
    layer 4  tcp, udp   the relays (udp/ holds the DNS relay); siblings
                        never include each other
    layer 3  session    the one session life cycle, the shared context
    layer 2  upstream   proxy handshakes, destinations, the fake-ip pool
    layer 1  config, codec, buf, tun
    layer 0  core       logging, counters, the memory budget, lists

A file may include its own folder, a lower layer, and the public header
include/t2s.h. Prints every violation; exit 1 if any.

    test_layers.py SOURCE_DIR
"""
import os
import re
import sys

LAYERS = {
    "core": 0,
    "config": 1, "codec": 1, "buf": 1, "tun": 1,
    "upstream": 2,
    "session": 3,
    "tcp": 4, "udp": 4,
    "netif": 5,
    "api": 6,
}
INCLUDE = re.compile(r'^#include "([a-z_]+)/([a-z_0-9]+\.h)"', re.M)


def main(src):
    lib = os.path.join(src, "lib")
    bad = []
    graph = {}
    for folder in sorted(os.listdir(lib)):
        if folder not in LAYERS:
            bad.append(f"lib/{folder}/: folder has no layer in {sys.argv[0]}")
            continue
        for name in sorted(os.listdir(os.path.join(lib, folder))):
            if not name.endswith((".c", ".h")):
                continue
            path = f"{folder}/{name}"
            with open(os.path.join(lib, path), encoding="utf-8") as f:
                text = f.read()
            module = path[:-2]
            for dep_folder, dep_name in INCLUDE.findall(text):
                if dep_folder == "lwip":
                    continue
                dep = f"{dep_folder}/{dep_name}"
                if dep_folder not in LAYERS:
                    continue  # not ours (e.g. a system header with a /)
                graph.setdefault(module, set()).add(dep[:-2])
                if dep_folder == folder:
                    continue
                if LAYERS[dep_folder] >= LAYERS[folder]:
                    bad.append(f"lib/{path} (layer {LAYERS[folder]}) "
                               f"includes {dep} (layer {LAYERS[dep_folder]})")
    # a module is a .c with its .h; cycles that cross folders are errors
    seen, stack = {}, []

    def visit(u):
        seen[u] = 1
        stack.append(u)
        for v in sorted(graph.get(u, ())):
            if seen.get(v) == 1:
                cycle = stack[stack.index(v):] + [v]
                if len({m.split("/")[0] for m in cycle}) > 1:
                    bad.append("include cycle: " + " -> ".join(cycle))
            elif not seen.get(v):
                visit(v)
        stack.pop()
        seen[u] = 2

    for u in sorted(graph):
        if not seen.get(u):
            visit(u)
    for line in bad:
        print("test_layers: " + line)
    if bad:
        return 1
    print(f"test_layers: {len(graph)} modules, folders depend downward only")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else "."))
