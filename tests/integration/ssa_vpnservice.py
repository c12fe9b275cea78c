#!/usr/bin/env python3
"""Plays shadowsocks-android's VpnService against tun2socks (test_ssa.sh).

Run inside the device namespace, as the app would be: it establishes the
TUN (addresses and routes as VpnService.Builder sets them), serves
protect_path (byte 0 for every descriptor), runs tun2socks from its
scratch directory with the app's exact command line, and hands the TUN
descriptor over sock_path with the app's retry schedule (sendFd: 50 ms *
2^n before attempt n, 7 attempts). Then it checks, in order:

  TCP, UDP and DNS (--dnsgw) through the first descriptor;
  bad sock_path peers: each one error line, no descriptor leaked, still
  listening;
  the app reconnecting to the running process with a new TUN;
  SIGTERM with sessions open: exit within 500 ms, sock_path unlinked;
  a restart (as GuardedProcessPool does) with the descriptor handed again;
  SIGTERM while tun2socks still waits for a descriptor.

Every check prints "ok: ..."; the first failure prints "FAIL: ..." and
exits 1. Only the Python standard library.
"""
import argparse
import fcntl
import os
import signal
import socket
import struct
import subprocess
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
TOOL = os.path.join(HERE, "tcptool.py")

# VpnService.kt's constants
VPN_MTU = 1500
VLAN4_CLIENT, VLAN4_ROUTER = "172.19.0.1", "172.19.0.2"
VLAN6_CLIENT, VLAN6_ROUTER = "fdfe:dcba:9876::1", "fdfe:dcba:9876::2"
IFF_TUN, IFF_NO_PI = 0x0001, 0x1000
TUNSETIFF = 0x400454CA
STOP_LIMIT_S = 0.5  # issue 15: stop on SIGTERM within 500 ms


class Fail(Exception):
    pass


def check(cond, what):
    if not cond:
        raise Fail(what)
    print("ok: " + what, flush=True)


def ip(*args):
    subprocess.run(["ip"] + list(args), check=True)


def establish(name, routes):
    """VpnService.Builder.establish(): a TUN with the app's addresses and
    routes; returns its descriptor."""
    fd = os.open("/dev/net/tun", os.O_RDWR | os.O_CLOEXEC)
    fcntl.ioctl(fd, TUNSETIFF, struct.pack("16sH", name.encode(),
                                           IFF_TUN | IFF_NO_PI))
    ip("link", "set", name, "mtu", str(VPN_MTU))
    ip("addr", "add", VLAN4_CLIENT + "/30", "dev", name)
    ip("-6", "addr", "add", VLAN6_CLIENT + "/126", "dev", name, "nodad")
    ip("link", "set", name, "up")
    for r in routes:
        ip("-6" if ":" in r else "-4", "route", "replace", r, "dev", name)
    return fd


class ProtectServer(threading.Thread):
    """ProtectWorker: one byte and a descriptor in, byte 0 (protected) out."""

    def __init__(self, path):
        super().__init__(daemon=True)
        self.requests = 0
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        # as the app's listener: a socket file left by an earlier run goes
        if os.path.exists(path):
            os.unlink(path)
        self.sock.bind(path)
        # the app and its tun2socks share a uid; here tun2socks runs as
        # nobody (dropped from root), which needs write access to connect
        os.chmod(path, 0o666)
        self.sock.listen(16)

    def run(self):
        while True:
            c, _ = self.sock.accept()
            with c:
                try:
                    msg, fds, _, _ = socket.recv_fds(c, 1, 4)
                except OSError:
                    continue
                for fd in fds:
                    os.close(fd)
                if msg and len(fds) == 1:
                    self.requests += 1
                    c.sendall(b"\0")


def send_fd(path, fd):
    """VpnService.sendFd: delay(50 ms << tries), connect, send the fd with
    one byte (42), close; 7 attempts."""
    tries = 0
    while True:
        time.sleep((50 << tries) / 1000.0)
        try:
            with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
                s.connect(path)
                socket.send_fds(s, [bytes([42])], [fd])
            return tries + 1
        except OSError:
            if tries > 5:
                raise
            tries += 1


class Tun2socks:
    """The process as GuardedProcessPool runs it: cwd the app's directory."""

    started = []  # every one started, killed at exit if still running

    def __init__(self, a):
        self.a = a
        self.log = os.path.join(a.scratch, "t2s.log")
        self.proc = None

    def cmd(self):
        return [self.a.t2s,
                "--netif-ipaddr", VLAN4_ROUTER,
                "--socks-server-addr", "127.0.0.1:%d" % self.a.socks_port,
                "--tunmtu", str(VPN_MTU),
                "--sock-path", "sock_path",
                "--dnsgw", "127.0.0.1:%d" % self.a.dns_port,
                "--loglevel", "warning",
                "--netif-ip6addr", VLAN6_ROUTER,
                "--enable-udprelay"] + self.a.extra

    def start(self):
        logf = open(self.log, "a")
        self.proc = subprocess.Popen(self.cmd(), cwd=self.a.scratch,
                                     stdout=logf, stderr=logf)
        logf.close()
        Tun2socks.started.append(self)

    def stop_timed(self):
        """SIGTERM; seconds until the process is gone."""
        t = time.monotonic()
        self.proc.send_signal(signal.SIGTERM)
        try:
            rc = self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise Fail("tun2socks still running 10 s after SIGTERM")
        return time.monotonic() - t, rc

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def fds(self):
        return len(os.listdir("/proc/%d/fd" % self.proc.pid))

    def log_text(self):
        with open(self.log) as f:
            return f.read()


def wait_until(pred, secs):
    end = time.monotonic() + secs
    while time.monotonic() < end:
        if pred():
            return True
        time.sleep(0.05)
    return pred()


def tool(*args, timeout=60):
    r = subprocess.run([sys.executable, TOOL] + list(args), timeout=timeout,
                       capture_output=True, text=True)
    return r.stdout.strip()


def check_traffic(a, what):
    got = tool("download", a.server4, "8001")
    check(got == a.want_down, "%s: TCP download through ss-local (%s)"
          % (what, got[:16]))
    got = tool("udpsend", "%s:7001" % a.server4, "--size", "1200")
    check(got.startswith("same 1200 %s:7001" % a.server4),
          "%s: UDP echo through ss-local -u (%s)" % (what, got))


def check_dns(a, what):
    r = subprocess.run(["dig", "+short", "+time=2", "+tries=2",
                        "@" + VLAN4_ROUTER, "example.test", "A"],
                       capture_output=True, text=True, timeout=20)
    got = r.stdout.strip()
    check(got == a.server4, "%s: DNS to %s answered through --dnsgw (%s)"
          % (what, VLAN4_ROUTER, got))


def bad_peer(path, kind):
    """One misbehaving sock_path client."""
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(path)
    if kind == "close":
        pass
    elif kind == "silent":
        time.sleep(1.5)
    elif kind == "two":
        tun = os.open("/dev/net/tun", os.O_RDWR)  # not attached: any fd
        r, w = os.pipe()
        socket.send_fds(s, [b"*"], [r, w])
        for fd in (tun, r, w):
            os.close(fd)
    elif kind == "notun":
        r, w = os.pipe()
        socket.send_fds(s, [b"*"], [r])
        os.close(r)
        os.close(w)
    elif kind == "garbage":
        s.sendall(b"GET / HTTP/1.0\r\n\r\n")
    s.close()


BAD_PEERS = [
    ("close", "the peer closed without sending a descriptor"),
    ("silent", "no descriptor within 1000 ms"),
    ("two", "2 descriptors in one message, expected one"),
    ("notun", "the descriptor is not a TUN device"),
    ("garbage", "bytes without a descriptor"),
]


def check_bad_peers(a, t2s, path):
    before = t2s.fds()
    for kind, line in BAD_PEERS:
        n = t2s.log_text().count(line)
        bad_peer(path, kind)
        check(wait_until(lambda: t2s.log_text().count(line) > n, 5),
              "bad peer '%s': one error line '%s'" % (kind, line))
    check(t2s.alive(), "tun2socks alive after the bad peers")
    check(wait_until(lambda: t2s.fds() == before, 3),
          "no descriptor left behind by the bad peers (%d open)" % t2s.fds())


def check_reconnect(a, t2s, path, old_fd, old_name):
    """The app sends a new TUN to the running process: it switches to it
    and closes the old one (the old device goes away once the app closes
    its own descriptor too)."""
    new_fd = establish("ssa1", [])
    send_fd(path, new_fd)
    os.close(old_fd)
    check(wait_until(lambda: subprocess.run(
        ["ip", "link", "show", old_name], capture_output=True).returncode
        != 0, 5), "the replaced TUN descriptor closed by tun2socks")
    for r in a.routes:
        ip("-6" if ":" in r else "-4", "route", "replace", r, "dev", "ssa1")
    check(t2s.alive(), "tun2socks alive after the new descriptor")
    check_traffic(a, "new descriptor")
    check_dns(a, "new descriptor")
    return new_fd


def check_sigterm(a, t2s, path, what):
    holders = [socket.create_connection((a.server4, 8001), timeout=10)
               for _ in range(8)]
    time.sleep(0.3)  # the sessions are set up, data queued
    secs, rc = t2s.stop_timed()
    for h in holders:
        h.close()
    check(secs < STOP_LIMIT_S, "%s: exit %.3f s after SIGTERM (limit %.1f s)"
          % (what, secs, STOP_LIMIT_S))
    check(rc == 0, "%s: exit code %d" % (what, rc))
    check(not os.path.exists(path), "%s: sock_path unlinked at exit" % what)


def run(a):
    path = os.path.join(a.scratch, "sock_path")
    protect = ProtectServer(os.path.join(a.scratch, "protect_path"))
    protect.start()
    fd = establish("ssa0", a.routes)
    t2s = Tun2socks(a)
    t2s.start()
    tries = send_fd(path, fd)
    check(True, "descriptor handed over sock_path (attempt %d)" % tries)
    check_traffic(a, "first descriptor")
    check_dns(a, "first descriptor")
    check_bad_peers(a, t2s, path)
    check_traffic(a, "after the bad peers")
    fd = check_reconnect(a, t2s, path, fd, "ssa0")
    check_sigterm(a, t2s, path, "sessions open")

    t2s.start()  # GuardedProcessPool's restart, then onRestartCallback
    send_fd(path, fd)
    check_traffic(a, "restarted process")

    secs, rc = t2s.stop_timed()
    check(secs < STOP_LIMIT_S, "stopped again: %.3f s" % secs)
    t2s.start()
    check(wait_until(lambda: os.path.exists(path), 5),
          "waiting for a descriptor: sock_path created")
    secs, rc = t2s.stop_timed()
    check(secs < STOP_LIMIT_S and rc == 0,
          "SIGTERM while waiting for a descriptor: exit %d in %.3f s"
          % (rc, secs))
    check(not os.path.exists(path), "sock_path unlinked after the wait")
    print("protect_path requests: %d" % protect.requests)
    if a.want_protect:
        check(protect.requests > 0, "sockets protected through protect_path")
    os.close(fd)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--t2s", required=True)
    p.add_argument("--scratch", required=True)
    p.add_argument("--socks-port", type=int, required=True)
    p.add_argument("--dns-port", type=int, required=True)
    p.add_argument("--server4", required=True)
    p.add_argument("--want-down", required=True)
    p.add_argument("--route", dest="routes", action="append", default=[])
    p.add_argument("--want-protect", action="store_true")
    p.add_argument("extra", nargs="*", help="more tun2socks arguments")
    a = p.parse_args()
    try:
        run(a)
    except Fail as e:
        print("FAIL: %s" % e, flush=True)
        return 1
    finally:
        # also on any other exception: no tun2socks outlives the harness
        for t in Tun2socks.started:
            if t.alive():
                t.proc.kill()
                t.proc.wait()
    return 0


if __name__ == "__main__":
    sys.exit(main())
