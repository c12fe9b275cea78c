#!/usr/bin/env python3
"""Writes the seed corpora of fuzz_packet and fuzz_upstream.

    tests/fuzz/gen_seeds.py [--pending] [tests/fuzz/corpus]

--pending adds the scenarios of known open defects (pending_packet_seeds).

The input formats are described at the top of fuzz_packet.c and
fuzz_upstream.c; each seed here is one scenario that reaches a state the
fuzzer should start from (handshakes done, half-closes, fragments...).
"""
import os
import struct
import sys

SYN, FIN, RST, PSH, ACK = 0x02, 0x01, 0x04, 0x08, 0x10

# ---- fuzz_packet ----


def hdr(dns=0, pipeline=0, auth=0, mtu=0, tiny=0, manual=0, rep=0,
        auto_ack=1, bnd=0, udp_rep=0, idle=0, early=0):
    h0 = dns | pipeline << 2 | auth << 3 | mtu << 4 | tiny << 7
    h2 = 0x10 | rep if rep else early
    h3 = auto_ack | bnd << 1 | idle << 3 | \
        ((udp_rep + 8) << 4 if udp_rep else 0)
    return bytes([h0, manual, h2, h3])


def tcp(k, flags, seq=0, length=0, wnd=0xff, ack=0, opts=0):
    return bytes([k << 4 | 0, flags, seq, length, wnd, ack & 0xff, opts])


def udp(k, dsel, payload):
    return bytes([k << 4 | 3, dsel, len(payload)]) + payload


def raw(data, fix=0):
    return bytes([4 | fix]) + struct.pack("<H", len(data)) + data


def icmp(k, typ, code, body):
    return bytes([k << 4 | 6, typ, code, len(body)]) + body


def frag(k, total16, ident, frags):
    out = bytes([k << 4 | 7, len(frags), total16, ident])
    for off8, len8, last in frags:
        out += bytes([off8, len8, last])
    return out


def psend(conn, data):
    return bytes([conn << 4 | 8, len(data)]) + data


def pbulk(conn, n):
    return bytes([conn << 4 | 9, n])


def pctl(conn, action, arg=0):
    """0 shut down, 1 close, 2 reading on/off (arg), 6 refuse (arg)."""
    out = bytes([conn << 4 | 10, action])
    return out + bytes([arg]) if action & 7 in (2, 3, 6, 7) else out


def relay(k, sel, port, payload):
    return bytes([k << 4 | 11, sel, port, len(payload)]) + payload


def advance(quarter_s, mult=0):
    return bytes([mult << 4 | 12, quarter_s - 1])


def flow(k, sel, port=0):
    return bytes([k << 4 | 14, sel, port])


def dns_query(name=b"example.com", qtype=1):
    q = b"".join(bytes([len(p)]) + p for p in name.split(b".")) + b"\0"
    return struct.pack(">HHHHHH", 0x1234, 0x0100, 1, 0, 0, 0) + q + \
        struct.pack(">HH", qtype, 1)


# MSS 4088 and window scale 1
OPTS = 0x13


def handshake(k=0):
    return tcp(k, SYN, opts=OPTS)


def packet_seeds():
    s = {}
    s["tcp4-relay-close"] = hdr() + handshake(0) + \
        tcp(0, PSH | ACK, length=100) + pbulk(0, 40) + \
        tcp(0, FIN | ACK) + pctl(0, 0) + advance(60)
    s["tcp6-relay-close"] = hdr() + handshake(1) + \
        tcp(1, PSH | ACK, length=200) + pbulk(0, 10) + pctl(0, 0) + \
        tcp(1, FIN | ACK) + advance(60)
    s["tcp4-server-first-timewait"] = hdr() + handshake(0) + \
        pbulk(0, 5) + pctl(0, 0) + tcp(0, PSH | ACK, length=50) + \
        tcp(0, FIN | ACK) + advance(200) + advance(200)
    s["tcp4-app-stalls"] = hdr(auto_ack=0, manual=0x80) + handshake(0) + \
        tcp(0, ACK) + pbulk(0, 255) + pbulk(0, 255) + pctl(0, 0) + \
        advance(40) + tcp(0, ACK, wnd=0) + advance(40) + tcp(0, FIN | ACK)
    s["tcp4-oos"] = hdr() + handshake(0) + \
        tcp(0, PSH | ACK, seq=0x10, length=40) + \
        tcp(0, PSH | ACK, seq=0x20, length=40) + \
        tcp(0, PSH | ACK, seq=0x03, length=100) + \
        tcp(0, PSH | ACK, length=0xc2) + tcp(0, PSH | ACK, seq=0x85, length=60)
    s["tcp4-rst"] = hdr() + handshake(0) + tcp(0, PSH | ACK, length=10) + \
        tcp(0, RST | ACK) + handshake(2) + tcp(2, RST)
    s["tcp4-idle-timeout"] = hdr(idle=1) + handshake(0) + \
        tcp(0, PSH | ACK, length=10) + advance(200) + advance(40)
    s["tcp4-connect-timeout"] = hdr(manual=1) + handshake(0) + advance(60)
    s["tcp4-timewait-idle"] = hdr(idle=1) + handshake(0) + pctl(0, 2, 0) + \
        pbulk(0, 50) + pctl(0, 0) + tcp(0, PSH | ACK, length=20) + \
        tcp(0, FIN | ACK) + advance(200) + advance(200)
    s["connect-refused"] = hdr() + pctl(0, 6, 1) + handshake(0) + \
        udp(0, 4, b"x") + udp(0, 0, dns_query()) + pctl(0, 6, 0) + handshake(2)
    s["tcp4-early-data"] = hdr(early=3) + handshake(0) + \
        tcp(0, PSH | ACK, length=5)
    s["tcp4-zero-window"] = hdr() + handshake(0) + tcp(0, ACK, wnd=0) + \
        pbulk(0, 255) + pbulk(0, 255) + advance(20) + tcp(0, ACK) + \
        advance(8)
    target6 = bytes([0x20, 1, 0xd, 0xb8] + [0] * 11 + [0x10])
    s["icmp6-nd"] = hdr() + \
        icmp(9, 135, 0, bytes(4) + target6 + bytes([1, 1, 2, 0, 0, 0, 0, 1])) + \
        icmp(9, 136, 0, b"\x60" + bytes(3) + target6 +
             bytes([2, 1, 2, 0, 0, 0, 0, 2])) + \
        icmp(9, 134, 0, bytes([64, 0, 0, 30]) + bytes(8) +
             bytes([3, 4, 64, 0xc0, 0, 0, 1, 0, 0, 0, 0, 0x80, 0, 0, 0, 0]) +
             target6) + \
        icmp(9, 137, 0, bytes(4) + target6 + target6)
    # issue 13 defect 1 (a TIME_WAIT pcb used after lwIP freed it): the
    # server closes first, the app sends data and FIN while the proxy does
    # not read, TIME_WAIT ends, then the proxy reads
    s["tcp4-timewait-drain"] = hdr(manual=0x80) + handshake(0) + \
        pctl(0, 2, 0) + \
        pctl(0, 0) + tcp(0, PSH | ACK, length=0xf0) + \
        tcp(0, PSH | ACK, length=0xf0) + tcp(0, FIN | ACK) + \
        advance(80) + pctl(0, 2, 1) + advance(8)
    s["udp-idle"] = hdr() + udp(0, 4, b"hello") + advance(255, 1)
    s["tcp4-refused"] = hdr(rep=5) + handshake(0) + advance(4)
    s["tcp4-manual-socks"] = hdr(manual=1) + handshake(0) + \
        psend(0, b"\x05\x00") + \
        psend(0, b"\x05\x00\x00\x01\x00\x00\x00\x00\x00\x00") + \
        tcp(0, PSH | ACK, length=30) + psend(0, b"HTTP/1.0 200 OK\r\n\r\n") + \
        pctl(0, 1)
    s["tcp4-auth-pipeline"] = hdr(auth=1, pipeline=1) + handshake(0) + \
        tcp(0, PSH | ACK, length=20) + pbulk(0, 3)
    s["tcp-limit"] = hdr(tiny=1) + b"".join(handshake(k) for k in range(6))
    s["tcp6-mtu1280-big"] = hdr(mtu=1) + handshake(1) + \
        tcp(1, PSH | ACK, length=0xc8) + pbulk(0, 200)
    s["tcp4-mtu65535"] = hdr(mtu=4) + tcp(0, SYN, opts=0xf3) + \
        tcp(0, PSH | ACK, length=0xff) + pbulk(0, 255)
    s["tcp4-fake-ip"] = hdr(dns=2) + udp(0, 3, dns_query()) + \
        flow(0, 1) + handshake(0) + tcp(0, PSH | ACK, length=10)
    s["tcp6-fake-ip"] = hdr(dns=2) + udp(1, 3, dns_query(qtype=28)) + \
        flow(1, 0x81) + handshake(1) + tcp(1, PSH | ACK, length=10)
    s["udp4-relay"] = hdr() + udp(0, 4, b"hello") + relay(0, 0, 1, b"world") + \
        relay(0, 2, 0, b"name") + relay(0, 3, 0, b"junk")
    s["udp6-relay"] = hdr(bnd=2) + udp(1, 4, b"hello6") + \
        relay(0, 1, 1, b"world6") + relay(0, 0x40, 1, b"frag")
    s["udp-relay-proxy-addr"] = hdr(bnd=1) + udp(0, 8, b"x") + \
        relay(0, 0, 2, b"y")
    s["udp-relay-name-bnd"] = hdr(bnd=3) + udp(0, 8, b"x")
    s["udp-unsupported"] = hdr(udp_rep=7) + udp(0, 0, dns_query()) + \
        udp(0, 4, b"other")
    s["udp-fakeip-reply"] = hdr(dns=2) + udp(0, 3, dns_query()) + \
        flow(0, 1) + udp(0, 1 | 4 << 2, b"to-fake") + \
        relay(0, 0, 4, b"from-real") + relay(0, 2, 4, b"from-name")
    s["dns-tcp"] = hdr(dns=1) + udp(0, 0, dns_query()) + \
        psend(0, b"\x00\x1d" + dns_query()[:2] + b"\x81\x80" +
              dns_query()[4:])
    s["frag4"] = hdr() + frag(0, 20, 7, [(0, 7, 0), (24, 16, 1), (8, 15, 0)])
    s["frag4-overlap"] = hdr() + frag(0, 10, 8, [(0, 9, 0), (4, 9, 0),
                                                 (8, 9, 1), (0, 3, 0)])
    s["frag6"] = hdr() + frag(1, 12, 9, [(8, 16, 1), (0, 7, 0)])
    s["frag6-dns"] = hdr() + frag(5, 3, 10, [(0, 2, 0), (3, 9, 1)])
    s["icmp4-echo"] = hdr() + icmp(0, 8, 0, b"\x00\x01\x00\x01ping")
    s["icmp6-echo-ns"] = hdr() + icmp(1, 128, 0, b"\x00\x01\x00\x01ping") + \
        icmp(1, 135, 0, bytes(20)) + icmp(1, 137, 0, bytes(36))
    s["icmp4-unreach"] = hdr() + handshake(0) + \
        icmp(0, 3, 3, bytes(4) + bytes([0x45]) + bytes(27))
    ip4_opts = bytes([0x46, 0, 0, 0, 0, 1, 0, 0, 64, 17, 0, 0, 198, 18, 0, 1,
                      198, 19, 0, 10, 1, 1, 1, 0, 0x75, 0x30, 0x1b, 0x59, 0,
                      8, 0, 0])
    s["raw4-options"] = hdr() + raw(ip4_opts, fix=1) + raw(b"\x45" + bytes(30))
    ip6_hbh = bytes([0x60, 0, 0, 0, 0, 16, 0, 64]) + \
        bytes([0xfd] + [0] * 14 + [1]) + \
        bytes([0x20, 1, 0xd, 0xb8] + [0] * 11 + [0x10]) + \
        bytes([17, 0, 1, 4, 0, 0, 0, 0]) + bytes([0x75, 0x30, 0, 7, 0, 8, 0, 0])
    s["raw6-hop-by-hop"] = hdr() + raw(ip6_hbh, fix=1)
    s["garbage"] = hdr() + raw(b"\x60" + bytes(7)) + raw(b"\xff" * 64) + \
        raw(b"")
    return s

def pending_packet_seeds():
    """Scenarios of known open defects: they fail until the defect is
    fixed, so they are written only with --pending. None open today."""
    return {}

# ---- fuzz_upstream ----


def upstream_seeds():
    s = {}
    ok4 = b"\x05\x00\x00\x01\x7f\x00\x00\x01\x23\x28"
    s["connect-ok"] = bytes([0, 0]) + b"\x05\x00" + ok4
    s["connect-auth"] = bytes([0x02, 0x31]) + b"\x05\x02" + b"\x01\x00" + ok4
    s["connect-pipeline-extra"] = bytes([0x04, 0x11]) + b"\x05\x00" + ok4 + \
        b"server speaks first"
    s["connect-refused"] = bytes([0, 0]) + b"\x05\x00\x05\x05\x00\x01" + \
        bytes(6)
    s["connect-name"] = bytes([0x20, 0x22]) + b"\x05\x00\x05\x00\x00\x03" + \
        b"\x0bexample.com\x00\x50"
    s["udp-associate"] = bytes([0x08, 0x12]) + b"\x05\x00" + ok4
    s["connect-v6"] = bytes([0x10, 0x13]) + b"\x05\x00\x05\x00\x00\x04" + \
        bytes(15) + b"\x01\x00\x50"
    s["no-method"] = bytes([0, 0]) + b"\x05\xff"
    s["auth-fail"] = bytes([0x02, 0]) + b"\x05\x02\x01\x01"
    s["eof"] = bytes([0, 0]) + b"\x05"
    s["bad-version"] = bytes([0, 0]) + b"\x04\x00"
    # bits 6-7 of byte 0: socks4, socks4a, http (CONNECT only)
    g4 = b"\x00\x5a" + bytes(6)
    s["socks4-ok"] = bytes([0x40, 0x11]) + g4 + b"banner"
    s["socks4-rejected"] = bytes([0x40, 0]) + b"\x00\x5b" + bytes(6)
    s["socks4a-name"] = bytes([0xa2, 0x12]) + g4
    s["http-ok"] = bytes([0xc0, 0x13]) + \
        b"HTTP/1.1 200 Connection established\r\n\r\nbanner"
    s["http-auth-v6"] = bytes([0xd2, 0x22]) + \
        b"HTTP/1.0 200 OK\r\nVia: 1.1 squid\r\n\r\n"
    s["http-407"] = bytes([0xc2, 0]) + \
        b"HTTP/1.1 407 Proxy Authentication Required\r\n\r\n"
    s["http-no-blank-line"] = bytes([0xc0, 0x11]) + b"HTTP/1.1 200 OK\r\nX: y\r\n"
    # relay mode: bit 0 of byte 0; then the BND of the UDP ASSOCIATE reply,
    # then datagrams
    d4 = b"\x00\x00\x00\x01\xc6\x13\x00\x0a\x00\x35" + b"answer"
    d6 = b"\x00\x00\x00\x04\x20\x01\x0d\xb8" + bytes(7) + b"\x10\x1b\x59" + \
        b"v6"
    dn = b"\x00\x00\x00\x03\x0bexample.com\x1b\x59" + b"name"
    s["relay-v4"] = bytes([0x01, 0x00]) + bytes([len(d4)]) + d4 + \
        bytes([len(dn)]) + dn
    s["relay-v6-app"] = bytes([0x03, 0x00]) + bytes([len(d6)]) + d6 + \
        bytes([len(d4)]) + d4
    s["relay-fakeip"] = bytes([0x05, 0x00]) + bytes([len(dn)]) + dn + \
        bytes([len(d4)]) + d4
    s["relay-frag-short"] = bytes([0x01, 0x00]) + b"\x04\x00\x00\x01\x01" + \
        b"\x03\x00\x00\x00"
    return s


def main():
    args = [a for a in sys.argv[1:] if a != "--pending"]
    root = args[0] if args else os.path.join(
        os.path.dirname(os.path.abspath(__file__)), "corpus")
    packet = packet_seeds()
    if "--pending" in sys.argv[1:]:
        packet.update(pending_packet_seeds())
    for sub, seeds in (("packet", packet), ("upstream", upstream_seeds())):
        d = os.path.join(root, sub)
        os.makedirs(d, exist_ok=True)
        for name, data in seeds.items():
            with open(os.path.join(d, name), "wb") as f:
                f.write(data)


if __name__ == "__main__":
    main()
