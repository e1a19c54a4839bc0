#!/usr/bin/env bash
# A peer that cannot be reached says so at once: the ICMP (or ICMPv6) port unreachable
# or host unreachable that comes back for our ClientHello ends the handshake with a
# line naming it ("handshake failed: ICMP port unreachable from 192.0.2.2"), counted as
# a failed handshake, and the next dial waits for the backoff (1 s, 2 s, ...), as after
# any failure, instead of a handshake that runs into its timeout 23 s later. The
# working tunnel to b is not disturbed.
. "$(dirname "$0")/lib.sh" "$@"
need_ctl

pair_setup || { fail setup; finish; }
# c: b's address, but a port where nothing listens; d: an address on the link that
# nobody has (no neighbour: host unreachable); e: the IPv6 port unreachable.
peer_conf "$NET_WORK/a.conf" c psk_identity=a-c "psk=$(psk_new)" "allowed_ips=10.10.3.0/24" \
	"endpoint=192.0.2.2:4499"
peer_conf "$NET_WORK/a.conf" d psk_identity=a-d "psk=$(psk_new)" "allowed_ips=10.10.4.0/24" \
	"endpoint=192.0.2.9:4433"
peer_conf "$NET_WORK/a.conf" e psk_identity=a-e "psk=$(psk_new)" "allowed_ips=10.10.5.0/24" \
	"endpoint=[fd00:192::2]:4499"
gw_start b "$NET_WORK/b.conf"
gw_start a "$NET_WORK/a.conf"
check "a-b up" wait_log a "peer b: handshake done" 10

check "c: port unreachable ends the handshake at once" \
	wait_log a "peer c: handshake failed: ICMP port unreachable from 192\.0\.2\.2 \(dialling 192\.0\.2\.2:4499\)" 3
check "e: the same over IPv6" \
	wait_log a "peer e: handshake failed: ICMPv6 port unreachable from fd00:192::2 \(dialling \[fd00:192::2\]:4499\)" 3
check "d: no neighbour, host unreachable, within seconds" \
	wait_log a "peer d: handshake failed: ICMP host unreachable from 192\.0\.2\.1 \(dialling 192\.0\.2\.9:4433\)" 8
grep -E "peer [cde]: (dialling|handshake failed)" "${GW_LOG[a]}" | head -6 | sed 's/^/  /'

# The backoff: dials of c no closer than 1 s, 2 s... (+-20%), however fast the refusals.
sleep 5
times=$(grep "peer c: dialling" "${GW_LOG[a]}" | awk '{print $1}')
echo "  c dialled at: $(echo $times)"
gaps=$(python3 -c '
import sys
t = []
for s in sys.argv[1:]:
    h, m, x = s.split(":")
    t.append(int(h) * 3600 + int(m) * 60 + float(x))
print(" ".join("%.2f" % (b - a) for a, b in zip(t, t[1:])))
' $times)
echo "  gaps: $gaps"
check "c dialled at least 3 times in 6 s (no 23 s timeout in between)" \
	test "$(echo "$times" | wc -l)" -ge 3
check "with the backoff between dials" python3 -c '
import sys
g = [float(x) for x in sys.argv[1:]]
sys.exit(0 if g and g[0] >= 0.75 and all(b >= a * 1.2 for a, b in zip(g, g[1:3])) else 1)
' $gaps
check "never a timeout for c" bash -c "! grep -q 'peer c: handshake failed: .*timed out' ${GW_LOG[a]}"
f=$("$CTL_BIN" -s "$NET_WORK/a.sock" --json peer c | python3 -c 'import json,sys; print(json.load(sys.stdin)["handshake_failures"])')
check "counted as failed handshakes ($f)" test "$f" -ge 3
n=$("$CTL_BIN" -s "$NET_WORK/a.sock" --json status | python3 -c 'import json,sys; print(json.load(sys.stdin)["icmp_errors"])')
check "status counts the ICMP errors ($n)" test "$n" -ge 3
check "the tunnel to b still carries traffic" ping_ok a 10.10.2.1
check "and no send to b failed" bash -c "! grep -q 'send to 192.0.2.2:4433' ${GW_LOG[a]}"

finish
