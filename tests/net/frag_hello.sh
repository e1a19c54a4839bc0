#!/usr/bin/env bash
# ClientHellos in fragments reach dtlsgwd. A peer whose ClientHello is larger than its
# path MTU sends it in pieces; b must put them together whatever their order, with no
# state for the sender before the cookie verifies:
#   - openssl s_client -mtu 256 (a long cipher list: 2 or more fragments), in order and,
#     through a relay that swaps each pair of datagrams, in reverse;
#   - dtlscat --mtu 200 with a long server name;
#   - peer_sim --hello-pieces 28: the last piece, the first, the last again, then the
#     middle ones overlapping (no piece holds all the cookie covers);
#   - the same while a flood of 20,000 partial hellos from spoofed addresses fills b's
#     area for them: the area stays bounded (b's RSS too) and the peer still gets in.
. "$(dirname "$0")/lib.sh" "$@"
need_ctl
SIM=${PEER_SIM:-$NET_BUILD/tests/net/peer_sim}
FLOOD=${HALFOPEN_FLOOD:-$NET_BUILD/tests/net/halfopen_flood}
DTLSCAT=${DTLSCAT:-$NET_BUILD/lib/dtlscat}
for x in "$SIM" "$FLOOD" "$DTLSCAT"; do
	[ -x "$x" ] || { echo "FAIL: no $x (build first)"; exit 1; }
done
command -v openssl >/dev/null || { echo "SKIP: needs openssl"; exit 77; }

ns_add a b f || { fail setup; finish; }
link a va 192.0.2.1/24 b vb 192.0.2.2/24
link f fl0 203.0.113.2/24 b fl1 203.0.113.1/24
ip -n "$(ns b)" route add 198.18.0.0/15 via 203.0.113.2
key=$(psk_new)
gw_conf "$NET_WORK/b.conf" "[::]:4433" "10.10.2.1/24" "keepalive = 1"
peer_conf "$NET_WORK/b.conf" a psk_identity=client1 "psk=$key" "allowed_ips=10.10.1.0/24"
gw_start b "$NET_WORK/b.conf"
wait_log b "listening on" 5 || fail "b started"
sink_start b 10.10.2.1
status() { "$CTL_BIN" -s "$NET_WORK/b.sock" -t 5 --json status; }
field() { status | python3 -c "import json,sys; print(json.load(sys.stdin)['$1'])"; }
done_count() { log_count b "peer a: handshake done"; }

# ossl NAME PORT: s_client -mtu 256 to b (or to a relay at PORT in a's namespace).
ossl() {
	local name=$1 port=$2 host=${3:-192.0.2.2} before
	before=$(done_count)
	(printf 'hello\n'; sleep 2) | nsx a timeout 10 openssl s_client -dtls1_2 -mtu 256 \
		-connect "$host:$port" -psk "$key" -psk_identity client1 \
		-cipher 'PSK:ECDHE-PSK:ALL:@SECLEVEL=0' >"$NET_WORK/$name.out" 2>&1
	check "$name: s_client completed its handshake" grep -q "Cipher is" "$NET_WORK/$name.out"
	check "$name: b took it as peer a" test "$(done_count)" -gt "$before"
}

echo "== openssl s_client -mtu 256, fragments in order"
ossl ossl-in-order 4433
check "the ClientHello came in fragments (b held $(field hello_fragments))" \
	test "$(field hello_fragments)" -ge 1

echo "== the same, fragments swapped in pairs"
nsx_bg a python3 "$RELAY" --listen 127.0.0.1:5001 --target 192.0.2.2:4433 --only hs \
	--dir c2s --reorder 100 --reorder-wait 50 --lifetime 20 >"$NET_WORK/relay.out"
wait_for 5 grep -q READY "$NET_WORK/relay.out"
ossl ossl-swapped 5001 127.0.0.1
check "the relay swapped datagrams" grep -q REORDERED "$NET_WORK/relay.out"

echo "== dtlscat --mtu 200"
before=$(done_count)
(printf 'hello\n'; sleep 2) | nsx a timeout 10 "$DTLSCAT" client 192.0.2.2 4433 --mtu 200 \
	--psk-identity client1 --psk "$key" \
	--servername "a-long-name-that-makes-the-client-hello-longer-than-the-mtu.gw.example.test" \
	>"$NET_WORK/dtlscat.out" 2>&1
check "dtlscat: b took it as peer a" test "$(done_count)" -gt "$before"

echo "== peer_sim: 28-byte pieces in a hostile order"
nsx a "$SIM" 192.0.2.2 4433 --psk-identity client1 --psk "$key" --hello-pieces 28 \
	--send 10.10.1.5,10.10.2.1,3,50 --lifetime 5 >"$NET_WORK/pieces.out" 2>&1
check "peer_sim sent its hellos in pieces" grep -q PIECES "$NET_WORK/pieces.out"
check "peer_sim got its tunnel" grep -q ESTABLISHED "$NET_WORK/pieces.out"
check "and its packets reached b's TUN ($(sink_count))" test "$(sink_count)" -ge 2

echo "== the same under a flood of 20,000 partial hellos"
rss0=$(awk '/^VmRSS/ {print $2}' "/proc/${GW_PID[b]}/status")
nsx_bg f "$FLOOD" --iface fl0 --dst 203.0.113.1:4433 --src-net 198.18.0.0 --addrs 1000 \
	--count 20000 --rate 10000 --partial --linger 0.5 >"$NET_WORK/flood.out"
flood_pid=$BG_PID
sleep 0.5
: >"$NET_WORK/sink.out"
nsx a "$SIM" 192.0.2.2 4433 --psk-identity client1 --psk "$key" --hello-pieces 28 \
	--send 10.10.1.5,10.10.2.1,3,50 --lifetime 5 >"$NET_WORK/flooded.out" 2>&1
check "peer_sim got its tunnel during the flood" grep -q ESTABLISHED "$NET_WORK/flooded.out"
wait "$flood_pid"
echo "  flood: $(tr '\n' ' ' <"$NET_WORK/flood.out")"
n=$(field hello_fragments_evicted)
check "the flood's partial hellos were evicted from the area ($n)" test "$n" -gt 15000
rss=$(awk '/^VmRSS/ {print $2}' "/proc/${GW_PID[b]}/status")
check "b's RSS grew by $(((rss - rss0) / 1024)) MiB (less than 4)" test $((rss - rss0)) -lt 4096
check "no session was made for the flood" test "$(field sessions)" -le 1
finish
