#!/usr/bin/env bash
# b's last handshake flight (ChangeCipherSpec and Finished) is lost three times on its
# way to a, through a relay in b's namespace. b is done when a's Finished arrives; a is
# done only when the fourth copy of b's flight gets through, about 7 s later, after its
# retransmissions of its own last flight 1, 3 and 7 s after it. With keepalive 1 and
# dead_after 3, b must not drop the session meanwhile: a's retransmissions authenticate
# under the new keys (news from a), and between the last two b hears nothing for 4 s,
# but a may still lack b's last flight. The tunnel works once a is done, and b logs no
# "dead".
. "$(dirname "$0")/lib.sh" "$@"

if ! command -v python3 >/dev/null; then
	echo "SKIP: no python3 (scripts/setup installs it)"
	exit 77
fi

PAIR_GW_EXTRA="dead_after = 3" PAIR_ENDPOINT=192.0.2.2:5000 pair_setup ||
	{ fail setup; finish; }
# b's handshake datagrams: 1 HelloVerifyRequest, 2 ServerHello + ServerHelloDone, 3 its
# last flight, 4 and 5 the copies it sends when a's retransmissions come.
nsx_bg b python3 "$RELAY" --listen 192.0.2.2:5000 --target 127.0.0.1:4433 \
	--only hs,ccs --drop s2c:3,4,5 --verbose --timestamps --lifetime 120 --idle 0 \
	>"$NET_WORK/relay.out" 2>&1
RELAY_PID=$BG_PID
check "relay ready" wait_for 10 grep -q READY "$NET_WORK/relay.out"

gw_start b "$NET_WORK/b.conf"
gw_start a "$NET_WORK/a.conf"
check "b is done first" wait_log b "peer a: handshake done" 10
t0=$(date +%s%3N)
check "a is done later" wait_log a "peer b: handshake done" 15
echo "  a was done $(($(date +%s%3N) - t0)) ms after b"
check "the relay dropped b's last flight three times" \
	test "$(grep -c '^DROPPED s2c' "$NET_WORK/relay.out")" -eq 3
check "ping a -> b" wait_for 5 ping_ok a 10.10.2.1 1
check "ping b -> a" ping_ok b 10.10.1.1 2
check "b kept the session: no 'dead'" bash -c "! grep -q 'peer a: dead' '${GW_LOG[b]}'"
check "one handshake on each side" \
	test "$(log_count a 'handshake done')" -eq 1 -a "$(log_count b 'handshake done')" -eq 1
if [ "$FAILED" -gt 0 ]; then
	sed 's/^/  relay: /' "$NET_WORK/relay.out"
	sed 's/^/  a: /' "${GW_LOG[a]}"
	sed 's/^/  b: /' "${GW_LOG[b]}"
fi
kill -TERM "$RELAY_PID"
gw_stop a
gw_stop b
finish
