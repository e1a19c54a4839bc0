#!/usr/bin/env bash
# Half-open handshakes must not fill the gateway. A hub b serves peers a and c; c's
# tunnel carries pings throughout. halfopen_flood (namespace f) makes 20,000 half-open
# handshakes (cookie exchange done, then silence, plus fragments that claim 32 KiB
# messages) first from 1 address and 20,000 ports, then from 1,000 addresses; during
# each, a restarts and dials in from a new port. a must have its tunnel within 2 s of the flood's
# start, c's pings must keep flowing, b's RSS must grow by less than 32 MiB, and b must
# count what it refused and dropped (dtlsgwctl status/stats).
. "$(dirname "$0")/lib.sh" "$@"
need_ctl
FLOOD=${HALFOPEN_FLOOD:-$NET_BUILD/tests/net/halfopen_flood}
[ -x "$FLOOD" ] || { echo "FAIL: no halfopen_flood at $FLOOD (build first)"; exit 1; }

ns_add a b c f || { fail setup; finish; }
link a va 192.0.2.1/24 b vb 192.0.2.2/24
link c vc 198.51.100.2/24 b vd 198.51.100.1/24
link f fl0 203.0.113.2/24 b fl1 203.0.113.1/24
ip -n "$(ns b)" route add 198.18.0.0/15 via 203.0.113.2
ka=$(psk_new)
kc=$(psk_new)
gw_conf "$NET_WORK/b.conf" "[::]:4433" "10.10.2.1/24" "keepalive = 1" "workers = 2"
peer_conf "$NET_WORK/b.conf" a psk_identity=a-b "psk=$ka" "allowed_ips=10.10.1.0/24"
peer_conf "$NET_WORK/b.conf" c psk_identity=c-b "psk=$kc" "allowed_ips=10.10.3.0/24"
gw_conf "$NET_WORK/a.conf" "[::]:4433" "10.10.1.1/24" "keepalive = 1"
peer_conf "$NET_WORK/a.conf" b psk_identity=a-b "psk=$ka" "allowed_ips=10.10.2.0/24" \
	endpoint=192.0.2.2:4433
gw_conf "$NET_WORK/c.conf" "[::]:4433" "10.10.3.1/24" "keepalive = 1"
peer_conf "$NET_WORK/c.conf" b psk_identity=c-b "psk=$kc" "allowed_ips=10.10.2.0/24" \
	endpoint=198.51.100.1:4433

rss_kb() { awk '/^VmRSS/ {print $2}' "/proc/${GW_PID[b]}/status"; }
status() { "$CTL_BIN" -s "$NET_WORK/b.sock" -t 5 --json status; }
refused() { status | python3 -c "import json,sys; print(json.load(sys.stdin)['handshakes_refused']['$1'])"; }

gw_start b "$NET_WORK/b.conf"
gw_start c "$NET_WORK/c.conf"
gw_start a "$NET_WORK/a.conf"
check "c is up" wait_log c "peer b: handshake done" 10
check "a is up" wait_log a "peer b: handshake done" 10
sleep 0.5
rss0=$(rss_kb)
rss_max=$rss0
port=4433

# flood NAME ADDRS MIN: one flood of 20,000 at 10,000 a second, a restarting 0.5 s in;
# the server must have made at least MIN sessions for it.
flood() {
	local name=$1 addrs=$2 min=$3 t0 t_up ms pings rss n
	gw_stop a KILL
	nsx_bg c ping -q -c 40 -i 0.1 -W 1 10.10.2.1 >"$NET_WORK/$name.ping"
	local ping_pid=$BG_PID
	nsx_bg f "$FLOOD" --iface fl0 --dst 203.0.113.1:4433 --src-net 198.18.0.0 \
		--addrs "$addrs" --count 20000 --rate 10000 --pin-reassembly --linger 1 \
		>"$NET_WORK/$name.flood"
	local flood_pid=$BG_PID
	t0=$(date +%s%N)
	sleep 0.5
	rm -f "$NET_WORK/a.log"
	# from a new port (as after a NAT rebinding), so that b has no session for it
	port=$((port + 1))
	sed -i "s/^listen = .*/listen = [::]:$port/" "$NET_WORK/a.conf"
	gw_start a "$NET_WORK/a.conf"
	if wait_log a "peer b: handshake done" 10; then
		t_up=$(date +%s%N)
		ms=$(((t_up - t0) / 1000000))
		check "$name: a's tunnel is up ${ms} ms after the flood started (at most 2000)" \
			test "$ms" -le 2000
	else
		fail "$name: a's tunnel came up"
	fi
	check "$name: ping a -> b through the new tunnel" ping_ok a 10.10.2.1
	wait "$flood_pid"
	rss=$(rss_kb)
	[ "$rss" -gt "$rss_max" ] && rss_max=$rss
	wait "$ping_pid" 2>/dev/null
	pings=$?
	check "$name: c's pings went on during the flood" test "$pings" -eq 0
	echo "$name: flood: $(tr '\n' ' ' <"$NET_WORK/$name.flood")"
	echo "$name: b RSS ${rss0} kB before the floods, ${rss} kB after this one"
	n=$(sed -n 's/^SERVER_HELLO //p' "$NET_WORK/$name.flood")
	check "$name: the flood made sessions (its ServerHellos came back: $n, at least $min)" \
		test "${n:-0}" -ge "$min"
}

echo "== 20,000 half-open handshakes from 1 address"
flood one 1 64
n=$(refused halfopen_per_address)
check "one: b refused the address's handshakes over max_halfopen_per_address ($n)" \
	test "$n" -gt 10000
check "one: b logged it" log_has b "max_halfopen_per_address"

echo "== 20,000 half-open handshakes from 1,000 addresses"
flood many 1000 10000
n=$(refused halfopen_evicted)
check "many: b dropped the oldest half-open handshakes for newer ones ($n)" \
	test "$n" -gt 10000
check "many: b logged it" log_has b "max_halfopen\): the oldest is dropped"
check "stats shows the refusals" bash -c "'$CTL_BIN' -s '$NET_WORK/b.sock' stats |
	grep -q 'dtlsgw_handshakes_refused_total{reason=\"halfopen_evicted\"} [1-9]'"

growth=$(((rss_max - rss0) / 1024))
check "b's RSS grew by ${growth} MiB (less than 32)" test "$growth" -lt 32
sleep 11
n=$(status | python3 -c "import json,sys; print(json.load(sys.stdin)['halfopen'])")
check "the half-open handshakes are gone after halfopen_timeout ($n left)" test "$n" -eq 0
check "c is still up, on its first session" test "$(log_count b 'peer c: handshake done')" -eq 1
finish
