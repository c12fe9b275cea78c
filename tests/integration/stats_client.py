#!/usr/bin/env python3
"""Clients of tun2socks's stats socket for test_stats_socket.sh.

  check-json FILE       FILE holds one JSON object with exactly the fields
                        of struct t2s_stats (names on stdin, one a line),
                        each a non-negative integer; prints it compact
  check-prom FILE JSON  FILE parses as Prometheus text (prometheus_client's
                        parser): one sample per field of JSON (t2s_FIELD,
                        counters with a _total suffix), gauges as GAUGES
                        lists them, counters not below the JSON's values
  cap PATH N            N connections at once that send nothing: prints
                        how many got an answer and how many were closed
                        at once (empty)
  huge PATH N           a request line of N bytes with no newline; prints
                        the first line of the answer
  garbage PATH          binary garbage then a newline; prints the answer
  noread PATH N         N clients that ask for /metrics and never read,
                        held for 2 s; prints how many the server closed
                        (EOF seen once they finally read)
"""
import json
import socket
import sys
import threading
import time

GAUGES = {"tcp_active", "udp_active", "mem_used", "mem_peak", "tcp_orphans"}


def check_json(path):
    names = [n.strip() for n in sys.stdin if n.strip()]
    text = open(path).read()
    assert text.endswith("\n") and text.count("\n") == 1, "not one line"
    obj = json.loads(text)
    assert list(obj) == names, "fields %s, want %s" % (list(obj), names)
    for k, v in obj.items():
        assert isinstance(v, int) and v >= 0, "%s = %r" % (k, v)
    print(json.dumps(obj, separators=(",", ":")))


def metric_name(k):
    if k in GAUGES or k.endswith("_total"):
        return "t2s_" + k
    return "t2s_" + k + "_total"


def check_prom(path, json_path):
    from prometheus_client.parser import text_string_to_metric_families
    want = json.load(open(json_path))
    samples = {}
    for fam in text_string_to_metric_families(open(path).read()):
        for s in fam.samples:
            assert s.name not in samples, "%s twice" % s.name
            assert not s.labels, "%s has labels" % s.name
            samples[s.name] = (fam.type, s.value)
    for k, v in want.items():
        name = metric_name(k)
        assert name in samples, "no metric %s" % name
        typ, value = samples.pop(name)
        want_typ = "gauge" if k in GAUGES else "counter"
        assert typ == want_typ, "%s is a %s, want %s" % (name, typ, want_typ)
        if k not in GAUGES:  # counters only grow between the two reads
            assert value >= v, "%s went down: %s < %s" % (name, value, v)
    assert not samples, "unexpected metrics %s" % list(samples)
    print("prometheus ok: %d metrics" % len(want))


def connect(path):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(5)
    s.connect(path)
    return s


def read_all(s):
    out = b""
    try:
        while True:
            b = s.recv(65536)
            if not b:
                return out
            out += b
    except ConnectionResetError:
        return out + b"<reset>"


def cap(path, n):
    socks = [connect(path) for _ in range(n)]
    res = [None] * n

    def rd(i):
        res[i] = read_all(socks[i])

    ts = [threading.Thread(target=rd, args=(i,)) for i in range(n)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    answered = sum(1 for r in res if r.startswith(b"{\"tcp_active\""))
    empty = sum(1 for r in res if r == b"")
    print("answered %d closed %d" % (answered, empty))


def huge(path, n):
    s = connect(path)
    try:
        s.sendall(b"A" * n)
    except OSError:
        pass  # the server stopped reading at its limit and closed
    print(read_all(s).split(b"\n")[0].decode(errors="replace"))


def garbage(path):
    s = connect(path)
    s.sendall(bytes(range(1, 32)) + b"\xff\xfe garbage\n")
    print(read_all(s).decode(errors="replace").strip())


def noread(path, n):
    socks = [connect(path) for _ in range(n)]
    for s in socks:
        s.sendall(b"/metrics\n")
    time.sleep(2)
    closed = 0
    for s in socks:
        data = read_all(s)
        closed += data.endswith(b"\n") and b"<reset>" not in data
        s.close()
    print("closed %d" % closed)


def main():
    cmd = sys.argv[1]
    if cmd == "check-json":
        check_json(sys.argv[2])
    elif cmd == "check-prom":
        check_prom(sys.argv[2], sys.argv[3])
    elif cmd == "cap":
        cap(sys.argv[2], int(sys.argv[3]))
    elif cmd == "huge":
        huge(sys.argv[2], int(sys.argv[3]))
    elif cmd == "noread":
        noread(sys.argv[2], int(sys.argv[3]))
    elif cmd == "garbage":
        garbage(sys.argv[2])
    else:
        sys.exit("unknown command " + cmd)


if __name__ == "__main__":
    main()
