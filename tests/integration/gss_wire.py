#!/usr/bin/env python3
"""How many of 64 pieces (24 bytes each, spread over the first SIZE bytes)
of tcptool.py's data stream for SEED appear in a capture file: for
tests/integration/test_gssapi.sh, which expects them on the wire at
integrity (signed, not encrypted) and never at confidentiality."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from tcptool import gen  # noqa: E402  the stream the servers send


def main():
    pcap, size, seed = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    data = b"".join(gen(size, seed))
    with open(pcap, "rb") as f:
        wire = f.read()
    step = size // 64
    found = sum(1 for i in range(64)
                if data[i * step:i * step + 24] in wire)
    print(found)


if __name__ == "__main__":
    main()
