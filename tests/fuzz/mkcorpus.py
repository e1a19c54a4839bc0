#!/usr/bin/env python3
"""mkcorpus.py IN OUT: cuts captured DTLS traffic into the seed corpora of tests/fuzz.

IN holds streams/NAME.c2s and NAME.s2c (datagrams framed as in fuzz.h: meta(1)
length(2) bytes) from fuzz_seedgen and capture_openssl.py, and record/ (fuzz_record
inputs sealed with the fixed keys). OUT/<target>/ receives a few files per target, each
named by the SHA-1 of its content like libFuzzer names them. Existing files are kept.
"""
import hashlib
import os
import struct
import sys

HS_NAMES = {1: "client_hello", 2: "server_hello", 3: "hello_verify_request", 11: "certificate",
            13: "certificate_request", 15: "certificate_verify"}
PKI = os.path.join(os.path.dirname(os.path.abspath(__file__)), "pki")


def unframe(data):
    out, i = [], 0
    while i + 3 <= len(data):
        n = data[i + 1] << 8 | data[i + 2]
        out.append(data[i + 3:i + 3 + n])
        i += 3 + n
    return out


def frame(chunks):
    out = bytearray()
    for meta, d in chunks:
        out += bytes([meta, len(d) >> 8, len(d) & 0xFF]) + d
    return bytes(out)


def records(dgram):
    """(type, epoch, seq, payload) of each record of a datagram."""
    i = 0
    while i + 13 <= len(dgram):
        typ, _ver, epoch, seq_hi, seq_lo, n = struct.unpack(">BHHHIH", dgram[i:i + 13])
        yield typ, epoch, seq_hi << 32 | seq_lo, dgram[i + 13:i + 13 + n]
        i += 13 + n


def messages(dgrams):
    """Whole epoch-0 handshake messages (type, body), reassembled, in arrival order."""
    partial, done, out = {}, set(), []
    for d in dgrams:
        for typ, epoch, _seq, payload in records(d):
            if typ != 22 or epoch != 0:
                continue
            j = 0
            while j + 12 <= len(payload):
                t = payload[j]
                length = int.from_bytes(payload[j + 1:j + 4], "big")
                mseq = int.from_bytes(payload[j + 4:j + 6], "big")
                off = int.from_bytes(payload[j + 6:j + 9], "big")
                flen = int.from_bytes(payload[j + 9:j + 12], "big")
                frag = payload[j + 12:j + 12 + flen]
                j += 12 + flen
                key = (t, mseq, length)
                buf = partial.setdefault(key, [bytearray(length), set()])
                buf[0][off:off + len(frag)] = frag
                buf[1].update(range(off, off + len(frag)))
                if len(buf[1]) == length and (key, bytes(buf[0])) not in done:
                    done.add((key, bytes(buf[0])))
                    out.append((t, bytes(buf[0])))
    return out


def hello_extensions(t, body):
    """The extensions block of a ClientHello (t 1) or ServerHello (t 2), or None."""
    try:
        i = 2 + 32
        i += 1 + body[i]                                    # session_id
        if t == 1:
            i += 1 + body[i]                                # cookie
            i += 2 + int.from_bytes(body[i:i + 2], "big")   # cipher_suites
            i += 1 + body[i]                                # compression_methods
        else:
            i += 3                                          # cipher_suite, compression
        return body[i:] if i < len(body) else None
    except IndexError:
        return None


def kx_flags(name):
    """(ServerKeyExchange flags, ClientKeyExchange flags) of a scenario, by its name."""
    if "ecdhe-psk" in name:
        return 3, 3
    if "psk" in name:
        return 1, 1
    if "ecdsa" in name:
        return 6, 2
    return None, 4  # RSA key transport


class Out:
    def __init__(self, root):
        self.root = root
        self.count = {}

    def put(self, target, data, limit=24):
        if self.count.get(target, 0) >= limit:
            return
        d = os.path.join(self.root, target)
        os.makedirs(d, exist_ok=True)
        path = os.path.join(d, hashlib.sha1(data).hexdigest())
        if not os.path.exists(path):
            with open(path, "wb") as f:
                f.write(data)
        self.count[target] = self.count.get(target, 0) + 1


CONFIGS = [
    b"[gateway]\ntun_address = 10.0.0.1/24\n\n[peer a]\npsk_identity = site-a\n"
    b"psk = 000102030405060708090a0b0c0d0e0f000102030405060708090a0b0c0d0e0f\nallowed_ips = 10.1.0.0/16\n",
    b"; dtlsgw.conf\n[gateway]\nlisten = 192.0.2.1:5000\ntun_name = vpn%d\n"
    b"tun_address = 10.0.0.1/24, fd00::1/64\nmtu = 1380\nworkers = 4\n"
    b"ciphers = TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256, TLS_PSK_WITH_AES_128_CCM_8\nkeepalive = 15\n"
    b"dead_after = 60\nmax_sessions = 100\ncontrol_socket = /run/test/ctl.sock\nlog_level = debug\n"
    b"offload = on\ncert = gw.pem\nkey = gw.key\nca = ca.pem\n\n[peer a]\n  psk_identity = site-a ; the id\n"
    b"  psk = 00112233445566778899aabbccddeeff\n  allowed_ips = 10.1.0.0/16, fd00:1::/48\n"
    b"  endpoint = [2001:db8::2]:4433\n  keepalive = 0\n[peer b]\n  cert_cn = b.example\n"
    b"  cert_pin_sha256 = 0000000000000000000000000000000000000000000000000000000000000000\n"
    b"  allowed_ips = 192.168.2.0/24\n  endpoint = 198.51.100.7:4433\n  psk_file = b.key\n",
    b"[gateway]\ntun_address=10.0.0.1/24\nkeepalive=0\n",
    b"[gateway]\n[peer x]\n[peer x]\nallowed_ips = 0.0.0.0/0, ::/0\nendpoint = host.example:1\n",
]


def main():
    if len(sys.argv) != 3:
        print(__doc__, file=sys.stderr)
        return 2
    src, dst = sys.argv[1], sys.argv[2]
    out = Out(dst)
    sdir = os.path.join(src, "streams")
    names = sorted({f.rsplit(".", 1)[0] for f in os.listdir(sdir)})
    for name in names:
        c2s = unframe(open(os.path.join(sdir, name + ".c2s"), "rb").read())
        s2c = unframe(open(os.path.join(sdir, name + ".s2c"), "rb").read())
        ske_flags, cke_flags = kx_flags(name)
        cert = "ecdsa" in name or "rsa" in name
        for t, body in messages(c2s) + messages(s2c):
            if t in HS_NAMES:
                out.put(HS_NAMES[t], body)
            if t in (1, 2):
                ext = hello_extensions(t, body)
                if ext:
                    out.put("extensions", ext)
            if t == 12 and ske_flags is not None:
                out.put("server_key_exchange", bytes([ske_flags]) + body)
            if t == 16:
                out.put("client_key_exchange", bytes([cke_flags]) + body)
            if t == 11:
                # The chain of a Certificate message, as fuzz_pki mode 2 reads it.
                chain, i = [], 3
                while i + 3 <= len(body):
                    n = int.from_bytes(body[i:i + 3], "big")
                    chain.append((0, body[i + 3:i + 3 + n]))
                    i += 3 + n
                if chain:
                    out.put("pki", bytes([2]) + frame(chain))
                    out.put("pki", bytes([1]) + frame(chain[:1]))

        # Engine targets: whole directions of the exchange.
        server_cfg = [3] if "clientcert" in name else [2, 5] if cert else [0, 1, 4]
        for cfg in server_cfg:
            out.put("server", bytes([cfg]) + frame((0, d) for d in c2s))
        client_cfg = 2 if "clientcert" in name else 1 if cert else 3 if "mtu" in name else 0
        out.put("client", bytes([client_cfg]) + frame((0, d) for d in s2c))
        # client_deep starts after the server's first full flight: give it the rest.
        if not cert:
            deep_cfg = 1 if "ecdhe-psk" in name else 2 if "ccm8" in name else 0
            rest, seen_done = [], False
            for d in s2c:
                if seen_done:
                    rest.append(d)
                elif any(typ == 22 and ep == 0 and b"\x0e\x00\x00\x00" in p for typ, ep, _s, p in records(d)):
                    seen_done = True
            if rest:
                out.put("client_deep", bytes([deep_cfg]) + frame((0, d) for d in rest))
        # reassembly: the client's epoch-0 record payloads, re-wrapped by the target.
        chunks = []
        for d in c2s:
            for typ, epoch, _seq, payload in records(d):
                if epoch == 0 and typ in (20, 21, 22):
                    chunks.append(({22: 0, 20: 2, 21: 3}[typ], payload))
        if chunks:
            out.put("reassembly", bytes([2 if cert else 0]) + frame(chunks))
        for d in c2s[:2] + s2c[:2]:
            out.put("record", bytes([0]) + d)

    rdir = os.path.join(src, "record")
    if os.path.isdir(rdir):
        for f in sorted(os.listdir(rdir)):
            out.put("record", open(os.path.join(rdir, f), "rb").read())

    # established: HelloRequest, renegotiation, alerts, CCS, data, replays (see its header).
    hello_request = bytes(12)
    for cfg in range(8):
        target_server = cfg & 4
        chunks = [(3 << 2, b"data one"), (3, b""), (2 << 2, b"\x01"), (1 << 2, b"\x01\x00")]
        if target_server:
            chunks = [(64 | 16, b""), (3 << 2, b"during renegotiation"), (16, b"")] + chunks
        else:
            chunks = [(0 | 16, hello_request), (3 << 2, b"after"), (1, hello_request)] + chunks
        out.put("established", bytes([cfg]) + frame(chunks))
    # established: a renegotiation walked step by step (empty raw chunks), stopping where
    # the new epoch's keys exist but its Finished has not come (see fuzz_established.c).
    for cfg in range(4):
        server_walk = [(64 | 1, b""), (5, b""), (5, b""), (1, b"")]
        client_walk = [(64 | 5, b""), (1, b""), (1, b""), (5, b""), (5, b""), (5, b"")]
        out.put("established", bytes([cfg | 4]) + frame(server_walk))
        out.put("established", bytes([cfg]) + frame(client_walk))

    for f in ("server-ec.der", "client.der", "ca.der", "int.der", "other-ca.der", "server-rsa.der"):
        der = open(os.path.join(PKI, f), "rb").read()
        out.put("pki", bytes([1]) + frame([(0, der)]))
    for chain, key in (("server-ec-chain.pem", "server-ec.key"), ("client-chain.pem", "client.key"),
                       ("server-rsa-chain.pem", "server-rsa.key")):
        c = open(os.path.join(PKI, chain), "rb").read()
        k = open(os.path.join(PKI, key), "rb").read()
        out.put("pki", bytes([0]) + frame([(0, c), (0, k)]))
    leaf = open(os.path.join(PKI, "client.der"), "rb").read()
    inter = open(os.path.join(PKI, "int.der"), "rb").read()
    out.put("pki", bytes([0x80 | 2]) + frame([(0, leaf), (0, inter)]))

    for text in CONFIGS:
        out.put("config", text)
    for t in sorted(out.count):
        print("mkcorpus: %-24s %d" % (t, out.count[t]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
