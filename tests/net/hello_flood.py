#!/usr/bin/env python3
"""hello_flood.py: a bounded flood of DTLS ClientHellos from spoofed IPv4 addresses and
ports, with a capture of what comes back, for tests/net/flood_cookie.sh.

    hello_flood.py --iface IF --dst IP:PORT --src-net 198.18.0.0/15 --count N
                   --seconds S [--seed N] [--linger S]

Run it as root inside a test namespace whose interface IF leads to the server, with
the server routing SRC-NET back through IF (the answers come back to the spoofed
addresses and are seen here by a packet socket; nothing here owns those addresses).

Each datagram i (1..N) is a ClientHello from its own source address and port, drawn
from a generator seeded with (seed, i), and carries i as its record sequence number.
A HelloVerifyRequest repeats the sequence number of the ClientHello it answers
(RFC 6347 4.2.1), so every answer is matched with the hello that caused it and their
sizes compared. The kinds of hello (share of the datagrams):
    plain   a ClientHello as a DTLS 1.2 client sends it, without a cookie  (45%)
    cookie  the same with a made-up 32-byte cookie                          (15%)
    sid     with a 32-byte session id                                       (5%)
    big     padded to 900..1300 bytes                                       (10%)
    frag    the first fragment of a longer ClientHello                      (5%)
    min     only the fixed prefix: version, random, empty session id and
            cookie (61 bytes, one more than a HelloVerifyRequest)           (15%)
    short   one byte shorter than that: cannot be parsed, no answer due     (5%)

The send rate is spread evenly over --seconds. After the last datagram the capture
goes on for --linger seconds (default 1). Then the result, one "KEY value" per line:
    SENT n, BYTES n, ADDRS n (distinct source addresses), PORTS n (distinct ports),
    KIND_<kind> n, SEND_ERRORS n, SECONDS s (sending time)
    HVR n             HelloVerifyRequests matched to a hello
    HVR_<kind> n      of them, per kind of hello
    HVR_MAX n         the largest HelloVerifyRequest (bytes of UDP payload)
    RATIO_MAX r       the largest HelloVerifyRequest / ClientHello size ratio
    LARGER n          HelloVerifyRequests larger than their hello (must be 0)
    MISADDRESSED n    answers sent elsewhere than the hello's source (must be 0)
    UNMATCHED n       answers whose sequence number no hello had (must be 0)
    OTHER n           answers that are not a HelloVerifyRequest (must be 0: anything
                      else means state was created for a spoofed address)
    DUP n             hellos answered more than once
    ANSWERED_SHORT n  answers to the unparseable hellos
Exit status 0 if it ran (the caller judges the numbers), 2 on a usage error.
"""
import argparse
import ipaddress
import os
import random
import signal
import socket
import struct
import sys
import time

KINDS = (("plain", 45), ("cookie", 15), ("sid", 5), ("big", 10), ("frag", 5), ("min", 15),
         ("short", 5))
SUITES = (0xc02b, 0xc02c, 0xc0ae, 0xc023, 0xcca9, 0x00a8, 0x00a9, 0xc0a8, 0x008c, 0xccab,
          0xc02f, 0xc030, 0x009c, 0x003c, 0x002f)
ETH_P_IP = 0x0800
PACKET_OUTGOING = 4


def kind_of(rng):
    x = rng.randrange(100)
    for k, share in KINDS:
        if x < share:
            return k
        x -= share
    return KINDS[0][0]


def ext(t, body):
    return struct.pack("!HH", t, len(body)) + body


def hello_body(rng, sid=b"", cookie=b"", pad=None):
    """A ClientHello body as a DTLS 1.2 client writes it; with pad, a padding extension
    of that many bytes last."""
    suites = list(SUITES[:rng.randrange(4, len(SUITES) + 1)])
    exts = (ext(0x000a, struct.pack("!HHHH", 6, 29, 23, 24)) +      # supported_groups
            ext(0x000b, b"\x01\x00") +                              # ec_point_formats
            ext(0x000d, struct.pack("!HHHHH", 8, 0x0403, 0x0804, 0x0503, 0x0401)) +
            ext(0x0017, b"") +                                      # extended master secret
            ext(0xff01, b"\x00"))                                   # renegotiation_info
    if pad is not None:
        exts += ext(0x0015, bytes(pad))
    return (b"\xfe\xfd" + rng.randbytes(32) + bytes([len(sid)]) + sid + bytes([len(cookie)]) +
            cookie + struct.pack("!H", 2 * len(suites)) +
            b"".join(struct.pack("!H", s) for s in suites) + b"\x01\x00" +
            struct.pack("!H", len(exts)) + exts)


def record(seq, hs_body, msg_len=None, frag_len=None):
    """One epoch-0 handshake record holding a ClientHello (fragment) at offset 0."""
    msg_len = len(hs_body) if msg_len is None else msg_len
    frag_len = len(hs_body) if frag_len is None else frag_len
    hs = (bytes([1]) + msg_len.to_bytes(3, "big") + b"\x00\x00" + b"\x00\x00\x00" +
          frag_len.to_bytes(3, "big") + hs_body)
    return bytes([22]) + b"\xfe\xff" + b"\x00\x00" + seq.to_bytes(6, "big") + \
        struct.pack("!H", len(hs)) + hs


def make(seed, i, net):
    """(kind, source address, source port, datagram) of hello number i."""
    rng = random.Random(seed * 1000003 + i)
    kind = kind_of(rng)
    src = str(net[rng.randrange(1, net.num_addresses - 1)])
    port = rng.randrange(1024, 65536)
    if kind == "plain":
        d = record(i, hello_body(rng))
    elif kind == "cookie":
        d = record(i, hello_body(rng, cookie=rng.randbytes(32)))
    elif kind == "sid":
        d = record(i, hello_body(rng, sid=rng.randbytes(32)))
    elif kind == "big":
        want = rng.randrange(900, 1300)
        st = rng.getstate()
        base = len(hello_body(rng, pad=0))
        rng.setstate(st)
        d = record(i, hello_body(rng, pad=want - 25 - base))
    elif kind == "frag":
        b = hello_body(rng)
        cut = rng.randrange(40, len(b))
        d = record(i, b[:cut], msg_len=len(b) + rng.randrange(0, 200), frag_len=cut)
    elif kind == "min":
        d = record(i, b"\xfe\xfd" + rng.randbytes(32) + b"\x00\x00")
    else:  # short: the cookie length byte is missing
        d = record(i, b"\xfe\xfd" + rng.randbytes(32) + b"\x00")
    return kind, src, port, d


def ip_udp(src, dst, sport, dport, payload):
    udp = struct.pack("!HHHH", sport, dport, 8 + len(payload), 0) + payload  # no checksum (IPv4)
    iph = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), 0, 0x4000, 64, 17, 0,
                      socket.inet_aton(src), socket.inet_aton(dst))
    return iph + udp


def capture(fd_r, fd_w, a, table, stop_at):
    """Child: read the answers until SIGTERM or stop_at; write the verdict to fd_w."""
    os.close(fd_r)
    s = socket.socket(socket.AF_PACKET, socket.SOCK_DGRAM, socket.htons(ETH_P_IP))
    s.setsockopt(socket.SOL_SOCKET, 33, 64 << 20)  # SO_RCVBUFFORCE
    try:
        s.setsockopt(263, 23, 1)  # SOL_PACKET, PACKET_IGNORE_OUTGOING (Linux 4.20)
    except OSError:
        pass
    s.bind((a.iface, ETH_P_IP))
    stop = [False]
    signal.signal(signal.SIGTERM, lambda *_: stop.__setitem__(0, True))
    s.settimeout(0.2)
    dst_ip, dst_port = a.dst
    src_b = socket.inet_aton(dst_ip)
    net = a.src_net
    c = {"HVR": 0, "HVR_MAX": 0, "LARGER": 0, "MISADDRESSED": 0, "UNMATCHED": 0, "OTHER": 0,
         "DUP": 0, "ANSWERED_SHORT": 0}
    ratio = 0.0
    per_kind = {}
    seen = set()
    os.write(fd_w, b"R")  # ready
    while not stop[0] and time.monotonic() < stop_at[0]:
        try:
            pkt, addr = s.recvfrom(65536)
        except socket.timeout:
            continue
        except InterruptedError:
            continue
        if addr[2] == PACKET_OUTGOING or len(pkt) < 28 or pkt[9] != 17 or pkt[12:16] != src_b:
            continue
        ihl = (pkt[0] & 15) * 4
        sport, dport, ulen = struct.unpack("!HHH", pkt[ihl:ihl + 6])
        if sport != dst_port or ipaddress.IPv4Address(pkt[16:20]) not in net:
            continue
        payload = pkt[ihl + 8:ihl + ulen]
        is_hvr = len(payload) >= 25 and payload[0] == 22 and payload[13] == 3
        if not is_hvr:
            c["OTHER"] += 1
            continue
        seq = int.from_bytes(payload[5:11], "big")
        if not 1 <= seq <= len(table):
            c["UNMATCHED"] += 1
            continue
        kind, src, port, size = table[seq - 1]
        if socket.inet_ntoa(pkt[16:20]) != src or dport != port:
            c["MISADDRESSED"] += 1
            continue
        if seq in seen:
            c["DUP"] += 1
        seen.add(seq)
        c["HVR"] += 1
        per_kind[kind] = per_kind.get(kind, 0) + 1
        c["HVR_MAX"] = max(c["HVR_MAX"], len(payload))
        ratio = max(ratio, len(payload) / size)
        if len(payload) > size:
            c["LARGER"] += 1
        if kind == "short":
            c["ANSWERED_SHORT"] += 1
    out = "".join(f"{k} {v}\n" for k, v in c.items())
    out += "".join(f"HVR_{k} {per_kind.get(k, 0)}\n" for k, _ in KINDS)
    out += f"RATIO_MAX {ratio:.3f}\n"
    os.write(fd_w, out.encode())
    os._exit(0)


def main():
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--iface", required=True)
    p.add_argument("--dst", required=True, help="IPv4:PORT of the server")
    p.add_argument("--src-net", type=ipaddress.IPv4Network, required=True)
    p.add_argument("--count", type=int, default=50000)
    p.add_argument("--seconds", type=float, default=5.0)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--linger", type=float, default=1.0)
    a = p.parse_args()
    host, _, port = a.dst.rpartition(":")
    a.dst = (host, int(port))
    if not 1 <= a.count <= 1000000 or not 0 < a.seconds <= 120:
        p.error("--count 1..1000000, --seconds up to 120")

    table, packets = [], []
    for i in range(1, a.count + 1):
        kind, src, sport, d = make(a.seed, i, a.src_net)
        table.append((kind, src, sport, len(d)))
        packets.append(ip_udp(src, a.dst[0], sport, a.dst[1], d))

    r, w = os.pipe()
    # the child stops by itself at the latest this long after start
    stop_at = [time.monotonic() + a.seconds + a.linger + 60]
    child = os.fork()
    if child == 0:
        capture(r, w, a, table, stop_at)
    os.close(w)
    if os.read(r, 1) != b"R":
        print("capture did not start", file=sys.stderr)
        return 1
    print("READY", flush=True)

    raw = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
    raw.setsockopt(socket.SOL_SOCKET, 32, 16 << 20)  # SO_SNDBUFFORCE
    dst = (a.dst[0], 0)
    errors, batch = 0, 64
    t0 = time.monotonic()
    per = a.seconds / len(packets)
    for j in range(0, len(packets), batch):
        for pkt in packets[j:j + batch]:
            while True:
                try:
                    raw.sendto(pkt, dst)
                    break
                except BlockingIOError:
                    time.sleep(0.001)
                except OSError:
                    errors += 1
                    break
        ahead = t0 + (j + batch) * per - time.monotonic()
        if ahead > 0:
            time.sleep(ahead)
    secs = time.monotonic() - t0
    print(f"SENT {len(packets)}", flush=True)
    time.sleep(a.linger)
    os.kill(child, signal.SIGTERM)
    out = b""
    while True:
        chunk = os.read(r, 65536)
        if not chunk:
            break
        out += chunk
    os.waitpid(child, 0)
    kinds = {}
    for k, *_ in table:
        kinds[k] = kinds.get(k, 0) + 1
    print(f"BYTES {sum(x[3] for x in table)}")
    print(f"ADDRS {len({x[1] for x in table})}")
    print(f"PORTS {len({x[2] for x in table})}")
    for k, _ in KINDS:
        print(f"KIND_{k} {kinds.get(k, 0)}")
    print(f"SEND_ERRORS {errors}")
    print(f"SECONDS {secs:.2f}")
    sys.stdout.write(out.decode())
    return 0


if __name__ == "__main__":
    sys.exit(main())
