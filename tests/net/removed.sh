#!/usr/bin/env bash
# Nothing a removed or replaced peer sends reaches TUN. peer_sim (namespace a) is up as
# b's peer a, ignores close_notify, and keeps sending packets to b's inner address
# (every 50 ms). b then drops a three ways: a reload whose file no longer has a, a
# reload that changes a's key (a new peer a replaces the old), and dtlsgwctl
# remove-peer. The old session lingers while its close_notify goes unanswered; not one
# packet of it may reach b's TUN from the moment the command returns, and the drops
# are counted (drops.removed_peer).
. "$(dirname "$0")/lib.sh" "$@"
need_peer_sim
ab_setup || { fail setup; finish; }
k1=$(psk_new)
k2=$(psk_new)
# write_b [KEY]: b's config, with peer a (key KEY) if KEY is given.
write_b() {
	gw_conf "$NET_WORK/b.conf" "[::]:4433" "10.10.2.1/24" "keepalive = 1"
	[ -n "${1:-}" ] && peer_conf "$NET_WORK/b.conf" a psk_identity=a-b "psk=$1" \
		"allowed_ips=10.10.1.0/24"
	return 0
}
ctl() { timeout 10 "$CTL_BIN" -s "$NET_WORK/b.sock" "$@" >/dev/null; }
removed_drops() {
	"$CTL_BIN" -s "$NET_WORK/b.sock" --json status |
		python3 -c 'import json,sys; print(json.load(sys.stdin)["totals"]["drops"]["removed_peer"])'
}

write_b "$k1"
gw_start b "$NET_WORK/b.conf"
wait_log b "listening on" 5 || fail "b started"
sink_start b 10.10.2.1

# round NAME KEY ACTION...: peer_sim up with KEY, sending; after 10 packets, ACTION;
# then nothing more may arrive.
round() {
	local name=$1 key=$2 out=$NET_WORK/$1.out before after
	shift 2
	nsx_bg a "$SIM" 192.0.2.2 4433 --psk-identity a-b --psk "$key" --ignore-close \
		--send 10.10.1.5,10.10.2.1,60,50 --lifetime 8 >"$out" 2>&1
	local sim=$BG_PID
	if ! wait_for 5 grep -q "SENT 10" "$out"; then
		fail "$name: peer_sim is up and sending"
		kill "$sim" 2>/dev/null
		return
	fi
	check "$name: its packets reach b's TUN before ($(sink_count))" test "$(sink_count)" -ge 5
	if "$@"; then ok "$name: $*"; else fail "$name: $*"; fi
	sleep 0.1 # what was on the wire when the command returned
	before=$(sink_count)
	wait_for 6 grep -q "SENT 60" "$out"
	sleep 0.3
	after=$(sink_count)
	check "$name: none of the $(grep -c SENT "$out") sent reached b's TUN after it ($((after - before)))" \
		test "$after" -eq "$before"
	kill "$sim" 2>/dev/null
	wait "$sim" 2>/dev/null
	: >"$NET_WORK/sink.out"
}

echo "== removed by a reload"
drop_a() { write_b; ctl reload; }
round reload "$k1" drop_a
n=$(removed_drops)
check "the removed peer's records were counted as dropped ($n)" test "$n" -gt 20

echo "== key changed by a reload"
write_b "$k1"
ctl reload || fail "a is back"
new_key() { write_b "$k2"; ctl reload; }
round rekey "$k1" new_key

echo "== remove-peer"
round remove "$k2" ctl remove-peer a
finish
