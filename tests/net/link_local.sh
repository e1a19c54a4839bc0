#!/usr/bin/env bash
# Inner packets from a link-local source (169.254.0.0/16, fe80::/10: the ICMPv6
# redirects a hub sends on its own link) are dropped as before, but counted apart
# (drops.link_local) and logged at debug level, not as policy-drop warnings; a real
# policy drop still warns. IPv4 through peer_sim, IPv6 as an ICMPv6 redirect written
# through a raw socket on gateway a.
. "$(dirname "$0")/lib.sh" "$@"
need_peer_sim

field() { "$CTL_BIN" -s "$NET_WORK/$1.sock" --json peer "$2" | python3 -c "import json,sys; print(json.load(sys.stdin)$3)"; }

pair_setup || { fail setup; finish; }
key=$(sed -n 's/^psk = //p' "$NET_WORK/b.conf")
gw_start b "$NET_WORK/b.conf"
check "b listens" wait_log b "listening on" 5 || true

echo "== IPv4: 169.254.7.7 from peer a"
nsx a "$SIM" 192.0.2.2 4433 --psk-identity a-b --psk "$key" --lifetime 5 \
	--send 169.254.7.7,10.10.2.1,5,20 >/dev/null 2>&1
nsx a "$SIM" 192.0.2.2 4433 --psk-identity a-b --psk "$key" --lifetime 5 \
	--send 10.99.0.1,10.10.2.1,3,20 >/dev/null 2>&1
sleep 0.5
check "link_local drops counted" test "$(field b a "['drops']['link_local']")" -eq 5
check "policy drops: only the real ones" test "$(field b a "['drops']['policy']")" -eq 3
check "no warning for the link-local source" bash -c "! grep -q 'source 169.254.7.7' ${GW_LOG[b]}"
check "the real one still warns" grep -q "warning: peer a: policy drop: source 10.99.0.1 outside allowed prefixes" "${GW_LOG[b]}"
"$CTL_BIN" -s "$NET_WORK/b.sock" stats >"$NET_WORK/prom"
check "prometheus: link_local" grep -q '^dtlsgw_peer_drops_total{peer="a",reason="link_local"} 5' "$NET_WORK/prom"
stats b
check "SIGUSR1 line: link-local 5" test "$(counter b a link-local)" = 5

echo "== IPv6: an ICMPv6 redirect from fe80::1 through the tunnel, logged at debug"
"$CTL_BIN" -s "$NET_WORK/b.sock" log-level debug >/dev/null
gw_start a "$NET_WORK/a.conf"
check "a-b up" wait_log a "peer b: handshake done" 10
nsx a python3 -c '
import socket, struct
src = socket.inet_pton(socket.AF_INET6, "fe80::1")
dst = socket.inet_pton(socket.AF_INET6, "fd00:10:2::1")
# ICMPv6 redirect (type 137): target and destination; the checksum does not matter here
body = struct.pack("!BBHI", 137, 0, 0, 0) + dst + dst
hdr = struct.pack("!IHBB", 6 << 28, len(body), 58, 255) + src + dst
s = socket.socket(socket.AF_INET6, socket.SOCK_RAW, socket.IPPROTO_RAW)
for _ in range(3):
    s.sendto(hdr + body, ("fd00:10:2::1", 0))
'
check "b counts them as link-local" wait_for 3 test "$(field b a "['drops']['link_local']")" -eq 8
check "at debug level" grep -q "debug: peer a: link-local drop: source fe80::1" "${GW_LOG[b]}"
check "no policy warning for fe80::1" bash -c "! grep -q 'policy drop: source fe80::1' ${GW_LOG[b]}"

finish
