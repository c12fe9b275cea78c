#!/usr/bin/env python3
"""A misbehaving SOCKS4 or HTTP CONNECT proxy for test_proxy_bad_input.sh,
and a working SOCKS4a one for test_socks4.sh (Debian's danted has no
SOCKS4a).

    fake_proxy.py --bind ADDR --port PORT --mode MODE

Per connection: reads the client's request (a SOCKS4/4a request up to its
last NUL, or an HTTP request up to its blank line), answers what MODE
says, then closes (or, for the "hold" modes, keeps the connection open
until the client goes). Every request line read is logged to stdout.
Mode s4a-relay is a real SOCKS4/4a server: it resolves the name (or takes
the address), connects, answers 90 and relays both ways, half-closes
included; it logs "connect NAME PORT".
"""
import argparse
import socket
import threading

BANNER = b"BANNER-from-the-server\n"

REPLIES = {
    # SOCKS4: VN CD PORT IP
    "s4-truncated": b"\x00\x5a\x00",
    "s4-version": b"\x05\x5a\x00\x00\x00\x00\x00\x00",
    "s4-code": b"\x00\x59\x00\x00\x00\x00\x00\x00",
    "s4-rejected": b"\x00\x5b\x00\x00\x00\x00\x00\x00",
    "s4-banner": b"\x00\x5a\x00\x00\x00\x00\x00\x00" + BANNER,
    # HTTP CONNECT
    "http-truncated": b"HTTP/1.1 200 OK\r\nVia: x\r\n",
    "http-noblank": b"HTTP/1.1 200 OK\r\nVia: x\r\n",
    "http-oversized": b"HTTP/1.1 200 OK\r\nX-Big: " + b"a" * 10000 + b"\r\n\r\n",
    "http-version": b"SOCKS/5 200 OK\r\n\r\n",
    "http-403": b"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n",
    "http-banner": b"HTTP/1.1 200 Connection established\r\n\r\n" + BANNER,
}
HOLD = {"http-noblank", "s4-banner", "http-banner"}


def read_request(c, mode):
    buf = b""
    while True:
        b = c.recv(4096)
        if not b:
            return buf
        buf += b
        if mode.startswith("http") and b"\r\n\r\n" in buf:
            return buf
        # SOCKS4: 8 bytes, user id NUL, and for 4a (0.0.0.x) a name NUL
        if mode.startswith("s4") and len(buf) > 8:
            want = 2 if buf[4:7] == b"\0\0\0" and buf[7] else 1
            if buf[8:].count(b"\0") >= want:
                return buf


def pump(src, dst):
    """Copy src to dst until EOF, then pass the half-close on."""
    try:
        while True:
            b = src.recv(65536)
            if not b:
                break
            dst.sendall(b)
        dst.shutdown(socket.SHUT_WR)
    except OSError:
        pass


def relay4a(c, req):
    port = int.from_bytes(req[2:4], "big")
    rest = req[8:].split(b"\0")
    if req[4:7] == b"\0\0\0" and req[7]:
        host = rest[1].decode()
    else:
        host = socket.inet_ntoa(req[4:8])
    print("connect %s %d" % (host, port), flush=True)
    try:
        u = socket.create_connection((host, port), timeout=10)
    except OSError:
        c.sendall(b"\x00\x5b" + b"\0" * 6)
        return
    u.settimeout(None)
    c.sendall(b"\x00\x5a" + b"\0" * 6)
    t = threading.Thread(target=pump, args=(u, c), daemon=True)
    t.start()
    pump(c, u)
    t.join()
    u.close()


def handle(c, mode):
    if mode == "s4a-relay":
        with c:
            relay4a(c, read_request(c, mode))
        return
    with c:
        req = read_request(c, mode)
        print("request %r" % req.split(b"\r\n")[0][:80], flush=True)
        c.sendall(REPLIES[mode])
        if mode in HOLD:
            while c.recv(4096):
                pass


def main():
    a = argparse.ArgumentParser()
    a.add_argument("--bind", required=True)
    a.add_argument("--port", type=int, required=True)
    a.add_argument("--mode", required=True,
                   choices=sorted(REPLIES) + ["s4a-relay"])
    args = a.parse_args()
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((args.bind, args.port))
    s.listen(64)
    while True:
        c, _ = s.accept()
        threading.Thread(target=handle, args=(c, args.mode), daemon=True).start()


if __name__ == "__main__":
    main()
