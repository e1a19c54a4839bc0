#!/usr/bin/env bash
# A new handshake from the address of a working session (RFC 6347 4.2.8): a relay
# (fresh_hello.py) between a and b starts, from the address b knows a by, a handshake of
# its own with a valid cookie, and goes no further than its ClientHello, as a replayed or
# late ClientHello of an abandoned attempt would. b must keep the working session for
# what it receives as well as what it sends until the new handshake completes: pings
# a -> b go on passing while the new handshake is open and after b gives it up (20 s),
# nobody declares the other dead, and there is no second handshake.
. "$(dirname "$0")/lib.sh" "$@"

if ! command -v python3 >/dev/null; then
	echo "SKIP: no python3 (scripts/setup installs it)"
	exit 77
fi

# a dials the relay in b's namespace, which forwards to b's gateway.
PAIR_ENDPOINT=192.0.2.2:5002 pair_setup || { fail setup; finish; }
nsx_bg b python3 "$(dirname "$0")/fresh_hello.py" 5002 4433 2000 >"$NET_WORK/fresh.out" 2>&1
FRESH_PID=$BG_PID
check "relay ready" wait_for 5 grep -q READY "$NET_WORK/fresh.out"

gw_start b "$NET_WORK/b.conf"
gw_start a "$NET_WORK/a.conf"
check "handshake done" wait_log b "peer a: handshake done" 10
check "ping a -> b before" ping_ok a 10.10.2.1 3
check "the relay started a handshake of its own with a cookie" \
	wait_for 10 grep -q "FRESH sent" "$NET_WORK/fresh.out"
# Right away, while b's new session waits for a ClientKeyExchange that never comes.
check "ping a -> b while the new handshake is open" ping_ok a 10.10.2.1 5
check "ping b -> a while the new handshake is open" ping_ok b 10.10.1.1 5
# Past dead_after (3 s): had b's new session taken a's records, b would have declared a
# dead by now, and a would dial again.
sleep 3
check "ping a -> b afterwards" ping_ok a 10.10.2.1 3
stats b
echo "  b: $(grep 'notice: peer a:' "${GW_LOG[b]}" | tail -1 | cut -d' ' -f3-)"
check "b saw the relay's ClientHello as a new handshake (2 cookie exchanges at least)" \
	test "$(grep 'notice: stats:' "${GW_LOG[b]}" | tail -1 | sed -E 's/.* ([0-9]+) cookie exchanges.*/\1/')" -ge 2
check "nobody declared the other dead" bash -c "! grep -q 'dead' ${GW_LOG[a]} ${GW_LOG[b]}"
check "one handshake on b" test "$(log_count b "peer a: handshake done")" -eq 1
check "one handshake on a" test "$(log_count a "peer b: handshake done")" -eq 1
# b gives the new handshake up (halfopen_timeout, 10 s, without the client's Finished)
# and the working session gets its address back: still everything of a's reaches it.
check "b gave the new handshake up" \
	wait_log b "handshake from 127\.0\.0\.1:[0-9]+ (failed|dropped: not authenticated)" 30
grep "handshake from 127.0.0.1:[0-9]* failed" "${GW_LOG[b]}" | tail -1 | sed 's/^/  b: /'
check "ping a -> b after that" ping_ok a 10.10.2.1 3
sleep 3
check "ping a -> b past dead_after again" ping_ok a 10.10.2.1 3
check "still nobody declared the other dead" bash -c "! grep -q 'dead' ${GW_LOG[a]} ${GW_LOG[b]}"
check "still one handshake each" \
	test "$(log_count b "peer a: handshake done")$(log_count a "peer b: handshake done")" = 11
kill -TERM "$FRESH_PID"
gw_stop a
gw_stop b
finish
