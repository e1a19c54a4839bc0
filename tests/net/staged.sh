#!/usr/bin/env bash
# Packets for a peer whose handshake is not done yet wait for it instead of being
# dropped: a starts while b is down, one ping is sent into the tunnel, b starts, and
# that ping's reply arrives once the handshake is done. A packet that waited longer
# than 5 s is dropped (and counted) instead of being delivered late.
. "$(dirname "$0")/lib.sh" "$@"

pair_setup || { fail setup; finish; }

gw_start a "$NET_WORK/a.conf"
check "a dials b, which is down" wait_log a "peer b: dialling" 10
check "a's tunnel address is up" wait_for 5 bash -c "ip -n $(ns a) addr show dtlsgw0 | grep -q 10.10.1.1"
# One echo request, waiting up to 10 s for its reply, sent while there is no session.
nsx a ping -c 1 -W 10 10.10.2.1 >"$NET_WORK/ping1.out" 2>&1 &
PING=$!
sleep 1
gw_start b "$NET_WORK/b.conf"
check "handshake done" wait_log a "peer b: handshake done" 15
wait "$PING"
st=$?
sed -n 's/^\(64 bytes.*\)/  ping: \1/p' "$NET_WORK/ping1.out"
check "the ping sent before the handshake got its reply" test "$st" -eq 0
stats a
echo "  a: $(grep 'notice: peer b:' "${GW_LOG[a]}" | tail -1 | cut -d' ' -f3-)"
check "no packet dropped for want of a session on a" test "$(counter a b no-session)" -eq 0

# b down again: a packet that waits more than 5 s is not delivered.
gw_stop b
check "a notices b is gone" wait_log a "peer b: (closed|dead)" 10
before=$(counter a b no-session)
nsx a ping -c 1 -W 12 10.10.2.1 >"$NET_WORK/ping2.out" 2>&1 &
PING=$!
sleep 7
gw_start b "$NET_WORK/b.conf"
check "handshake done again" wait_for 15 log_more a "peer b: handshake done" 1
wait "$PING"
st=$?
check "a ping that waited over 5 s got no reply" test "$st" -ne 0
stats a
check "it was counted as dropped" test "$(counter a b no-session)" -gt "${before:-0}"
check "pings pass again" ping_ok a 10.10.2.1 3
gw_stop a
gw_stop b
finish
