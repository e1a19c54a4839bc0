#!/usr/bin/env bash
# Session limit: a hub with max_sessions = 2 and four configured spokes that all dial
# it. The first two get their tunnels; the other two, with valid PSK identities, pass
# the cookie exchange and are then refused (logged, counted as "handshakes refused
# (max_sessions)"), while the hub never holds more than 2 sessions (sampled through
# the control socket) and the two established tunnels are untouched: they keep
# carrying pings, with no new handshake. An established spoke that restarts (kill -9,
# same address) gets back in at the limit, its new session replacing its old one.
# When a spoke leaves (SIGTERM, close_notify), one of the refused ones takes the free
# place, and the last one is still refused.
. "$(dirname "$0")/lib.sh" "$@"

need_ctl

ctl() {
	local n=$1
	shift
	"$CTL_BIN" -s "$NET_WORK/$n.sock" -t 5 "$@"
}
sessions() { ctl "$1" --json status 2>/dev/null | python3 -c 'import json,sys; print(json.load(sys.stdin)["sessions"])'; }
peer_state() { ctl "$1" --json peer "$2" 2>/dev/null | python3 -c 'import json,sys; print(json.load(sys.stdin)["state"])'; }
hs_count() { grep -c "peer $2: handshake done" "${GW_LOG[$1]}"; }
up() { log_has "$1" "peer hub: handshake done"; }
gw_line() { grep 'notice: stats:' "${GW_LOG[$1]}" | tail -1; }
gw_stat() { gw_line "$1" | sed -E "s/.* ([0-9]+) $2.*/\1/"; }

SPOKES="s1 s2 s3 s4"
ns_add h $SPOKES || { fail setup; finish; }
gw_conf "$NET_WORK/h.conf" "[::]:4433" "10.30.0.1/24" "keepalive = 1" "max_sessions = 2" \
	"workers = 2"
i=0
for s in $SPOKES; do
	i=$((i + 1))
	link h "h$i" "192.0.$((100 + i)).1/24" "$s" "v$i" "192.0.$((100 + i)).2/24" ||
		{ fail setup; finish; }
	key=$(psk_new)
	peer_conf "$NET_WORK/h.conf" "$s" "psk_identity=id-$s" "psk=$key" "allowed_ips=10.30.$i.0/24"
	gw_conf "$NET_WORK/$s.conf" "[::]:4433" "10.30.$i.1/24" "keepalive = 1"
	peer_conf "$NET_WORK/$s.conf" hub "psk_identity=id-$s" "psk=$key" \
		"allowed_ips=10.30.0.0/24" "endpoint=192.0.$((100 + i)).1:4433"
done

gw_start h "$NET_WORK/h.conf"
check "hub started" wait_log h "started" 10
sampler h "$NET_WORK/sampler.out"
gw_start s1 "$NET_WORK/s1.conf"
gw_start s2 "$NET_WORK/s2.conf"
check "s1 up" wait_for 10 up s1
check "s2 up" wait_for 10 up s2
check "ping s1 -> hub" ping_ok s1 10.30.0.1 2
check "ping s2 -> hub" ping_ok s2 10.30.0.1 2
check "the hub holds 2 sessions" test "$(sessions h)" = 2

echo "== two more spokes dial a full hub"
gw_start s3 "$NET_WORK/s3.conf"
gw_start s4 "$NET_WORK/s4.conf"
check "the hub logs the refusal" \
	wait_log h "refused a handshake from 192\.0\.10[34]\.2:4433: max_sessions \(2\) reached" 10
# Both retransmit their ClientHello (1 s, 2 s...): give them a few rounds.
sleep 4
grep "max_sessions (2) reached" "${GW_LOG[h]}" | sed 's/^/  h: /'
stats h
refused=$(gw_stat h "handshakes refused")
cookies=$(gw_stat h "cookie exchanges")
check "the hub counted the refusals ($refused refused, after $cookies cookie exchanges)" \
	test "${refused:-0}" -ge 2
check "from both extra spokes" bash -c "grep -q 'from 192.0.103.2:4433: max_sessions' '${GW_LOG[h]}' &&
	grep -q 'from 192.0.104.2:4433: max_sessions' '${GW_LOG[h]}' ||
	grep -q 'max_sessions (2) reached.*suppressed' '${GW_LOG[h]}'"
check "s3 is not up" bash -c "! grep -q 'peer hub: handshake done' '${GW_LOG[s3]}'"
check "s4 is not up" bash -c "! grep -q 'peer hub: handshake done' '${GW_LOG[s4]}'"
check "the hub still holds 2 sessions" test "$(sessions h)" = 2
check "the hub shows s3 and s4 without a session" \
	test "$(peer_state h s3)" = connecting -a "$(peer_state h s4)" = connecting
check "no session error on the hub" bash -c "! grep -Eq 'no memory|assert|error:' '${GW_LOG[h]}'"
check "ping s1 -> hub still" ping_ok s1 10.30.0.1 3
check "ping s2 -> hub still" ping_ok s2 10.30.0.1 3
check "ping hub -> s1 and s2" bash -c "ip netns exec $(ns h) ping -c 2 -i 0.2 -W 1 10.30.1.1 >/dev/null &&
	ip netns exec $(ns h) ping -c 2 -i 0.2 -W 1 10.30.2.1 >/dev/null"
check "s1 and s2 kept their first session (1 handshake each on the hub)" \
	test "$(hs_count h s1)" = 1 -a "$(hs_count h s2)" = 1
tail -3 "${GW_LOG[s3]}" | sed 's/^/  s3: /'

echo "== an established spoke restarts at the limit"
gw_stop s1 KILL
rm -f "$NET_WORK/s1.log"
gw_start s1 "$NET_WORK/s1.conf"
check "s1 is back" wait_for 10 up s1
check "its new session replaced the old one (2 handshakes on the hub)" \
	wait_for 3 test "$(hs_count h s1)" = 2
check "ping s1 -> hub" ping_ok s1 10.30.0.1 3
check "the hub still holds 2 sessions" test "$(sessions h)" = 2
check "s3 and s4 still out" bash -c "! grep -q 'peer hub: handshake done' '${GW_LOG[s3]}' '${GW_LOG[s4]}'"

echo "== s2 leaves: one of the refused spokes takes its place"
gw_stop s2
check "the hub hears s2's close_notify" wait_log h "peer s2: closed by the peer" 5
if wait_for 30 bash -c "grep -q 'peer hub: handshake done' '${GW_LOG[s3]}' '${GW_LOG[s4]}'"; then
	in=$(grep -l 'peer hub: handshake done' "${GW_LOG[s3]}" "${GW_LOG[s4]}" | xargs -n1 basename | sed 's/\.log//')
	ok "$in took the free place"
	n=$(echo "$in" | wc -w)
	check "only one of s3 and s4 got in ($in)" test "$n" -eq 1
	i=${in#s}
	check "ping $in -> hub" ping_ok "$in" 10.30.0.1 3
else
	fail "neither s3 nor s4 got the free place within 30 s"
fi
sleep 2
check "the hub holds 2 sessions" test "$(sessions h)" = 2
check "ping s1 -> hub still" ping_ok s1 10.30.0.1 2
touch "$NET_WORK/stop-sampler"
wait "$SAMPLER_PID" 2>/dev/null
check "the hub never held more than 2 sessions ($(tr '\n' ' ' <"$NET_WORK/sampler.out"))" \
	test "$(awk '$1 == "MAX" { print $2 }' "$NET_WORK/sampler.out")" -le 2 -a \
	"$(awk '$1 == "SAMPLES" { print $2 }' "$NET_WORK/sampler.out")" -gt 50
stats h
echo "  h: $(gw_line h | cut -d' ' -f3-)"

for s in s4 s3 s1; do gw_stop "$s"; done
gw_stop h
check "hub exits 0" test $? -eq 0
finish
