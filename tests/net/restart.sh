#!/usr/bin/env bash
# kill -9 one gateway and start it again: the other side notices, and the tunnel
# carries pings again within the dead-peer time (keepalive 1 s, so 3 s) plus one
# dial retry. Both ways round: the waiting side (b) killed, then the dialling side (a).
. "$(dirname "$0")/lib.sh" "$@"

DEAD_S=3        # dead_after: 3 x keepalive
RETRY_S=2       # the first retry's backoff (1 s +-20%) and a handshake, rounded up
BOUND_S=$((DEAD_S + RETRY_S))

# ms since the epoch
ms() { date +%s%3N; }
# until_ping NS ADDR SECONDS: ping once every 0.2 s until one answers; prints the ms taken.
until_ping() {
	local t0 end
	t0=$(ms)
	end=$((t0 + $3 * 1000))
	while [ "$(ms)" -lt "$end" ]; do
		if nsx "$1" ping -c 1 -W 0.2 "$2" >/dev/null 2>&1; then
			echo $(($(ms) - t0))
			return 0
		fi
		sleep 0.1
	done
	return 1
}

pair_setup || { fail setup; finish; }
gw_start b "$NET_WORK/b.conf"
gw_start a "$NET_WORK/a.conf"
check "tunnel up" wait_log a "handshake done" 10
check "ping a -> b" ping_ok a 10.10.2.1 2

echo "== kill -9 b (the side that waits), start it again"
kill -KILL "${GW_PID[b]}"
wait "${GW_PID[b]}" 2>/dev/null
sleep 0.5
gw_start b "$NET_WORK/b.conf"
wait_log b "started" 5
if t=$(until_ping a 10.10.2.1 $((BOUND_S + 5))); then
	echo "  pings again ${t} ms after b's restart"
	check "within dead time + one retry (${BOUND_S} s): ${t} ms" test "$t" -le $((BOUND_S * 1000))
else
	fail "no ping through within $((BOUND_S + 5)) s of b's restart"
fi
check "a noticed: peer b dead" log_has a "peer b: dead \(no packet for [0-9]+ s\)"
check "a dialled again and b accepted" wait_log b "peer a: handshake done" 2
check "ping b -> a" ping_ok b 10.10.1.1 2
grep -h "dead\|dialling\|handshake done" "${GW_LOG[a]}" | tail -3 | sed 's/^/  a: /'

echo "== kill -9 a (the side that dials), start it again"
n_b=$(grep -c "peer a: handshake done" "${GW_LOG[b]}")
kill -KILL "${GW_PID[a]}"
wait "${GW_PID[a]}" 2>/dev/null
sleep 0.5
gw_start a "$NET_WORK/a.conf"
wait_log a "started" 5
if t=$(until_ping a 10.10.2.1 $((BOUND_S + 5))); then
	echo "  pings again ${t} ms after a's restart"
	check "within dead time + one retry (${BOUND_S} s): ${t} ms" test "$t" -le $((BOUND_S * 1000))
else
	fail "no ping through within $((BOUND_S + 5)) s of a's restart"
fi
check "b took the new handshake from the same address" \
	test "$(grep -c 'peer a: handshake done' "${GW_LOG[b]}")" -gt "$n_b"
check "ping b -> a" ping_ok b 10.10.1.1 2
check "ping a -> b over IPv6" ping_ok a fd00:10:2::1 2
grep -h "handshake done\|dead\|closed" "${GW_LOG[b]}" | tail -3 | sed 's/^/  b: /'

gw_stop a
gw_stop b
finish
