#!/usr/bin/env bash
# Handshakes that must fail, and the logs must say why: a wrong PSK (same identity,
# different keys) and an identity the other side does not know, which the peer is told
# about exactly as about a wrong key. No tunnel comes up,
# and the dialling side retries with backoff.
. "$(dirname "$0")/lib.sh" "$@"

# run_pair CASE: a fresh pair with the knobs the caller exported, for 4 s.
run_pair() {
	pair_setup || return 1
	gw_start b "$NET_WORK/b.conf"
	gw_start a "$NET_WORK/a.conf"
	wait_log a "handshake failed" 5
	sleep 3.5
}
teardown_pair() {
	gw_stop a
	gw_stop b
	ip netns del "$(ns a)"
	ip netns del "$(ns b)"
	NET_NS=()
}

echo "== wrong PSK"
PSK_A=$(psk_new) PSK_B=$(psk_new) run_pair || fail "setup"
grep -h "handshake" "${GW_LOG[a]}" "${GW_LOG[b]}" | sort | sed 's/^/  /'
check "a: handshake failed, b sent bad_record_mac" \
	log_has a "peer b: handshake failed: peer sent alert bad_record_mac \(do both sides have the same PSK\?\)"
check "b: handshake with peer a failed on the record MAC" \
	log_has b "peer a: handshake failed: record authentication failed \(sent alert bad_record_mac\)"
check "no handshake done" bash -c "! grep -q 'handshake done' ${GW_LOG[a]} ${GW_LOG[b]}"
check "no ping through" bash -c "! ip netns exec $(ns a) ping -c 1 -W 1 10.10.2.1 >/dev/null 2>&1"
n=$(grep -c "peer b: dialling" "${GW_LOG[a]}")
check "a retried with backoff: $n attempts in about 4 s (1 s, 2 s, ... +-20%)" test "$n" -ge 2 -a "$n" -le 4
teardown_pair
rm -f "$NET_WORK"/a.log "$NET_WORK"/b.log

echo "== unknown identity: answered as a wrong key"
ID_A=stranger run_pair || fail "setup"
grep -h "handshake\|identity" "${GW_LOG[a]}" "${GW_LOG[b]}" | sort | sed 's/^/  /'
check "b: unknown PSK identity \"stranger\" from a's address" \
	log_has b 'unknown PSK identity "stranger" from 192\.0\.2\.1:4433'
# To the client an unknown identity looks exactly like a wrong key (bad_record_mac), so
# that a scanner cannot tell which identities exist; b's own log still says which.
check "b: the failed handshake names the identity and the alert" \
	log_has b 'handshake from 192\.0\.2\.1:4433, PSK identity "stranger" failed: record authentication failed \(sent alert bad_record_mac\)'
check "a: handshake failed, b sent bad_record_mac as for a wrong key" \
	log_has a "peer b: handshake failed: peer sent alert bad_record_mac"
check "b never answered unknown_psk_identity" \
	bash -c "! grep -q 'unknown_psk_identity' ${GW_LOG[a]} ${GW_LOG[b]}"
check "no handshake done" bash -c "! grep -q 'handshake done' ${GW_LOG[a]} ${GW_LOG[b]}"
check "no ping through" bash -c "! ip netns exec $(ns a) ping -c 1 -W 1 10.10.2.1 >/dev/null 2>&1"
teardown_pair
finish
