#!/usr/bin/env python3
"""late_hello.py LISTEN_PORT TARGET_PORT [DELAY_MS]: a UDP relay on 0.0.0.0:LISTEN_PORT to
127.0.0.1:TARGET_PORT that forwards everything at once and, for every DTLS ClientHello
from the client, sends a second copy DELAY_MS (default 500) later: copies of a hello
that arrive after the handshake is over. Prints "LATE n" for each copy sent; exits
after 60 s or on SIGTERM."""
import select
import signal
import socket
import sys
import time

listen_port, target_port = int(sys.argv[1]), int(sys.argv[2])
delay = (int(sys.argv[3]) if len(sys.argv) > 3 else 500) / 1000
signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
down = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
down.bind(("0.0.0.0", listen_port))
up = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
up.connect(("127.0.0.1", target_port))
client, late, n = None, [], 0
print("READY", flush=True)
end = time.monotonic() + 60
while time.monotonic() < end:
    now = time.monotonic()
    timeout = max(0.0, min([t for t, _ in late] + [now + 0.2]) - now)
    r, _, _ = select.select([down, up], [], [], timeout)
    if down in r:
        data, client = down.recvfrom(65536)
        up.send(data)
        if len(data) > 13 and data[0] == 22 and data[3] == 0 and data[4] == 0 and data[13] == 1:
            late.append((time.monotonic() + delay, data))
    if up in r and client:
        down.sendto(up.recv(65536), client)
    now = time.monotonic()
    for t, data in [x for x in late if x[0] <= now]:
        up.send(data)
        n += 1
        print("LATE", n, flush=True)
    late = [x for x in late if x[0] > now]
