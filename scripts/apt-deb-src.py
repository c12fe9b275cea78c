#!/usr/bin/env python3
"""Print deb-src entries derived from this machine's own apt sources.

Only entries for the distribution itself are mirrored (their suite is the
release codename, or codename-updates/-security/...), so third-party
repositories without source packages are left alone. Output is deb822
(.sources) text; nothing is printed when no entry qualifies.
"""
import argparse
import glob
import os
import re
import sys


def codename():
    try:
        with open("/etc/os-release", encoding="utf-8") as f:
            for line in f:
                if line.startswith("VERSION_CODENAME="):
                    return line.split("=", 1)[1].strip().strip('"')
    except OSError:
        pass
    return ""


def distro_suite(suite, code):
    return bool(code) and (suite == code or suite.startswith(code + "-"))


def one_line_entries(path):
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.split("#", 1)[0].strip()
            m = re.match(r"^deb\s+(\[[^\]]*\]\s+)?(\S+)\s+(\S+)\s+(.+)$", line)
            if m:
                opts = (m.group(1) or "").strip("[] \t")
                signed = re.search(r"signed-by=(\S+)", opts)
                yield {"URIs": m.group(2), "Suites": m.group(3),
                       "Components": m.group(4),
                       "Signed-By": signed.group(1) if signed else None}


def deb822_entries(path):
    with open(path, encoding="utf-8") as f:
        text = f.read()
    for stanza in re.split(r"\n\s*\n", text):
        fields = {}
        for line in stanza.splitlines():
            if line.startswith("#") or ":" not in line or line[0].isspace():
                continue
            key, value = line.split(":", 1)
            fields[key.strip()] = value.strip()
        if "deb" not in fields.get("Types", "").split():
            continue
        if fields.get("Enabled", "yes").lower() == "no":
            continue
        for suite in fields.get("Suites", "").split():
            yield {"URIs": fields.get("URIs", ""), "Suites": suite,
                   "Components": fields.get("Components", ""),
                   "Signed-By": fields.get("Signed-By")}


def main():
    code = codename()
    seen = set()
    out = []
    paths = ["/etc/apt/sources.list"] + sorted(
        glob.glob("/etc/apt/sources.list.d/*.list"))
    for path in paths:
        if os.path.exists(path):
            out += list(one_line_entries(path))
    for path in sorted(glob.glob("/etc/apt/sources.list.d/*.sources")):
        if os.path.basename(path) == "tun2socks-deb-src.sources":
            continue
        out += list(deb822_entries(path))
    stanzas = []
    for e in out:
        if not distro_suite(e["Suites"], code) or not e["URIs"]:
            continue
        key = (e["URIs"], e["Suites"])
        if key in seen:
            continue
        seen.add(key)
        lines = ["Types: deb-src", "URIs: " + e["URIs"],
                 "Suites: " + e["Suites"], "Components: " + e["Components"]]
        if e["Signed-By"]:
            lines.append("Signed-By: " + e["Signed-By"])
        stanzas.append("\n".join(lines))
    if stanzas:
        sys.stdout.write("# derived by tun2socks scripts/deps from this "
                         "machine's apt sources\n" + "\n\n".join(stanzas)
                         + "\n")


if __name__ == "__main__":
    argparse.ArgumentParser(
        prog="apt-deb-src.py", description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter).parse_args()
    main()
