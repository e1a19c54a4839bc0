#!/usr/bin/env python3
"""Moves bytes through a tunnel and says what arrived, for tests/net/offload.sh.

  xfer.py tcp-recv ADDR PORT                 accept one connection, print "<bytes> <sha256>"
  xfer.py tcp-send ADDR PORT BYTES SEED      send BYTES pseudo-random bytes, print the same
  xfer.py udp-recv ADDR PORT COUNT SECONDS   print "<datagrams> <bytes> <sha256 of all>"
  xfer.py udp-send ADDR PORT COUNT SIZE SEED [GSO]
                                             send COUNT datagrams of SIZE bytes (with GSO:
                                             sendmsg of up to 10 at once, UDP_SEGMENT), print
                                             the same as udp-recv would for all of them

Every wait is bounded (socket timeouts); no address but the one given is contacted.
"""
import hashlib
import random
import socket
import sys

UDP_SEGMENT = 103


def family(addr):
    return socket.AF_INET6 if ":" in addr else socket.AF_INET


def data(n, seed):
    return random.Random(seed).randbytes(n)


def tcp_recv(addr, port):
    s = socket.socket(family(addr), socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((addr, int(port)))
    s.listen(1)
    s.settimeout(30)
    c, _ = s.accept()
    c.settimeout(30)
    h, n = hashlib.sha256(), 0
    while True:
        b = c.recv(1 << 20)
        if not b:
            break
        h.update(b)
        n += len(b)
    print(n, h.hexdigest())


def tcp_send(addr, port, count, seed):
    b = data(int(count), int(seed))
    s = socket.create_connection((addr, int(port)), timeout=30)
    s.sendall(b)
    s.shutdown(socket.SHUT_WR)
    s.recv(1)
    s.close()
    print(len(b), hashlib.sha256(b).hexdigest())


def udp_recv(addr, port, count, seconds):
    s = socket.socket(family(addr), socket.SOCK_DGRAM)
    try:
        s.setsockopt(socket.SOL_SOCKET, 33, 4 << 20)  # SO_RCVBUFFORCE (root)
    except OSError:
        pass
    s.bind((addr, int(port)))
    s.settimeout(float(seconds))
    got = []
    try:
        while len(got) < int(count):
            got.append(s.recv(65535))
    except socket.timeout:
        pass
    got.sort()
    h = hashlib.sha256()
    for g in got:
        h.update(g)
    print(len(got), sum(map(len, got)), h.hexdigest())


def udp_send(addr, port, count, size, seed, gso=None):
    count, size = int(count), int(size)
    rnd = random.Random(int(seed))
    # Each datagram starts with its number, so the receiver can sort them.
    dgrams = [i.to_bytes(4, "big") + rnd.randbytes(size - 4) for i in range(count)]
    s = socket.socket(family(addr), socket.SOCK_DGRAM)
    s.connect((addr, int(port)))
    if gso:
        for i in range(0, count, 10):
            chunk = dgrams[i:i + 10]
            s.sendmsg([b"".join(chunk)], [(socket.SOL_UDP, UDP_SEGMENT, size.to_bytes(2, sys.byteorder))])
    else:
        for d in dgrams:
            s.send(d)
    h = hashlib.sha256()
    for d in sorted(dgrams):
        h.update(d)
    print(count, count * size, h.hexdigest())


if __name__ == "__main__":
    cmd, args = sys.argv[1], sys.argv[2:]
    {"tcp-recv": tcp_recv, "tcp-send": tcp_send, "udp-recv": udp_recv, "udp-send": udp_send}[cmd](*args)
