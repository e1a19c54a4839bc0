#!/usr/bin/env bash
# A harder lossy path than lossy.sh's 5%: through the impairment relay at 10% loss each
# way, with 5% of the datagrams duplicated and 5% reordered, a bulk TCP transfer through
# the tunnel completes and its SHA-256 matches. Application records are never delivered
# twice: a packet socket on the receiving gateway's TUN device sees every inner packet
# it writes, and no packet appears twice (a TCP retransmission is a new packet with its
# own IP ID; a record delivered twice would write the same bytes again), while the
# receiver's replay counter grows by about as many records as the relay duplicated
# towards it. Size, time and counters are printed.
# Knobs: LOSSY_MB (16), LOSSY_SEED (the relay's seed; random).
. "$(dirname "$0")/lib.sh" "$@"

MB=${LOSSY_MB:-16}
need_ctl
# peer_drop NAME PEER REASON: a drop counter of PEER as gateway NAME sees it.
peer_drop() {
	"$CTL_BIN" -s "$NET_WORK/$1.sock" -t 5 --json peer "$2" |
		python3 -c "import json,sys; print(json.load(sys.stdin)['drops']['$3'])"
}
relay_count() { grep -c "^$1 $2 " "$NET_WORK/relay.out"; }

# a dials the relay in b's namespace, which forwards to b's gateway. Offloads off: b
# writes each opened record to its TUN as a packet of its own, so the capture can tell
# one delivered twice (with offloads, consecutive segments are merged first; the replay
# check they pass is the same).
PAIR_ENDPOINT=192.0.2.2:5000 PAIR_GW_EXTRA="offload = off" pair_setup || { fail setup; finish; }
SEED=${LOSSY_SEED:-$RANDOM}
nsx_bg b python3 "$RELAY" --listen 192.0.2.2:5000 --target 127.0.0.1:4433 \
	--loss 10 --dup 5 --reorder 5 --lifetime 280 --idle 0 --seed "$SEED" \
	>"$NET_WORK/relay.out" 2>&1
RELAY_PID=$BG_PID
check "relay ready" wait_for 10 grep -q READY "$NET_WORK/relay.out"
head -1 "$NET_WORK/relay.out" | sed 's/^/  relay: /'

gw_start b "$NET_WORK/b.conf"
gw_start a "$NET_WORK/a.conf"
check "handshake completes through 10% loss" wait_log a "peer b: handshake done" 40
check "b sees it from the relay" wait_log b "peer a: handshake done .* from 127.0.0.1:" 5
check "ping a -> b" wait_for 10 ping_ok a 10.10.2.1 1

# Every packet b writes to its TUN, as a packet socket sees it: the SHA-256 of each
# (whole IP packet) from a's side, counted; repeated ones are reported.
nsx_bg b python3 -c '
import hashlib, os, signal, socket, sys, time
s = socket.socket(socket.AF_PACKET, socket.SOCK_DGRAM, socket.htons(0x0003))
s.setsockopt(socket.SOL_SOCKET, 33, 32 << 20)  # SO_RCVBUFFORCE
s.bind(("dtlsgw0", 0))
s.settimeout(0.2)
stop = [False]
signal.signal(signal.SIGTERM, lambda *_: stop.__setitem__(0, True))
src = socket.inet_aton("10.10.1.1")
seen, n, dup, ids = set(), 0, 0, set()
print("READY", flush=True)
end = time.monotonic() + 250
while not stop[0] and time.monotonic() < end:
    try:
        p, addr = s.recvfrom(65536)
    except (socket.timeout, InterruptedError):
        continue
    if addr[2] != 0 or len(p) < 20 or p[0] >> 4 != 4 or p[12:16] != src:
        continue  # only what the gateway wrote (PACKET_HOST), IPv4 from a
    n += 1
    h = hashlib.sha256(p).digest()
    if h in seen:
        dup += 1
    seen.add(h)
    ids.add(p[4:6])
print("PACKETS", n)
print("DUPLICATES", dup)
print("IPIDS", len(ids))
' >"$NET_WORK/tuncap.out" 2>&1
CAP_PID=$BG_PID
check "capture on b's TUN ready" wait_for 10 grep -q READY "$NET_WORK/tuncap.out"

head -c $((MB * 1024 * 1024)) /dev/urandom >"$NET_WORK/blob"
want=$(sha256sum "$NET_WORK/blob" | cut -d' ' -f1)
nsx_bg b python3 "$(dirname "$0")/tcp_sink.py" 10.10.2.1 6000 >"$NET_WORK/recv.out" 2>&1
RECV_PID=$BG_PID
wait_for 5 listening b 6000
replay_b0=$(peer_drop b a replay)
replay_a0=$(peer_drop a b replay)
dup_c2s0=$(relay_count DUPLICATED c2s)
dup_s2c0=$(relay_count DUPLICATED s2c)
t0=$(date +%s%3N)
send_file a 10.10.2.1 6000 "$NET_WORK/blob" 220
st=$?
t1=$(date +%s%3N)
wait "$RECV_PID" 2>/dev/null
read -r got n <"$NET_WORK/recv.out"
sleep 0.5
dup_c2s=$(($(relay_count DUPLICATED c2s) - dup_c2s0))
dup_s2c=$(($(relay_count DUPLICATED s2c) - dup_s2c0))
replay_b=$(($(peer_drop b a replay) - replay_b0))
replay_a=$(($(peer_drop a b replay) - replay_a0))
kill -TERM "$CAP_PID"
wait "$CAP_PID" 2>/dev/null
ms=$((t1 - t0))
echo "  ${MB} MB in ${ms} ms ($((MB * 8 * 1000 / (ms > 0 ? ms : 1))) Mbit/s) through 10% loss, 5% duplication, 5% reordering each way"
check "the sender finished" test "$st" -eq 0
check "all $((MB * 1024 * 1024)) bytes arrived (got ${n:-0})" test "${n:-0}" -eq $((MB * 1024 * 1024))
check "SHA-256 matches" test "$got" = "$want"

kill -TERM "$RELAY_PID"
wait "$RELAY_PID" 2>/dev/null
total_c2s=$(grep -E '^EXIT' "$NET_WORK/relay.out" | sed -E 's/.*c2s=([0-9]+).*/\1/')
for what in DROPPED DUPLICATED REORDERED; do
	echo "  relay $what: c2s $(relay_count $what c2s), s2c $(relay_count $what s2c)"
done
echo "  relay: $(grep -E '^EXIT' "$NET_WORK/relay.out")"
dropped=$(grep -c '^DROPPED' "$NET_WORK/relay.out")
check "the relay did drop about 10% ($dropped dropped, $total_c2s datagrams a -> b)" \
	test "$dropped" -gt $((total_c2s / 20))
sed 's/^/  tun capture: /' "$NET_WORK/tuncap.out" | grep -v READY
pk=$(awk '$1 == "PACKETS" { print $2 }' "$NET_WORK/tuncap.out")
dups=$(awk '$1 == "DUPLICATES" { print $2 }' "$NET_WORK/tuncap.out")
# A TCP segment carries at most the tunnel MTU less 40 bytes of IPv4 and TCP headers.
mtu=$(ip -n "$(ns b)" link show dtlsgw0 | sed -n 's/.* mtu \([0-9]*\).*/\1/p')
seg=$((${mtu:-1400} - 40))
check "b wrote ${pk:-0} packets from a to its TUN, at least one per $seg bytes sent" \
	test "${pk:-0}" -ge $((MB * 1024 * 1024 / seg))
check "no packet was written twice (${dups:-?} repeated)" test "${dups:-1}" -eq 0
echo "  duplicated by the relay during the transfer: a -> b $dup_c2s, b -> a $dup_s2c; replay drops: on b $replay_b, on a $replay_a"
check "b's replay counter grew with the duplicates towards it ($replay_b for $dup_c2s)" \
	test "$replay_b" -ge $((dup_c2s * 9 / 10)) -a "$replay_b" -le $((dup_c2s + 5))
check "a's replay counter grew with the duplicates towards it ($replay_a for $dup_s2c)" \
	test "$replay_a" -ge $((dup_s2c * 9 / 10)) -a "$replay_a" -le $((dup_s2c + 5))
stats b
echo "  b: $(grep 'notice: peer a:' "${GW_LOG[b]}" | tail -1 | cut -d' ' -f3-)"
check "no MAC failures on b" test "$(counter b a mac)" = 0
gw_stop a
gw_stop b
finish
