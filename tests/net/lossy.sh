#!/usr/bin/env bash
# Through a UDP relay (tests/interop/relay.py) that drops 5% of the datagrams each way
# and duplicates and reorders some: the handshake completes, and a 20 MB TCP transfer
# through the tunnel arrives intact (SHA-256 compared). The time is printed.
# Then handshakes through a relay that loses 5% and duplicates and delays half of the handshake
# datagrams (copies of a ClientHello arriving after the session is up must
# not replace it): each of five handshakes leaves a working tunnel. Last, through a
# relay that sends a copy of every ClientHello 500 ms later, after the handshake is
# done: the session stays.
. "$(dirname "$0")/lib.sh" "$@"

MB=20
if ! command -v python3 >/dev/null; then
	echo "SKIP: no python3 (scripts/setup installs it)"
	exit 77
fi

# a dials the relay in b's namespace, which forwards to b's gateway.
PAIR_ENDPOINT=192.0.2.2:5000 pair_setup || { fail setup; finish; }
nsx_bg b python3 "$RELAY" --listen 192.0.2.2:5000 --target 127.0.0.1:4433 \
	--loss 5 --dup 2 --reorder 3 --lifetime 280 --idle 0 --seed "$RANDOM" \
	>"$NET_WORK/relay.out" 2>&1
RELAY_PID=$BG_PID
check "relay ready" wait_for 10 grep -q READY "$NET_WORK/relay.out"
head -1 "$NET_WORK/relay.out" | sed 's/^/  relay: /'

gw_start b "$NET_WORK/b.conf"
gw_start a "$NET_WORK/a.conf"
check "handshake completes through the lossy relay" wait_log a "peer b: handshake done" 30
check "b sees it from the relay" wait_log b "peer a: handshake done .* from 127.0.0.1:" 5
check "ping a -> b" wait_for 10 ping_ok a 10.10.2.1 1

head -c $((MB * 1024 * 1024)) /dev/urandom >"$NET_WORK/blob"
want=$(sha256sum "$NET_WORK/blob" | cut -d' ' -f1)
nsx_bg b python3 "$(dirname "$0")/tcp_sink.py" 10.10.2.1 6000 >"$NET_WORK/recv.out" 2>&1
RECV_PID=$BG_PID
wait_for 5 listening b 6000
t0=$(date +%s%3N)
send_file a 10.10.2.1 6000 "$NET_WORK/blob" 240
st=$?
t1=$(date +%s%3N)
wait "$RECV_PID" 2>/dev/null
read -r got n <"$NET_WORK/recv.out"
ms=$((t1 - t0))
echo "  ${MB} MB in ${ms} ms ($((MB * 8 * 1000 / (ms > 0 ? ms : 1))) Mbit/s) through 5% loss each way"
check "the sender finished" test "$st" -eq 0
check "all $((MB * 1024 * 1024)) bytes arrived (got ${n:-0})" test "${n:-0}" -eq $((MB * 1024 * 1024))
check "SHA-256 matches" test "$got" = "$want"

kill -TERM "$RELAY_PID"
wait "$RELAY_PID" 2>/dev/null
for what in DROPPED DUPLICATED REORDERED; do
	echo "  relay $what: $(grep -c "^$what" "$NET_WORK/relay.out")"
done
check "the relay did drop datagrams" test "$(grep -c '^DROPPED' "$NET_WORK/relay.out")" -gt 100
stats b
echo "  b: $(grep 'notice: peer a:' "${GW_LOG[b]}" | tail -1 | cut -d' ' -f3-)"
gw_stop a

echo "== handshakes through heavy duplication and late copies"
nsx_bg b python3 "$RELAY" --listen 192.0.2.2:5000 --target 127.0.0.1:4433 --only hs,ccs \
	--loss 5 --dup 50 --reorder 50 --reorder-wait 300 --lifetime 200 --idle 0 \
	--verbose --timestamps --seed "$RANDOM" >"$NET_WORK/relay2.out" 2>&1
RELAY_PID=$BG_PID
wait_for 10 grep -q READY "$NET_WORK/relay2.out"
head -1 "$NET_WORK/relay2.out" | sed "s/^/  relay: /"
# log_ms NAME PATTERN: the time of day, in ms, of the last line of NAME's log matching it.
log_ms() {
	grep -E "$2" "${GW_LOG[$1]}" | tail -1 |
		awk '{ split($1, t, ":"); printf "%d\n", (t[1] * 3600 + t[2] * 60 + t[3]) * 1000 }'
}
good=0
for i in 1 2 3 4 5; do
	n=$(log_count b "peer a: handshake done")
	rm -f "$NET_WORK/a.log" # a's lines from before must not count as this handshake's
	gw_start a "$NET_WORK/a.conf"
	# b is done when a's last flight arrives; a when b's answer to it does, which may
	# take a's retransmissions of that flight (1, 3, 7, 15 s after it; its handshake
	# gives up at 20 s): wait that long, or one lost answer late in the schedule fails.
	if wait_for 30 log_more b "peer a: handshake done" "$n" &&
		wait_log a "peer b: handshake done" 20; then
		echo "  handshake $i: a done $(($(log_ms a "peer b: handshake done") -
			$(log_ms b "peer a: handshake done"))) ms after b"
		sleep 1 # the late copies arrive (300 ms hold)
		if ping_ok a 10.10.2.1 5; then
			good=$((good + 1))
		else
			echo "  handshake $i: up, but the tunnel does not carry pings afterwards"
			stats a
			stats b
			tail -n 25 "${GW_LOG[a]}" | sed 's/^/  a: /'
			tail -n 25 "${GW_LOG[b]}" | sed 's/^/  b: /'
			tail -n 40 "$NET_WORK/relay2.out" | sed 's/^/  relay: /'
		fi
	else
		echo "  handshake $i: did not complete"
		tail -n 25 "${GW_LOG[a]}" | sed 's/^/  a: /'
		tail -n 25 "${GW_LOG[b]}" | sed 's/^/  b: /'
		tail -n 40 "$NET_WORK/relay2.out" | sed 's/^/  relay: /'
	fi
	gw_stop a
done
check "5 of 5 handshakes left a working tunnel ($good)" test "$good" -eq 5
kill -TERM "$RELAY_PID"
wait "$RELAY_PID" 2>/dev/null
for what in DROPPED DUPLICATED REORDERED; do
	echo "  relay $what: $(grep -c "^$what" "$NET_WORK/relay2.out")"
done
check "b never replaced a working session" bash -c "! grep -q 'superseded\|replaced' ${GW_LOG[b]}"

echo "== late copies of the ClientHello"
nsx_bg b python3 "$(dirname "$0")/late_hello.py" 5001 4433 500 >"$NET_WORK/late.out" 2>&1
LATE_PID=$BG_PID
wait_for 5 grep -q READY "$NET_WORK/late.out"
sed -i 's/^endpoint = .*/endpoint = 192.0.2.2:5001/' "$NET_WORK/a.conf"
n=$(log_count b "peer a: handshake done")
gw_start a "$NET_WORK/a.conf"
check "handshake done" wait_for 10 log_more b "peer a: handshake done" "$n"
check "the late copies arrived after it" wait_for 5 grep -q "LATE 2" "$NET_WORK/late.out"
sleep 0.3
check "the session stays: pings go through" ping_ok a 10.10.2.1 3
check "no second handshake" test "$(log_count b "peer a: handshake done")" -eq $((n + 1))
kill -TERM "$LATE_PID"
gw_stop a
gw_stop b
finish
