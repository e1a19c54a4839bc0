#!/usr/bin/env python3
"""capture_openssl.py OUTDIR: real DTLS 1.2 datagrams from openssl s_client talking to
openssl s_server on loopback, through a UDP relay that writes what passes.

For each exchange (PSK, ECDHE-PSK, ECDHE-ECDSA with the test PKI) writes
OUTDIR/openssl-NAME.c2s and .s2c, framed as the engine fuzz targets read them
(tests/fuzz/fuzz.h: meta(1) length(2) bytes). No tcpdump, no root.
"""
import os
import select
import socket
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
PKI = os.path.join(HERE, "pki")
PSK_HEX = "0f0e0d0c0b0a09080706050403020100"  # fuzz_psk in fuzz.h
PSK_ID = "fuzz-client"


def free_port():
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def frame(dgrams):
    out = bytearray()
    for d in dgrams:
        out += bytes([0, len(d) >> 8, len(d) & 0xFF]) + d
    return bytes(out)


class Relay(threading.Thread):
    """client <-> relay_port <-> server_port, recording both directions."""

    def __init__(self, server_port):
        super().__init__(daemon=True)
        self.front = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.front.bind(("127.0.0.1", 0))
        self.port = self.front.getsockname()[1]
        self.back = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.back.connect(("127.0.0.1", server_port))
        self.client = None
        self.c2s, self.s2c = [], []
        self.stop = False

    def run(self):
        while not self.stop:
            r, _, _ = select.select([self.front, self.back], [], [], 0.1)
            for s in r:
                if s is self.front:
                    d, addr = self.front.recvfrom(65536)
                    self.client = addr
                    self.c2s.append(d)
                    self.back.send(d)
                else:
                    try:
                        d = self.back.recv(65536)
                    except ConnectionRefusedError:
                        continue
                    self.s2c.append(d)
                    if self.client:
                        self.front.sendto(d, self.client)


def exchange(name, server_args, client_args, outdir):
    sport = free_port()
    server = subprocess.Popen(
        ["openssl", "s_server", "-dtls1_2", "-accept", "127.0.0.1:%d" % sport, "-naccept", "1", "-quiet"]
        + server_args,
        stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(0.5)
    relay = Relay(sport)
    relay.start()
    client = subprocess.Popen(
        ["openssl", "s_client", "-dtls1_2", "-connect", "127.0.0.1:%d" % relay.port, "-quiet"] + client_args,
        stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        time.sleep(1.0)
        client.stdin.write(b"hello from openssl s_client\n")
        client.stdin.flush()
        time.sleep(0.5)
        server.stdin.write(b"hello from openssl s_server\n")
        server.stdin.flush()
        time.sleep(0.5)
        client.stdin.close()
        time.sleep(0.5)
    finally:
        for p in (client, server):
            p.kill()
            p.wait()
        relay.stop = True
        relay.join()
    if len(relay.c2s) < 2 or len(relay.s2c) < 2:
        print("capture_openssl: %s: too little traffic (%d/%d datagrams)"
              % (name, len(relay.c2s), len(relay.s2c)), file=sys.stderr)
        return False
    with open(os.path.join(outdir, "openssl-%s.c2s" % name), "wb") as f:
        f.write(frame(relay.c2s))
    with open(os.path.join(outdir, "openssl-%s.s2c" % name), "wb") as f:
        f.write(frame(relay.s2c))
    print("capture_openssl: %s: %d datagrams client->server, %d server->client"
          % (name, len(relay.c2s), len(relay.s2c)))
    return True


def main():
    if len(sys.argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    outdir = sys.argv[1]
    os.makedirs(outdir, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        ca = os.path.join(tmp, "ca.pem")
        subprocess.run(["openssl", "x509", "-inform", "der", "-in", os.path.join(PKI, "ca.der"), "-out", ca],
                       check=True)
        psk_server = ["-nocert", "-psk", PSK_HEX, "-psk_identity", PSK_ID, "-psk_hint", "openssl hint"]
        psk_client = ["-psk", PSK_HEX, "-psk_identity", PSK_ID]
        ok = True
        ok &= exchange("psk-gcm", psk_server + ["-cipher", "PSK-AES128-GCM-SHA256"],
                       psk_client + ["-cipher", "PSK-AES128-GCM-SHA256"], outdir)
        ok &= exchange("ecdhe-psk-cbc", psk_server + ["-cipher", "ECDHE-PSK-AES128-CBC-SHA256"],
                       psk_client + ["-cipher", "ECDHE-PSK-AES128-CBC-SHA256"], outdir)
        ok &= exchange("ecdhe-ecdsa",
                       ["-cert", os.path.join(PKI, "server-ec-chain.pem"), "-key", os.path.join(PKI, "server-ec.key"),
                        "-cipher", "ECDHE-ECDSA-AES128-GCM-SHA256"],
                       ["-CAfile", ca, "-cipher", "ECDHE-ECDSA-AES128-GCM-SHA256"], outdir)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
