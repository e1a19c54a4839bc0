#!/usr/bin/env python3
"""tcp_sink.py ADDR PORT [TIMEOUT]: accept one TCP connection, read it to the end,
answer one byte, and print the SHA-256 of what came and its length.
The receiving end of the bulk transfers of tests/net (bounded by TIMEOUT seconds)."""
import hashlib
import socket
import sys

addr, port = sys.argv[1], int(sys.argv[2])
timeout = float(sys.argv[3]) if len(sys.argv) > 3 else 200
s = socket.socket(socket.AF_INET6 if ":" in addr else socket.AF_INET)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind((addr, port))
s.listen(1)
s.settimeout(timeout)
c, _ = s.accept()
c.settimeout(timeout)
h, n = hashlib.sha256(), 0
while True:
    d = c.recv(1 << 16)
    if not d:
        break
    h.update(d)
    n += len(d)
c.sendall(b"k")
print(h.hexdigest(), n)
