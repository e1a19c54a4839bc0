#!/usr/bin/env bash
# Two gateways with `offload = on`: the TUN device takes virtio-net headers with
# checksum, TSO and USO offloads, the UDP sockets GSO and GRO. Bytes must arrive
# intact through every path: TCP super-packets cut into records and merged again
# (IPv4 one way, IPv6 the other, checked by SHA-256), UDP datagrams one by one and
# sent with UDP_SEGMENT (USO), pings of every size up to the MTU; no tun or policy
# drops; and with `offload = off` on one side the two still talk.
. "$(dirname "$0")/lib.sh" "$@"
XFER="$(dirname "$0")/xfer.py"

PAIR_GW_EXTRA="offload = on" pair_setup || { fail "setup"; finish; }
gw_start b "$NET_WORK/b.conf"
gw_start a "$NET_WORK/a.conf"
check "handshake done" wait_log a "peer b: handshake done" 10
for g in a b; do
	if log_has $g "offloads: checksum on, TCP segmentation on"; then
		ok "$g: TUN offloads on: $(grep -ho 'offloads: .*' "${GW_LOG[$g]}" | head -1)"
	else
		fail "$g: TUN offloads not on"
		grep -E "tun|offload" "${GW_LOG[$g]}" | sed 's/^/  /'
	fi
done
check "a: UDP offloads on" log_has a "UDP offloads: segmentation on, receive coalescing on"

for pair in "a 10.10.2.1" "b 10.10.1.1" "a fd00:10:2::1" "b fd00:10:1::1"; do
	set -- $pair
	check "ping $1 -> $2" ping_ok "$1" "$2" 3
done
check "pings of 0..1295 bytes of payload a -> b" \
	bash -c "for s in 0 1 7 100 599 1000 1294 1295; do ip netns exec $(ns a) ping -q -c 1 -W 2 -s \$s -M do 10.10.2.1 >/dev/null || exit 1; done"

# xfer DIR SERVER_NS CLIENT_NS ADDR PORT BYTES: a TCP transfer, compared by SHA-256.
xfer() {
	local what=$1 sn=$2 cn=$3 addr=$4 port=$5 bytes=$6 out sent got
	out=$NET_WORK/xfer.$port
	nsx_bg "$sn" timeout 60 python3 "$XFER" tcp-recv "$addr" "$port" >"$out"
	local spid=$BG_PID
	wait_for 5 listening "$sn" "$port"
	sent=$(timeout 60 ip netns exec "$(ns "$cn")" python3 "$XFER" tcp-send "$addr" "$port" "$bytes" "$port")
	wait "$spid" 2>/dev/null
	got=$(cat "$out")
	if [ -n "$sent" ] && [ "$sent" = "$got" ]; then
		ok "$what: $bytes bytes intact"
	else
		fail "$what: sent '$sent', received '$got'"
	fi
}
xfer "TCP a -> b over IPv4" b a 10.10.2.1 7001 30000000
xfer "TCP b -> a over IPv6" a b fd00:10:1::1 7002 30000000
xfer "TCP a -> b, small" b a 10.10.2.1 7003 1000

# udp WHAT SIZE [gso]: 60 datagrams a -> b, all there and intact.
udp() {
	local what=$1 size=$2 gso=${3:-} out sent got port=$((7100 + $2 % 97))
	out=$NET_WORK/udp.$port
	nsx_bg b timeout 20 python3 "$XFER" udp-recv 10.10.2.1 "$port" 60 3 >"$out"
	local spid=$BG_PID
	sleep 0.5
	sent=$(timeout 20 ip netns exec "$(ns a)" python3 "$XFER" udp-send 10.10.2.1 "$port" 60 "$size" "$port" $gso)
	wait "$spid" 2>/dev/null
	got=$(cat "$out")
	if [ -n "$sent" ] && [ "$sent" = "$got" ]; then
		ok "$what: 60 datagrams of $size bytes intact"
	else
		fail "$what: sent '$sent', received '$got'"
	fi
}
udp "UDP one by one" 1200
udp "UDP with UDP_SEGMENT (USO through the tunnel)" 1000 gso

stats a
stats b
check "no tun drops on b" test "$(counter b a tun)" = 0
check "no tun drops on a" test "$(counter a b tun)" = 0
check "no policy drops on b" test "$(counter b a policy)" = 0
check "no MAC failures on b" test "$(counter b a mac)" = 0
echo "  $(grep 'notice: peer a:' "${GW_LOG[b]}" | tail -1 | cut -d' ' -f3-)"
grep -h "offload stats:" "${GW_LOG[a]}" "${GW_LOG[b]}" | tail -2 | sed 's/^/  /'
# offload_count NAME FIELD: the number before FIELD in the last offload stats line.
offload_count() { grep "offload stats:" "${GW_LOG[$1]}" | tail -1 | sed -E "s/.* ([0-9]+) $2.*/\1/"; }
check "a read TCP super-packets from tun" test "$(offload_count a 'super-packets read')" -gt 0
check "b read TCP super-packets from tun (IPv6)" test "$(offload_count b 'super-packets read')" -gt 0
check "b merged segments into super-packets" test "$(offload_count b 'merged writes')" -gt 0
check "a merged segments into super-packets (IPv6)" test "$(offload_count a 'merged writes')" -gt 0
check "a sent with GSO" test "$(offload_count a 'GSO sends')" -gt 0
check "b received with GRO" test "$(offload_count b 'GRO receives')" -gt 0
check "no super-packet dropped on a" test "$(offload_count a 'super-packets dropped')" = 0
check "no super-packet dropped on b" test "$(offload_count b 'super-packets dropped')" = 0

# One side without offloads: the wire format is the same.
gw_stop a
sed -i 's/^offload = on$/offload = off/' "$NET_WORK/a.conf"
gw_start a "$NET_WORK/a.conf"
check "a without offloads: handshake done" wait_log a "peer b: handshake done" 10
check "a without offloads: no TUN offloads" bash -c "! grep -q 'offloads: checksum' ${GW_LOG[a]} || [ \$(grep -c 'offloads: checksum' ${GW_LOG[a]}) -eq 1 ]"
xfer "TCP a (no offloads) -> b (offloads)" b a 10.10.2.1 7004 10000000
xfer "TCP b (offloads) -> a (no offloads)" a b 10.10.1.1 7005 10000000
gw_stop a
check "a exits 0" test $? -eq 0
gw_stop b
check "b exits 0" test $? -eq 0
finish
