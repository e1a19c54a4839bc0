#!/usr/bin/env python3
"""fresh_hello.py LISTEN_PORT TARGET_PORT DELAY_MS: a UDP relay on 0.0.0.0:LISTEN_PORT to
127.0.0.1:TARGET_PORT that forwards everything both ways and, DELAY_MS after the client's
first ClientHello, starts a handshake of its own from the same address the server sees
(its upstream socket): a copy of that ClientHello with a new random, the cookie exchange
done, the ClientHello with the cookie sent. That is what a replayed or late ClientHello
of an abandoned attempt looks like to the server: a new handshake, with a valid cookie,
from the address of a working session. It never goes further than the ClientHello.
Prints "FRESH sent" when it sent the ClientHello with the cookie ("FRESH no cookie" if
no HelloVerifyRequest came within a second); exits after 60 s or on SIGTERM."""
import os
import select
import signal
import socket
import struct
import sys
import time

listen_port, target_port = int(sys.argv[1]), int(sys.argv[2])
delay = int(sys.argv[3]) / 1000
signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
down = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
down.bind(("0.0.0.0", listen_port))
up = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
up.connect(("127.0.0.1", target_port))


def handshake_type(d):
    """The handshake message type of a datagram's first record (epoch 0 only), or None."""
    if len(d) > 25 and d[0] == 22 and d[3] == 0 and d[4] == 0:
        return d[13]
    return None


def hello_parts(d):
    """A ClientHello datagram (one record, one unfragmented message) split around its
    random and cookie: (record header, version, session id vector, rest of the body)."""
    body = d[25:]
    version, sid_len = body[0:2], body[34]
    sid = body[34:35 + sid_len]
    ck = 35 + sid_len
    return d[:13], version, sid, body[ck + 1 + body[ck]:]


def build_hello(parts, random, cookie, record_seq, message_seq):
    hdr, version, sid, rest = parts
    body = version + random + sid + bytes([len(cookie)]) + cookie + rest
    n = len(body)
    hs = bytes([1]) + n.to_bytes(3, "big") + struct.pack(">H", message_seq) + \
        (0).to_bytes(3, "big") + n.to_bytes(3, "big") + body
    rec = hdr[:3] + b"\0\0" + record_seq.to_bytes(6, "big") + struct.pack(">H", len(hs))
    return rec + hs


client, first, when, state = None, None, None, "wait"
random = os.urandom(32)  # the cookie may cover it: the same in both hellos
print("READY", flush=True)
end = time.monotonic() + 60
while time.monotonic() < end:
    now = time.monotonic()
    timeout = 0.2 if when is None else max(0.0, min(when - now, 0.2))
    r, _, _ = select.select([down, up], [], [], timeout)
    if down in r:
        data, client = down.recvfrom(65536)
        up.send(data)
        if first is None and handshake_type(data) == 1:
            first = data
            when = time.monotonic() + delay
    if up in r:
        data = up.recv(65536)
        if state == "hvr" and handshake_type(data) == 3:
            cookie = data[25 + 3:25 + 3 + data[25 + 2]]
            up.send(build_hello(parts, random, cookie, 1, 1))
            state = "done"
            print("FRESH sent", flush=True)
        elif client:
            down.sendto(data, client)
    now = time.monotonic()
    if state == "wait" and when is not None and now >= when:
        parts = hello_parts(first)
        up.send(build_hello(parts, random, b"", 0, 0))
        state, when = "hvr", now + 1
    elif state == "hvr" and now >= when:
        print("FRESH no cookie", flush=True)
        state, when = "done", None
    elif state == "done":
        when = None
