#!/usr/bin/env python3
"""A SOCKS5 server that chooses GSSAPI (method 1) and then misbehaves, for
tests/integration/test_gssapi.sh. It reads the client's greeting and its
first context token, then answers per MODE:

  neverends  a token header announcing 65535 bytes, 10 of them, then
             silence (the client must give up at its handshake timeout)
  badver     a message with version 5 instead of 1
  abort      the RFC 1961 abort message (ver 1, mtyp 0xff)
  garbage    a well-framed token of 300 bytes that is no GSS token
  close      closes the connection right after the method choice
"""
import argparse
import socket
import threading
import time


def read_exact(c, n):
    buf = b""
    while len(buf) < n:
        part = c.recv(n - len(buf))
        if not part:
            raise EOFError
        buf += part
    return buf


def serve(c, mode):
    with c:
        try:
            head = read_exact(c, 2)
            read_exact(c, head[1])
            c.sendall(b"\x05\x01")
            if mode == "close":
                return
            hdr = read_exact(c, 4)
            read_exact(c, (hdr[2] << 8) | hdr[3])
            if mode == "neverends":
                c.sendall(b"\x01\x01\xff\xff" + b"x" * 10)
                time.sleep(60)
            elif mode == "badver":
                c.sendall(b"\x05\x01\x00\x02ab")
            elif mode == "abort":
                c.sendall(b"\x01\xff")
            elif mode == "garbage":
                c.sendall(b"\x01\x01\x01\x2c" + bytes(range(256)) + b"z" * 44)
            time.sleep(1)
        except (EOFError, OSError):
            pass


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--host", required=True)
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("mode", choices=["neverends", "badver", "abort",
                                     "garbage", "close"])
    a = ap.parse_args()
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((a.host, a.port))
    s.listen(16)
    while True:
        c, _ = s.accept()
        threading.Thread(target=serve, args=(c, a.mode), daemon=True).start()


if __name__ == "__main__":
    main()
