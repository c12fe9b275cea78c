#!/usr/bin/env python3
"""A protect_path server as shadowsocks-android's VpnService runs one
(ProtectWorker in bg/VpnService.kt): per connection, read one byte with
one descriptor attached (SCM_RIGHTS), answer one byte.

What it answers is read from MODE_FILE at each connection: "0" or "1"
(that byte), "never" (keep the connection open, answer nothing). Each
descriptor received is checked and logged, one line to LOG:

  fd <ok|bad> type=<stream|dgram|...> family=<inet|inet6|...> <notconnected|connected> answer=<mode>

ok: a TCP or UDP socket (SOCK_STREAM or SOCK_DGRAM, AF_INET or AF_INET6)
whose getpeername() fails with ENOTCONN, i.e. not connected yet. The
received descriptor is closed after the check.
"""
import argparse
import errno
import os
import socket
import threading

TYPES = {socket.SOCK_STREAM: "stream", socket.SOCK_DGRAM: "dgram"}
FAMILIES = {socket.AF_INET: "inet", socket.AF_INET6: "inet6"}


def check(fd):
    s = socket.socket(fileno=fd)
    try:
        typ = s.getsockopt(socket.SOL_SOCKET, socket.SO_TYPE)
        fam = s.getsockopt(socket.SOL_SOCKET, socket.SO_DOMAIN)
        try:
            s.getpeername()
            conn = "connected"
        except OSError as e:
            conn = "notconnected" if e.errno == errno.ENOTCONN else "error"
        good = typ in TYPES and fam in FAMILIES and conn == "notconnected"
        return "%s type=%s family=%s %s" % ("ok" if good else "bad",
                                            TYPES.get(typ, str(typ)),
                                            FAMILIES.get(fam, str(fam)), conn)
    finally:
        s.close()


def handle(c, args, log, lock):
    with c:
        mode = open(args.mode_file).read().strip()
        msg, fds, _, _ = socket.recv_fds(c, 1, 4)
        with lock:
            if len(msg) != 1 or len(fds) != 1:
                log.write("fd bad bytes=%d fds=%d answer=%s\n"
                          % (len(msg), len(fds), mode))
            else:
                log.write("fd %s answer=%s\n" % (check(fds[0]), mode))
            for fd in fds[1:]:
                os.close(fd)
        if mode == "never":
            c.recv(1)  # until tun2socks gives up and closes
            return
        try:
            c.sendall(bytes([int(mode)]))
        except OSError:
            pass  # tun2socks gave up first


def main():
    p = argparse.ArgumentParser()
    p.add_argument("path")
    p.add_argument("mode_file")
    p.add_argument("log")
    args = p.parse_args()
    if os.path.exists(args.path):
        os.unlink(args.path)
    srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    srv.bind(args.path)
    # tun2socks drops to "nobody" after start: it must be able to connect
    os.chmod(args.path, 0o666)
    srv.listen(64)
    log = open(args.log, "a", buffering=1)
    lock = threading.Lock()
    print("listening", flush=True)
    while True:
        c, _ = srv.accept()
        threading.Thread(target=handle, args=(c, args, log, lock),
                         daemon=True).start()


if __name__ == "__main__":
    main()
