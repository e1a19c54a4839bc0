#!/usr/bin/env python3
"""relay.py: a userspace UDP relay with impairments, for DTLS interop and network tests.

    relay.py --listen 127.0.0.1:0 --target 127.0.0.1:4433 [impairments] [--lifetime 30]

Clients send to the listen address; each client address gets its own upstream socket
towards the target (so several clients can share one relay), and the target's answers go
back to that client. "c2s" is client -> target, "s2c" target -> client. Datagrams are
numbered from 1 per direction, over all clients.

Impairments (all may be combined):
  --drop DIR:N[,N...]    drop the Nth datagram(s) of a direction (repeatable): c2s:2, s2c:3,5;
                         with --only, N counts only the datagrams made of those types
  --drop-every N         drop every Nth datagram of the directions chosen by --dir
  --loss PCT             drop each datagram with probability PCT percent
  --dup PCT              send a datagram twice with probability PCT
  --reorder PCT          hold a datagram back and send it after the next one (or after
                         --reorder-wait ms if no next one comes)
  --delay MS             delay every forwarded datagram by MS milliseconds
  --dir c2s|s2c|both     where --drop-every/--loss/--dup/--reorder/--delay apply (default both)
  --only TYPES           ... and only to datagrams made of these record types, a comma list
                         of hs,ccs,alert,app (say --only hs,ccs: impair the handshake only)
  --seed N               seed of the random choices (printed in the READY line)
Reporting:
  --max-datagram         at exit print "MAX c2s BYTES" and "MAX s2c BYTES" (largest seen)
  --limit BYTES          print "OVERSIZE DIR #N BYTES" for each datagram above BYTES
  --verbose              print "FWD DIR #N BYTES records..." for every datagram forwarded,
                         with a short decoding of its DTLS records
  --timestamps           end every action line with " t=SECONDS" since the start
Lifetime: exits after --lifetime seconds (default 60), after --idle seconds without traffic
(0 = never), or on SIGTERM/SIGINT; it always prints "EXIT reason" and the MAX lines last.

Output is one line per action, flushed: "READY 127.0.0.1:PORT -> HOST:PORT seed=S",
"DROPPED c2s #2", "DROPPED s2c #5 (loss)", "DUPLICATED c2s #3", "REORDERED s2c #4".
"""
import argparse
import heapq
import os
import random
import select
import signal
import socket
import sys
import time

DIRS = ("c2s", "s2c")


def parse_addr(text):
    """'127.0.0.1:5', '[::1]:5', 'localhost:5' -> (family, sockaddr)."""
    if text.startswith("["):
        host, _, port = text[1:].partition("]:")
    else:
        host, _, port = text.rpartition(":")
    if not host or not port:
        raise argparse.ArgumentTypeError(f"expected HOST:PORT or [V6]:PORT, got {text!r}")
    infos = socket.getaddrinfo(host, int(port), type=socket.SOCK_DGRAM)
    fam, _, _, _, sa = infos[0]
    return fam, sa


def fmt_addr(sa):
    return f"[{sa[0]}]:{sa[1]}" if ":" in sa[0] else f"{sa[0]}:{sa[1]}"


def parse_drop(text):
    d, _, nums = text.partition(":")
    if d not in DIRS or not nums:
        raise argparse.ArgumentTypeError(f"expected c2s:N[,N...] or s2c:N[,N...], got {text!r}")
    try:
        return d, {int(n) for n in nums.split(",")}
    except ValueError as e:
        raise argparse.ArgumentTypeError(str(e)) from e


def pct(text):
    v = float(text)
    if not 0 <= v <= 100:
        raise argparse.ArgumentTypeError("a percentage 0..100")
    return v


HS_NAMES = {0: "HelloRequest", 1: "ClientHello", 2: "ServerHello", 3: "HelloVerifyRequest",
            4: "NewSessionTicket", 11: "Certificate", 12: "ServerKeyExchange",
            13: "CertificateRequest", 14: "ServerHelloDone", 15: "CertificateVerify",
            16: "ClientKeyExchange", 20: "Finished"}
CT_NAMES = {20: "ccs", 21: "alert", 22: "hs", 23: "app"}
CT_BY_NAME = {v: k for k, v in CT_NAMES.items()}


def record_types(data):
    """The content types of the records of a datagram."""
    types, off = set(), 0
    while off + 13 <= len(data):
        types.add(data[off])
        off += 13 + int.from_bytes(data[off + 11:off + 13], "big")
    return types


def parse_types(text):
    try:
        return {CT_BY_NAME[t] for t in text.split(",")}
    except KeyError as e:
        raise argparse.ArgumentTypeError(f"record types are hs, ccs, alert, app: {e}") from e


def describe(data):
    """Short decoding of the DTLS records of one datagram (plaintext headers only)."""
    out, off = [], 0
    while off + 13 <= len(data):
        ct, ver = data[off], data[off + 1:off + 3].hex()
        epoch = int.from_bytes(data[off + 3:off + 5], "big")
        seq = int.from_bytes(data[off + 5:off + 11], "big")
        ln = int.from_bytes(data[off + 11:off + 13], "big")
        body = data[off + 13:off + 13 + ln]
        s = f"{CT_NAMES.get(ct, ct)}(v={ver},e={epoch},seq={seq},len={ln}"
        if ct == 22 and epoch == 0 and len(body) >= 12:
            mt = body[0]
            mlen = int.from_bytes(body[1:4], "big")
            mseq = int.from_bytes(body[4:6], "big")
            foff = int.from_bytes(body[6:9], "big")
            flen = int.from_bytes(body[9:12], "big")
            s += f",hs={mt}/{HS_NAMES.get(mt, '?')},mseq={mseq},mlen={mlen},foff={foff},flen={flen}"
        elif ct == 21 and epoch == 0 and len(body) >= 2:
            s += f",alert={body[0]}/{body[1]}"
        out.append(s + ")")
        off += 13 + ln
    if off != len(data):
        out.append(f"trailing={len(data) - off}")
    return " ".join(out)


class Relay:
    def __init__(self, a):
        self.a = a
        self.rng = random.Random(a.seed)
        fam, sa = a.listen
        self.lsock = socket.socket(fam, socket.SOCK_DGRAM)
        self.lsock.bind(sa)
        self.tfam, self.tsa = a.target
        self.up = {}       # client addr -> upstream socket
        self.owner = {}    # upstream socket -> client addr
        self.count = {d: 0 for d in DIRS}
        self.count_only = {d: 0 for d in DIRS}   # datagrams made of --only types
        self.maxlen = {d: 0 for d in DIRS}
        self.drops = {d: set() for d in DIRS}
        for d, nums in a.drop or []:
            self.drops[d] |= nums
        self.held = {d: None for d in DIRS}   # (deadline, n, sock, data, dest) held for reorder
        self.queue = []                       # (when, seq, dir, n, sock, data, dest) for --delay
        self.qseq = 0
        self.last = self.t0 = time.monotonic()
        self.finished = False

    def say(self, line, stamp=True):
        if stamp and self.a.timestamps:
            line += f" t={time.monotonic() - self.t0:.3f}"
        print(line, flush=True)

    def applies(self, d, data=None):
        if self.a.dir not in ("both", d):
            return False
        return data is None or not self.a.only or record_types(data) <= self.a.only

    def send(self, sock, data, dest, d, n):
        if self.a.delay and self.applies(d, data):
            self.qseq += 1
            heapq.heappush(self.queue, (time.monotonic() + self.a.delay / 1000, self.qseq, d, n, sock, data,
                                        dest))
            return
        self.emit(sock, data, dest, d, n)

    def emit(self, sock, data, dest, d, n):
        try:
            if dest is None:
                sock.send(data)  # upstream sockets are connected
            else:
                sock.sendto(data, dest)
        except OSError as e:
            self.say(f"ERROR {d} #{n} {e}")
            return
        if self.a.verbose:
            self.say(f"FWD {d} #{n} {len(data)} {describe(data)}")

    def forward(self, d, data, sock, dest):
        self.count[d] += 1
        n = self.count[d]
        self.maxlen[d] = max(self.maxlen[d], len(data))
        if self.a.limit and len(data) > self.a.limit:
            self.say(f"OVERSIZE {d} #{n} {len(data)}")
        k = n
        if self.a.only:
            k = None
            if record_types(data) <= self.a.only:
                self.count_only[d] += 1
                k = self.count_only[d]
        if k in self.drops[d]:
            self.say(f"DROPPED {d} #{n}")
            return
        impair = self.applies(d, data)
        if impair:
            if self.a.drop_every and n % self.a.drop_every == 0:
                self.say(f"DROPPED {d} #{n} (every {self.a.drop_every})")
                return
            if self.a.loss and self.rng.random() * 100 < self.a.loss:
                self.say(f"DROPPED {d} #{n} (loss)")
                return
        held = self.held[d]
        if held is None and impair and self.a.reorder and self.rng.random() * 100 < self.a.reorder:
            self.held[d] = (time.monotonic() + self.a.reorder_wait / 1000, n, sock, data, dest)
            return
        dup = impair and self.a.dup and self.rng.random() * 100 < self.a.dup
        self.send(sock, data, dest, d, n)
        if dup:
            self.say(f"DUPLICATED {d} #{n}")
            self.send(sock, data, dest, d, n)
        if held is not None:
            self.held[d] = None
            self.say(f"REORDERED {d} #{held[1]} (sent after #{n})")
            self.send(held[2], held[3], held[4], d, held[1])

    def flush_due(self, now):
        for d in DIRS:
            h = self.held[d]
            if h is not None and h[0] <= now:
                self.held[d] = None
                self.say(f"REORDERED {d} #{h[1]} (nothing followed; sent late)")
                self.send(h[2], h[3], h[4], d, h[1])
        while self.queue and self.queue[0][0] <= now:
            _, _, d, n, sock, data, dest = heapq.heappop(self.queue)
            self.emit(sock, data, dest, d, n)

    def next_deadline(self, end):
        t = [end]
        if self.a.idle:
            t.append(self.last + self.a.idle)
        t += [h[0] for h in self.held.values() if h is not None]
        if self.queue:
            t.append(self.queue[0][0])
        return min(t)

    def upstream(self, client):
        s = self.up.get(client)
        if s is None:
            s = socket.socket(self.tfam, socket.SOCK_DGRAM)
            s.connect(self.tsa)
            self.up[client] = s
            self.owner[s] = client
        return s

    def run(self):
        bound = self.lsock.getsockname()
        self.say(f"READY {fmt_addr(bound)} -> {fmt_addr(self.tsa)} seed={self.a.seed}", stamp=False)
        end = time.monotonic() + self.a.lifetime
        reason = "lifetime"
        while True:
            now = time.monotonic()
            self.flush_due(now)
            if now >= end:
                break
            if self.a.idle and now >= self.last + self.a.idle:
                reason = "idle"
                break
            wait = max(0.0, self.next_deadline(end) - now)
            try:
                r, _, _ = select.select([self.lsock, *self.owner], [], [], wait)
            except InterruptedError:
                continue
            for s in r:
                try:
                    data, src = s.recvfrom(65536)
                except OSError:
                    continue  # ICMP port unreachable from the target: ignore
                self.last = time.monotonic()
                if s is self.lsock:
                    self.forward("c2s", data, self.upstream(src), None)
                else:
                    self.forward("s2c", data, self.lsock, self.owner[s])
        self.finish(reason)

    def finish(self, reason):
        if self.finished:  # a second signal (timeout(1) sends SIGTERM twice)
            return
        self.finished = True
        self.say(f"EXIT {reason} c2s={self.count['c2s']} s2c={self.count['s2c']}", stamp=False)
        if self.a.max_datagram:
            for d in DIRS:
                self.say(f"MAX {d} {self.maxlen[d]}", stamp=False)
        sys.stdout.flush()
        os._exit(0)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--listen", type=parse_addr, required=True, help="HOST:PORT to listen on (port 0: any)")
    p.add_argument("--target", type=parse_addr, required=True, help="HOST:PORT of the server")
    p.add_argument("--drop", type=parse_drop, action="append", metavar="DIR:N[,N]")
    p.add_argument("--drop-every", type=int, default=0, metavar="N")
    p.add_argument("--loss", type=pct, default=0.0, metavar="PCT")
    p.add_argument("--dup", type=pct, default=0.0, metavar="PCT")
    p.add_argument("--reorder", type=pct, default=0.0, metavar="PCT")
    p.add_argument("--reorder-wait", type=int, default=100, metavar="MS")
    p.add_argument("--delay", type=int, default=0, metavar="MS")
    p.add_argument("--dir", choices=("c2s", "s2c", "both"), default="both")
    p.add_argument("--only", type=parse_types, default=None, metavar="TYPES")
    p.add_argument("--seed", type=int, default=None)
    p.add_argument("--max-datagram", action="store_true")
    p.add_argument("--limit", type=int, default=0, metavar="BYTES")
    p.add_argument("--verbose", "-v", action="store_true")
    p.add_argument("--timestamps", action="store_true")
    p.add_argument("--lifetime", type=float, default=60.0, metavar="SEC")
    p.add_argument("--idle", type=float, default=0.0, metavar="SEC")
    a = p.parse_args()
    if a.seed is None:
        a.seed = random.SystemRandom().randrange(1, 1 << 31)
    if a.drop_every < 0:
        p.error("--drop-every: N >= 1")
    relay = Relay(a)

    def on_signal(signum, _frame):
        relay.finish(signal.Signals(signum).name)

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    relay.run()


if __name__ == "__main__":
    main()
