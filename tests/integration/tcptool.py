#!/usr/bin/env python3
"""Small TCP/UDP client and server for the integration tests.

Data is generated from a seed so both ends can check SHA-256 without
files: gen(size, seed) is the same byte stream everywhere.
"""
import argparse
import errno
import hashlib
import os
import random
import socket
import sys
import threading
import time

CHUNK = 1 << 20


def gen(size, seed):
    rnd = random.Random(seed)
    left = size
    while left > 0:
        n = min(CHUNK, left)
        yield rnd.randbytes(n)
        left -= n


def sha_of(size, seed):
    h = hashlib.sha256()
    for b in gen(size, seed):
        h.update(b)
    return h.hexdigest()


def listener(bind, port, kind=socket.SOCK_STREAM):
    v4 = "." in bind and ":" not in bind
    s = socket.socket(socket.AF_INET if v4 else socket.AF_INET6, kind)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if not v4:
        s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
    s.bind((bind, port))
    if kind == socket.SOCK_STREAM:
        s.listen(4096)
    return s


def read_all(c):
    h = hashlib.sha256()
    n = 0
    while True:
        b = c.recv(CHUNK)
        if not b:
            return h.hexdigest(), n
        h.update(b)
        n += len(b)


def serve(args):
    s = listener(args.bind, args.port)
    log = open(args.log, "a", buffering=1) if args.log else None

    def handle(c, peer):
        try:
            if args.mode == "sink":  # read to EOF, log and answer the digest
                d, n = read_all(c)
                if log:
                    log.write("sink %s %d\n" % (d, n))
                c.sendall(("%s %d\n" % (d, n)).encode())
            elif args.mode == "echo":
                while True:
                    b = c.recv(CHUNK)
                    if not b:
                        break
                    c.sendall(b)
            elif args.mode == "send":  # download: size bytes of seed
                for b in gen(args.size, args.seed):
                    c.sendall(b)
            elif args.mode == "reqresp":  # read to EOF, then send
                read_all(c)
                for b in gen(args.size, args.seed):
                    c.sendall(b)
            elif args.mode == "finfirst":  # send, FIN, then read to EOF
                c.sendall(b"server-says-bye\n")
                c.shutdown(socket.SHUT_WR)
                d, n = read_all(c)
                if log:
                    log.write("finfirst %s %d\n" % (d, n))
            elif args.mode == "hold":
                read_all(c)
            if log and args.mode not in ("finfirst", "sink"):
                log.write("%s %s\n" % (args.mode, peer[0]))
        except OSError as e:
            if log:
                log.write("error %s\n" % e)
        finally:
            c.close()

    while True:
        c, peer = s.accept()
        threading.Thread(target=handle, args=(c, peer), daemon=True).start()


def connect(host, port, timeout=30):
    return socket.create_connection((host, port), timeout=timeout)


def cmd_download(args):
    c = connect(args.host, args.port)
    d, n = read_all(c)
    print(d, n)


def cmd_upload(args):
    c = connect(args.host, args.port)
    for b in gen(args.size, args.seed):
        c.sendall(b)
    c.shutdown(socket.SHUT_WR)
    # Some proxies (microsocks) end the whole connection at the app's EOF,
    # so the answer may not come back; the server also logs the digest.
    try:
        print(c.makefile().readline().strip())
    except OSError:
        print("")


def cmd_sha(args):
    print(sha_of(args.size, args.seed), args.size)


def cmd_connect(args):
    t = time.monotonic()
    try:
        c = connect(args.host, args.port, timeout=args.timeout)
        print("ok %.3f" % (time.monotonic() - t))
        c.close()
    except OSError as e:
        name = errno.errorcode.get(e.errno, "timeout") if e.errno else "timeout"
        print("error %s %.3f" % (name, time.monotonic() - t))


def cmd_halfclose(args):
    """Send a request, shut down writing, read the whole response."""
    c = connect(args.host, args.port)
    c.sendall(b"request\n" * 1000)
    c.shutdown(socket.SHUT_WR)
    d, n = read_all(c)
    print(d, n)


def cmd_after_fin(args):
    """Read until the server's FIN, then keep sending; the server logs it."""
    c = connect(args.host, args.port)
    d, n = read_all(c)
    for b in gen(args.size, args.seed):
        c.sendall(b)
    c.shutdown(socket.SHUT_WR)
    time.sleep(0.2)
    c.close()
    print(n)


def cmd_concurrent(args):
    ok = [0]
    errs = []
    lock = threading.Lock()
    start = threading.Barrier(args.n)

    def run(i):
        data = os.urandom(args.size)
        try:
            start.wait(timeout=60)
            c = connect(args.host, args.port, timeout=60)
            c.sendall(data)
            c.shutdown(socket.SHUT_WR)
            got = bytearray()
            while True:
                b = c.recv(CHUNK)
                if not b:
                    break
                got += b
            c.close()
            with lock:
                if bytes(got) == data:
                    ok[0] += 1
                else:
                    errs.append("conn %d: %d of %d bytes match" % (i, len(got), len(data)))
        except Exception as e:  # noqa: BLE001 - report every failure
            with lock:
                errs.append("conn %d: %r" % (i, e))

    ts = [threading.Thread(target=run, args=(i,)) for i in range(args.n)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    print("ok %d of %d" % (ok[0], args.n))
    for e in errs[:5]:
        print(e)


def cmd_hold(args):
    """Open n connections, report, keep them until killed."""
    socks = [connect(args.host, args.port) for _ in range(args.n)]
    print("held %d" % len(socks), flush=True)
    while socks:
        time.sleep(3600)


def cmd_udpecho(args):
    s = listener(args.bind, args.port, socket.SOCK_DGRAM)
    while True:
        b, peer = s.recvfrom(65535)
        s.sendto(b, peer)


def cmd_udpsend(args):
    """Send one datagram to each host:port, print size and source of each reply."""
    fam = socket.AF_INET6 if ":" in args.targets[0].rsplit(":", 1)[0] else socket.AF_INET
    s = socket.socket(fam, socket.SOCK_DGRAM)
    s.settimeout(args.timeout)
    data = random.Random(args.seed).randbytes(args.size)
    for t in args.targets:
        host, port = t.rsplit(":", 1)
        s.sendto(data, (host.strip("[]"), int(port)))
    for _ in args.targets:
        try:
            b, peer = s.recvfrom(65535)
        except socket.timeout:
            print("timeout")
            continue
        print("%s %d %s" % ("same" if b == data else "differ", len(b),
                            "%s:%d" % (peer[0], peer[1])))


def cmd_tunexec(args):
    """Open a TUN like a VPN service would, then exec a command with the fd
    in place of every '{fd}' in its arguments."""
    import fcntl
    import struct
    import subprocess
    IFF_TUN, IFF_NO_PI, IFF_VNET_HDR = 0x0001, 0x1000, 0x4000
    TUNSETIFF = 0x400454CA
    flags = IFF_TUN | IFF_NO_PI | (IFF_VNET_HDR if args.vnet else 0)
    fd = os.open("/dev/net/tun", os.O_RDWR)
    fcntl.ioctl(fd, TUNSETIFF, struct.pack("16sH", args.name.encode(), flags))
    for cmd in (["addr", "add", args.ipv4, "dev", args.name],
                ["addr", "add", args.ipv6, "dev", args.name, "nodad"],
                ["link", "set", args.name, "up"]):
        subprocess.run(["ip"] + cmd, check=True)
    os.set_inheritable(fd, True)
    argv = [a.replace("{fd}", str(fd)) for a in args.command]
    os.execv(argv[0], argv)


def main():
    p = argparse.ArgumentParser()
    sub = p.add_subparsers(dest="cmd", required=True)
    a = sub.add_parser("serve")
    a.add_argument("--bind", default="::")
    a.add_argument("--port", type=int, required=True)
    a.add_argument("--mode", required=True,
                   choices=["sink", "echo", "send", "reqresp", "finfirst", "hold"])
    a.add_argument("--size", type=int, default=0)
    a.add_argument("--seed", type=int, default=1)
    a.add_argument("--log")
    a.set_defaults(fn=serve)
    for name, fn in (("download", cmd_download), ("halfclose", cmd_halfclose)):
        a = sub.add_parser(name)
        a.add_argument("host")
        a.add_argument("port", type=int)
        a.set_defaults(fn=fn)
    for name, fn in (("upload", cmd_upload), ("after-fin", cmd_after_fin)):
        a = sub.add_parser(name)
        a.add_argument("host")
        a.add_argument("port", type=int)
        a.add_argument("size", type=int)
        a.add_argument("--seed", type=int, default=1)
        a.set_defaults(fn=fn)
    a = sub.add_parser("sha")
    a.add_argument("size", type=int)
    a.add_argument("--seed", type=int, default=1)
    a.set_defaults(fn=cmd_sha)
    a = sub.add_parser("connect")
    a.add_argument("host")
    a.add_argument("port", type=int)
    a.add_argument("--timeout", type=float, default=5)
    a.set_defaults(fn=cmd_connect)
    a = sub.add_parser("concurrent")
    a.add_argument("host")
    a.add_argument("port", type=int)
    a.add_argument("n", type=int)
    a.add_argument("size", type=int)
    a.set_defaults(fn=cmd_concurrent)
    a = sub.add_parser("hold")
    a.add_argument("host")
    a.add_argument("port", type=int)
    a.add_argument("n", type=int)
    a.set_defaults(fn=cmd_hold)
    a = sub.add_parser("udpecho")
    a.add_argument("--bind", default="::")
    a.add_argument("--port", type=int, required=True)
    a.set_defaults(fn=cmd_udpecho)
    a = sub.add_parser("udpsend")
    a.add_argument("targets", nargs="+", help="host:port or [v6]:port")
    a.add_argument("--size", type=int, default=100)
    a.add_argument("--seed", type=int, default=1)
    a.add_argument("--timeout", type=float, default=3)
    a.set_defaults(fn=cmd_udpsend)
    a = sub.add_parser("tunexec")
    a.add_argument("--name", required=True)
    a.add_argument("--vnet", type=int, choices=[0, 1], default=0)
    a.add_argument("--ipv4", required=True)
    a.add_argument("--ipv6", required=True)
    a.add_argument("command", nargs="+")
    a.set_defaults(fn=cmd_tunexec)
    args = p.parse_args()
    args.fn(args)


if __name__ == "__main__":
    main()
