#!/usr/bin/env python3
"""Clients and a connection-holding server for scripts/bench (stdlib only).

  conns       new connection per request: connect (directly, or SOCKS5
              greeting + CONNECT when --socks is given), GET PATH with
              "Connection: close", read to EOF. --procs processes, each
              sequential, for --seconds. Prints JSON: requests, errors,
              rate (requests/s), p50_ms, p99_ms.
  churn       --count new connections in all, split over --procs
              processes, each sequential: connect (through --socks if
              given), GET PATH with "Connection: close", read to EOF,
              close; with --rate, at most that many new connections a
              second in all (each process paced at its share). Prints
              progress lines "churn DONE ERRORS" to stderr
              every --progress connections of a process, then JSON:
              requests, errors, seconds, rate, error_kinds (error -> count).
  keepalive   one connection, --count GET PATH requests one after the
              other (keep-alive). Prints JSON: requests, p50_ms, p99_ms.
  hold        open --count TCP connections to HOST:PORT and keep them
              idle; a connection counts as held once the server's one-byte
              greeting arrived (so it is established end to end, through
              any proxy). Prints "held N" and then waits for SIGTERM.
  holdserver  accept connections, send the one-byte greeting, keep them
              open until the peer closes.
  reconnect   --count requests like conns, one after the other, every one
              from the same local port (--sport): the next connect() starts
              right after the previous connection closed (retried while
              the kernel still holds the old one in LAST-ACK). Prints JSON:
              requests, errors, addr_busy_retries, p50_ms, max_ms.
  stall       a receiver or sender that stops: download (default) sends
              GET PATH and never reads the response; --upload writes to the
              server without end (the server is a sinkserver that never
              reads). Prints "stalled" once the first bytes are out, then
              waits for SIGTERM.
  sinkserver  accept connections and never read from them.
  active      open --count connections, each GET PATH (a download without
              end, e.g. /huge) read as it comes, or at most --rate bytes a
              second per connection. Prints "active N" once every connection got its
              first bytes, then keeps reading until SIGTERM.
  udp         datagrams of --size bytes at --rate bit/s for --seconds to a
              udpserver, --dir up (client sends, the server counts) or down
              (the server sends, the client counts); through a SOCKS5 UDP
              ASSOCIATE with --socks (RFC 1928 UDP header). Prints JSON:
              sent, received, loss_pct, offered_bps (the rate the sender
              reached), send_errors.
  udpserver   the other end of udp: counts datagrams per test id, answers
              count queries, sends a down stream on request.

Latency is wall time from before connect() to the end of the response.
"""
import argparse
import errno
import ipaddress
import json
import multiprocessing
import os
import resource
import selectors
import signal
import socket
import struct
import sys
import time


def raise_nofile():
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def recv_exact(s, n):
    buf = b""
    while len(buf) < n:
        b = s.recv(n - len(buf))
        if not b:
            raise ConnectionError("EOF in SOCKS reply")
        buf += b
    return buf


def read_socks_reply(s):
    """The rest of a SOCKS5 reply after VER REP RSV ATYP: (host, port)."""
    head = recv_exact(s, 4)
    if head[1] != 0:
        raise ConnectionError("SOCKS5 request failed, reply %d" % head[1])
    if head[3] == 1:
        addr = socket.inet_ntop(socket.AF_INET, recv_exact(s, 4))
    elif head[3] == 4:
        addr = socket.inet_ntop(socket.AF_INET6, recv_exact(s, 16))
    else:
        addr = recv_exact(s, recv_exact(s, 1)[0]).decode()
    return addr, struct.unpack("!H", recv_exact(s, 2))[0]


def socks5_connect(s, host, port):
    """No-auth greeting, then CONNECT to host:port (an IP address)."""
    s.sendall(b"\x05\x01\x00")
    if recv_exact(s, 2) != b"\x05\x00":
        raise ConnectionError("SOCKS5 method refused")
    ip = ipaddress.ip_address(host)
    atyp = b"\x01" if ip.version == 4 else b"\x04"
    s.sendall(b"\x05\x01\x00" + atyp + ip.packed + struct.pack("!H", port))
    head = recv_exact(s, 4)
    if head[1] != 0:
        raise ConnectionError("SOCKS5 CONNECT failed, reply %d" % head[1])
    alen = {1: 4, 4: 16}.get(head[3])
    if alen is None:  # domain name: length byte first
        alen = recv_exact(s, 1)[0]
    recv_exact(s, alen + 2)


def get_until_close(s, req):
    """Send one HTTP request, read the response until the server closes."""
    s.sendall(req)
    data = b""
    while True:
        b = s.recv(65536)
        if not b:
            break
        data += b
    if not data.startswith(b"HTTP/1.1 200"):
        raise ConnectionError("bad response")


def first_hop(args):
    """Where a client connects: the SOCKS server with --socks, else the
    server itself."""
    if args.socks:
        phost, pport = args.socks.rsplit(":", 1)
        return (phost.strip("[]"), int(pport))
    return (args.host, args.port)


def open_conn(args):
    s = socket.create_connection(first_hop(args), timeout=10)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    if args.socks:
        socks5_connect(s, args.host, args.port)
    return s


def request(args, keepalive):
    conn = "keep-alive" if keepalive else "close"
    return ("GET %s HTTP/1.1\r\nHost: %s\r\nConnection: %s\r\n\r\n"
            % (args.path, args.host, conn)).encode()


def percentile(sorted_vals, p):
    if not sorted_vals:
        return None
    return sorted_vals[min(len(sorted_vals) - 1, int(p * (len(sorted_vals) - 1) + 0.5))]


def conns_worker(args, start, q):
    req = request(args, False)
    lat = []
    errors = 0
    while time.time() < start:
        time.sleep(0.001)
    deadline = start + args.seconds
    while True:
        t0 = time.perf_counter()
        if time.time() >= deadline:
            break
        try:
            s = open_conn(args)
            get_until_close(s, req)
            s.close()
            lat.append(time.perf_counter() - t0)
        except OSError:
            errors += 1
            time.sleep(0.01)
    q.put((lat, errors))


def cmd_conns(args):
    q = multiprocessing.Queue()
    start = time.time() + 0.2
    # daemon: stopped by multiprocessing's exit handler if we are signalled
    procs = [multiprocessing.Process(target=conns_worker, args=(args, start, q),
                                     daemon=True)
             for _ in range(args.procs)]
    for p in procs:
        p.start()
    lat, errors = [], 0
    for _ in procs:
        lv, e = q.get()
        lat += lv
        errors += e
    for p in procs:
        p.join()
    lat.sort()
    print(json.dumps({
        "requests": len(lat), "errors": errors,
        "rate": len(lat) / args.seconds,
        "p50_ms": percentile(lat, 0.50) * 1e3 if lat else None,
        "p99_ms": percentile(lat, 0.99) * 1e3 if lat else None,
    }))


def error_kind(e):
    """A short name for an error: its errno name, else its class."""
    name = errno.errorcode.get(e.errno) if e.errno else None
    return name or "%s: %s" % (type(e).__name__, e)


def churn_worker(args, n, q):
    req = request(args, False)
    done, errors, kinds = 0, 0, {}
    gap = args.procs / args.rate if args.rate else 0.0
    nxt = time.monotonic()
    for i in range(n):
        now = time.monotonic()
        if nxt > now:
            time.sleep(nxt - now)
        nxt = max(nxt, now) + gap  # no catching up in a burst after a stall
        try:
            s = open_conn(args)
            try:
                get_until_close(s, req)
            finally:
                s.close()
            done += 1
        except OSError as e:
            errors += 1
            k = error_kind(e)
            kinds[k] = kinds.get(k, 0) + 1
            time.sleep(0.01)  # do not spin on a path that is down
        if args.progress and (i + 1) % args.progress == 0:
            print("churn %d %d" % (done, errors), file=sys.stderr, flush=True)
    q.put((done, errors, kinds))


def cmd_churn(args):
    q = multiprocessing.Queue()
    share = [args.count // args.procs + (1 if i < args.count % args.procs else 0)
             for i in range(args.procs)]
    procs = [multiprocessing.Process(target=churn_worker, args=(args, n, q),
                                     daemon=True)
             for n in share if n > 0]
    t0 = time.monotonic()
    for p in procs:
        p.start()
    done, errors, kinds = 0, 0, {}
    for _ in procs:
        d, e, k = q.get()
        done += d
        errors += e
        for name, c in k.items():
            kinds[name] = kinds.get(name, 0) + c
    for p in procs:
        p.join()
    secs = time.monotonic() - t0
    print(json.dumps({"requests": done, "errors": errors,
                      "seconds": round(secs, 3), "rate": done / secs,
                      "error_kinds": kinds}))


def read_response(f):
    """One HTTP/1.1 response with Content-Length from a buffered reader."""
    status = f.readline()
    if not status.startswith(b"HTTP/1.1 200"):
        raise ConnectionError("bad response %r" % status)
    length = 0
    while True:
        line = f.readline()
        if line in (b"\r\n", b""):
            break
        k, _, v = line.partition(b":")
        if k.strip().lower() == b"content-length":
            length = int(v)
    if len(f.read(length)) != length:
        raise ConnectionError("short body")


def cmd_keepalive(args):
    s = open_conn(args)
    f = s.makefile("rb")
    req = request(args, True)
    lat = []
    for _ in range(args.count):
        t0 = time.perf_counter()
        s.sendall(req)
        read_response(f)
        lat.append(time.perf_counter() - t0)
    s.close()
    lat.sort()
    print(json.dumps({"requests": len(lat),
                      "p50_ms": percentile(lat, 0.50) * 1e3,
                      "p99_ms": percentile(lat, 0.99) * 1e3}))


def connect_from(args, fam, sport):
    """A socket bound to sport and connected (through --socks if given).
    The previous connection from sport may still be in LAST-ACK for a
    moment (the final ACK comes from a user-space peer on the tun2socks
    path): connect() then fails with EADDRNOTAVAIL and is retried."""
    retries = 0
    while True:
        s = socket.socket(fam, socket.SOCK_STREAM)
        try:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            s.settimeout(10)
            s.bind(("", sport))
            s.connect(first_hop(args))
            if args.socks:
                socks5_connect(s, args.host, args.port)
            return s, retries
        except OSError as e:
            s.close()
            if e.errno != errno.EADDRNOTAVAIL or retries >= 10000:
                raise
            retries += 1
            time.sleep(0.0001)


def cmd_reconnect(args):
    req = request(args, False)
    fam = socket.AF_INET6 if ":" in args.host else socket.AF_INET
    lat, errors, retries = [], 0, 0
    for _ in range(args.count):
        t0 = time.perf_counter()
        s = None
        try:
            s, r = connect_from(args, fam, args.sport)
            retries += r
            get_until_close(s, req)
            lat.append(time.perf_counter() - t0)
        except OSError as e:
            errors += 1
            print("reconnect: %s" % e, file=sys.stderr)
        finally:
            if s is not None:
                s.close()
    lat.sort()
    print(json.dumps({"requests": len(lat), "errors": errors,
                      "addr_busy_retries": retries,
                      "p50_ms": percentile(lat, 0.50) * 1e3 if lat else None,
                      "max_ms": lat[-1] * 1e3 if lat else None}))


def cmd_stall(args):
    s = socket.create_connection((args.host, args.port), timeout=10)
    s.settimeout(None)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    if not args.upload:
        s.sendall(request(args, True))
        print("stalled", flush=True)
        while True:
            signal.pause()
    chunk = b"\0" * 65536
    s.sendall(chunk)
    print("stalled", flush=True)
    while True:  # blocks for good once the window is closed
        s.sendall(chunk)


def cmd_sinkserver(args):
    fam = socket.AF_INET6 if ":" in args.bind else socket.AF_INET
    ls = socket.socket(fam, socket.SOCK_STREAM)
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind((args.bind, args.port))
    ls.listen(64)
    held = []
    while True:
        c, _ = ls.accept()
        held.append(c)


def cmd_hold(args):
    raise_nofile()
    fam = socket.AF_INET6 if ":" in args.host else socket.AF_INET
    sel = selectors.DefaultSelector()
    held, failed, started = [], 0, 0
    last_progress = time.monotonic()
    while len(held) + failed < args.count:
        # keep at most --batch handshakes in flight
        while started < args.count and len(sel.get_map()) < args.batch:
            s = socket.socket(fam, socket.SOCK_STREAM)
            s.setblocking(False)
            try:
                s.connect((args.host, args.port))
            except BlockingIOError:
                pass
            except OSError:
                s.close()
                failed += 1
                started += 1
                continue
            sel.register(s, selectors.EVENT_READ)
            started += 1
        for key, _ in sel.select(timeout=1.0):
            s = key.fileobj
            sel.unregister(s)
            try:
                ok = s.recv(1) == b"x"
            except OSError:
                ok = False
            if ok:
                held.append(s)
            else:
                s.close()
                failed += 1
            last_progress = time.monotonic()
        if time.monotonic() - last_progress > args.stall:
            break  # the rest is stuck: report what was reached
    for key in list(sel.get_map().values()):
        key.fileobj.close()
    print("held %d failed %d" % (len(held), failed), flush=True)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    while True:
        signal.pause()


def cmd_holdserver(args):
    raise_nofile()
    fam = socket.AF_INET6 if ":" in args.bind else socket.AF_INET
    ls = socket.socket(fam, socket.SOCK_STREAM)
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind((args.bind, args.port))
    ls.listen(4096)
    ls.setblocking(False)
    ep = selectors.DefaultSelector()
    ep.register(ls, selectors.EVENT_READ)
    while True:
        for key, _ in ep.select():
            if key.fileobj is ls:
                while True:
                    try:
                        c, _ = ls.accept()
                    except BlockingIOError:
                        break
                    except OSError as e:
                        if e.errno in (errno.EMFILE, errno.ENFILE):
                            time.sleep(0.01)
                            break
                        raise
                    c.setblocking(False)
                    try:
                        c.send(b"x")
                        ep.register(c, selectors.EVENT_READ)
                    except OSError:
                        c.close()
            else:  # peer closed (or sent something): drop it
                c = key.fileobj
                ep.unregister(c)
                c.close()


UDP_SOCKS_HEAD = {4: 10, 6: 22}  # RFC 1928 UDP header length by address


def udp_socket(fam):
    u = socket.socket(fam, socket.SOCK_DGRAM)
    for opt, force in ((socket.SO_RCVBUF, 33), (socket.SO_SNDBUF, 32)):
        try:  # SO_RCVBUFFORCE / SO_SNDBUFFORCE as root: beyond rmem_max
            u.setsockopt(socket.SOL_SOCKET, force, 8 << 20)
        except OSError:
            u.setsockopt(socket.SOL_SOCKET, opt, 8 << 20)
    return u


def cmd_udp(args):
    """See the module's doc. Datagrams: type (1 byte) + test id (8) + ...:
    D data up, Q query count, R + count (8) reply, S start down stream +
    rate, size, seconds; d data down; E end of the down stream + sent."""
    ip = ipaddress.ip_address(args.host)
    tid = struct.pack("!Q", int.from_bytes(os.urandom(8), "big"))
    ctl, prefix, dest = None, b"", (args.host, args.port)
    if args.socks:
        ctl = socket.create_connection(first_hop(args), timeout=10)
        ctl.sendall(b"\x05\x01\x00")
        if recv_exact(ctl, 2) != b"\x05\x00":
            raise ConnectionError("SOCKS5 method refused")
        ctl.sendall(b"\x05\x03\x00\x01" + bytes(6))
        raddr, rport = read_socks_reply(ctl)
        if ipaddress.ip_address(raddr).is_unspecified:
            raddr = first_hop(args)[0]
        dest = (raddr, rport)
        prefix = (b"\0\0\0" + (b"\x01" if ip.version == 4 else b"\x04") +
                  ip.packed + struct.pack("!H", args.port))
    fam = socket.AF_INET6 if ":" in dest[0] else socket.AF_INET
    u = udp_socket(fam)
    u.connect(dest)
    skip = UDP_SOCKS_HEAD[ip.version] if args.socks else 0
    buf = bytearray(65536)
    res = {"sent": 0, "received": 0, "send_errors": 0}
    if args.dir == "up":
        pkt = prefix + b"D" + tid + bytes(max(0, args.size - 9))
        res["sent"], res["send_errors"], secs = paced_send(
            u.send, pkt, args.rate, args.size, args.seconds)
        time.sleep(0.5)  # the last datagrams on their way
        u.settimeout(0.3)
        for _ in range(20):
            u.send(prefix + b"Q" + tid)
            try:
                while True:
                    n = u.recv_into(buf)
                    if buf[skip:skip + 9] == b"R" + tid:
                        res["received"] = struct.unpack_from("!Q", buf, skip + 9)[0]
                        break
            except socket.timeout:
                continue
            break
        else:
            raise ConnectionError("no count from the UDP server")
    else:
        start = prefix + b"S" + tid + struct.pack("!dId", args.rate, args.size,
                                                  args.seconds)
        u.settimeout(0.3)
        got, end, started = 0, None, False
        deadline = time.monotonic() + args.seconds + 10
        while end is None and time.monotonic() < deadline:
            if not started:
                u.send(start)
            try:
                n = u.recv_into(buf)
            except socket.timeout:
                continue
            t = buf[skip:skip + 1]
            if t == b"d":
                got += 1
                started = True
            elif t == b"E" and buf[skip + 1:skip + 9] == tid:
                end = struct.unpack_from("!Qd", buf, skip + 9)
        if end is None:
            raise ConnectionError("the down stream did not end")
        res["sent"], secs = end
        res["received"] = got
    res["loss_pct"] = (100.0 * (res["sent"] - res["received"]) / res["sent"]
                       if res["sent"] else None)
    res["offered_bps"] = res["sent"] * args.size * 8 / secs if secs else None
    if ctl:
        ctl.close()
    print(json.dumps(res))


def paced_send(send, pkt, rate, size, seconds):
    """Sends pkt at rate bit/s (size bytes counted per datagram) for seconds,
    in bursts every 0.2 ms. Returns (sent, send errors, seconds taken)."""
    pps = rate / (size * 8.0)
    sent = errors = 0
    t0 = time.monotonic()
    end = t0 + seconds
    while True:
        now = time.monotonic()
        if now >= end:
            break
        due = int((now - t0) * pps) + 1
        while sent < due:
            try:
                send(pkt)
            except OSError:  # ENOBUFS, ECONNREFUSED: lost on the way
                errors += 1
            sent += 1
        time.sleep(0.0002)
    return sent, errors, time.monotonic() - t0


def cmd_udpserver(args):
    import threading
    fam = socket.AF_INET6 if ":" in args.bind else socket.AF_INET
    u = udp_socket(fam)
    u.bind((args.bind, args.port))
    counts, started = {}, set()
    buf = bytearray(65536)

    def stream(addr, tid, rate, size, seconds):
        pkt = b"d" + tid + bytes(max(0, size - 9))
        sent, _, secs = paced_send(lambda p: u.sendto(p, addr), pkt, rate,
                                   size, seconds)
        for _ in range(10):
            time.sleep(0.02)
            u.sendto(b"E" + tid + struct.pack("!Qd", sent, secs), addr)

    while True:
        n, addr = u.recvfrom_into(buf)
        t, tid = buf[0:1], bytes(buf[1:9])
        if t == b"D":
            counts[tid] = counts.get(tid, 0) + 1
        elif t == b"Q":
            u.sendto(b"R" + tid + struct.pack("!Q", counts.get(tid, 0)), addr)
        elif t == b"S" and tid not in started and n >= 29:
            started.add(tid)
            rate, size, seconds = struct.unpack_from("!dId", buf, 9)
            threading.Thread(target=stream, daemon=True,
                             args=(addr, tid, rate, size, seconds)).start()


def cmd_active(args):
    raise_nofile()
    req = request(args, True)
    sel = selectors.DefaultSelector()
    conns = []
    for _ in range(args.count):
        s = open_conn(args)
        s.sendall(req)
        s.setblocking(False)
        conns.append(s)
    budget = {s: 0 for s in conns}
    first = set()
    announced = False
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    tick = 0.01
    while True:
        t_end = time.monotonic() + tick
        for s in conns:  # each connection may read rate * tick a tick
            budget[s] = int(args.rate * tick) if args.rate > 0 else 1 << 30
            if s not in sel.get_map():
                sel.register(s, selectors.EVENT_READ)
        while True:
            left = t_end - time.monotonic()
            if left <= 0:
                break
            for key, _ in sel.select(timeout=left):
                s = key.fileobj
                try:
                    b = s.recv(min(budget[s], 1 << 18))
                except BlockingIOError:
                    continue
                if not b:
                    raise ConnectionError("a download ended")
                first.add(s)
                budget[s] -= len(b)
                if budget[s] <= 0:
                    sel.unregister(s)
        if not announced and len(first) == len(conns):
            print("active %d" % len(conns), flush=True)
            announced = True


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)

    def client(name):
        p = sub.add_parser(name)
        p.add_argument("--host", required=True)
        p.add_argument("--port", type=int, required=True)
        p.add_argument("--socks", help="HOST:PORT of a SOCKS5 proxy (no auth)")
        p.add_argument("--path", default="/tiny")
        return p

    p = client("conns")
    p.add_argument("--seconds", type=float, default=5)
    p.add_argument("--procs", type=int, default=2)
    p = client("churn")
    p.add_argument("--count", type=int, required=True)
    p.add_argument("--procs", type=int, default=4)
    p.add_argument("--rate", type=float, default=0,
                   help="new connections a second in all (0: no limit)")
    p.add_argument("--progress", type=int, default=0,
                   help="a progress line every this many connections "
                   "of a process (0: none)")
    p = client("keepalive")
    p.add_argument("--count", type=int, default=1000)
    p = client("reconnect")
    p.add_argument("--count", type=int, default=200)
    p.add_argument("--sport", type=int, default=40000)
    p = client("stall")
    p.add_argument("--upload", action="store_true")
    p = sub.add_parser("sinkserver")
    p.add_argument("--bind", required=True)
    p.add_argument("--port", type=int, required=True)
    p = sub.add_parser("hold")
    p.add_argument("--host", required=True)
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--count", type=int, required=True)
    p.add_argument("--batch", type=int, default=200)
    p.add_argument("--stall", type=float, default=20,
                   help="give up after this many seconds without progress")
    p = sub.add_parser("holdserver")
    p.add_argument("--bind", required=True)
    p.add_argument("--port", type=int, required=True)
    p = client("active")
    p.add_argument("--count", type=int, required=True)
    p.add_argument("--rate", type=float, default=0,
                   help="bytes a second per connection (0: as fast as "
                   "they come)")
    p = client("udp")
    p.add_argument("--dir", choices=["up", "down"], required=True)
    p.add_argument("--rate", type=float, default=1e9, help="bit/s offered")
    p.add_argument("--size", type=int, default=1200,
                   help="datagram payload, bytes (at least 9)")
    p.add_argument("--seconds", type=float, default=5)
    p = sub.add_parser("udpserver")
    p.add_argument("--bind", required=True)
    p.add_argument("--port", type=int, required=True)
    args = ap.parse_args()
    if args.cmd == "udp" and not 9 <= args.size <= 65000:
        ap.error("udp: --size must be from 9 to 65000")
    # SIGTERM ends us through SystemExit like SIGINT's KeyboardInterrupt,
    # so exit handlers run (the conns workers go with us).
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    {"conns": cmd_conns, "churn": cmd_churn, "keepalive": cmd_keepalive, "hold": cmd_hold,
     "holdserver": cmd_holdserver, "reconnect": cmd_reconnect,
     "stall": cmd_stall, "sinkserver": cmd_sinkserver, "active": cmd_active,
     "udp": cmd_udp, "udpserver": cmd_udpserver}[args.cmd](args)


if __name__ == "__main__":
    main()
