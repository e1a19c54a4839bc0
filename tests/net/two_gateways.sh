#!/usr/bin/env bash
# Two gateways, a dialling b: the tunnel comes up, pings go both ways over IPv4 and
# IPv6, iperf3 carries TCP for a few seconds each way (throughput printed, not
# asserted), --check judges the configs, and SIGTERM ends cleanly with close_notify
# and the routes gone.
. "$(dirname "$0")/lib.sh" "$@"

pair_setup || { fail "setup"; finish; }

check "--check accepts a.conf" "$DTLSGWD" --check -c "$NET_WORK/a.conf"
printf '[gateway]\nmtu = 12\n[peer x]\npsk = zz\n' >"$NET_WORK/bad.conf"
chmod 600 "$NET_WORK/bad.conf"
out=$("$DTLSGWD" --check -c "$NET_WORK/bad.conf" 2>&1)
st=$?
echo "$out" | sed 's/^/  --check: /'
check "--check refuses a bad file, naming line and key" \
	test "$st" -eq 1 -a -n "$(echo "$out" | grep -E 'bad.conf:2: \[gateway\] mtu:')"

gw_start b "$NET_WORK/b.conf"
gw_start a "$NET_WORK/a.conf"
check "handshake done on a" wait_log a "peer b: handshake done \(TLS_[A-Z0-9_]+\) with 192.0.2.2:4433" 10
check "handshake done on b" wait_log b "peer a: handshake done \(TLS_[A-Z0-9_]+\) from 192.0.2.1:4433" 10
grep -h "handshake done" "${GW_LOG[a]}" "${GW_LOG[b]}" | sed 's/^/  /'
# The default suites are AEAD (AES-GCM: 13 bytes of header, 8 of nonce, 16 of tag).
check "tun MTU is the path MTU minus the DTLS overhead (1400 - 37)" \
	bash -c "ip -n $(ns a) link show dtlsgw0 | grep -q 'mtu 1363'"
check "route to b's prefixes on a" \
	bash -c "ip -n $(ns a) route show 10.10.2.0/24 | grep -q dtlsgw0 && ip -n $(ns a) -6 route show fd00:10:2::/64 | grep -q dtlsgw0"

for pair in "a 10.10.2.1" "b 10.10.1.1" "a fd00:10:2::1" "b fd00:10:1::1"; do
	set -- $pair
	if out=$(nsx "$1" ping -c 5 -i 0.2 -W 2 "$2" 2>&1); then
		ok "ping $1 -> $2: $(echo "$out" | tail -1)"
	else
		fail "ping $1 -> $2"
		echo "$out" | tail -3
	fi
done
# A packet above the tunnel MTU is refused by the kernel before it reaches us (DF),
# and one just at the MTU goes through.
check "ping of exactly the tunnel MTU (1363) passes" \
	nsx a ping -q -c 2 -i 0.2 -W 2 -s 1335 -M do 10.10.2.1
check "ping above the tunnel MTU is refused locally" \
	bash -c "! ip netns exec $(ns a) ping -c 1 -W 1 -s 1336 -M do 10.10.2.1 >/dev/null 2>&1"

# iperf3, a few seconds each way.
nsx_bg b iperf3 -s -B 10.10.2.1 -p 5201 >/dev/null 2>&1
wait_for 5 listening b 5201
for dir in "" "-R"; do
	if out=$(timeout 30 ip netns exec "$(ns a)" iperf3 -c 10.10.2.1 -p 5201 -t 3 $dir -f m 2>&1); then
		rate=$(echo "$out" | grep -E 'receiver$' | tail -1 | awk '{print $7, $8}')
		ok "iperf3 TCP a $([ -z "$dir" ] && echo '->' || echo '<-') b: $rate"
	else
		fail "iperf3 $dir"
		echo "$out" | tail -3
	fi
	sleep 0.5
done

stats a
echo "  $(grep 'notice: peer b:' "${GW_LOG[a]}" | tail -1 | cut -d' ' -f3-)"
check "no policy drops on a" test "$(counter a b policy)" = 0

gw_stop a
check "a exits 0 on SIGTERM" test $? -eq 0
check "b hears a's close_notify" wait_log b "peer a: closed by the peer" 3
check "a's routes are gone" bash -c "! ip -n $(ns a) route show 10.10.2.0/24 | grep -q ."
check "a's tun is gone" bash -c "! ip -n $(ns a) link show dtlsgw0 >/dev/null 2>&1"
gw_stop b
check "b exits 0 on SIGTERM" test $? -eq 0
finish
