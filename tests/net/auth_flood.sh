#!/usr/bin/env bash
# Handshakes that name a configured peer's PSK identity (sent in clear) with a wrong key
# are anyone's to send: 30 in a row must not write 30 warnings, nor count as the peer's
# own drops. b logs them rate-limited, per peer, and counts them apart
# (auth_failures); the peer itself still gets in with the right key.
. "$(dirname "$0")/lib.sh" "$@"
need_peer_sim
ab_setup || { fail setup; finish; }
key=$(psk_new)
wrong=$(psk_new)
gw_conf "$NET_WORK/b.conf" "[::]:4433" "10.10.2.1/24" "keepalive = 1"
peer_conf "$NET_WORK/b.conf" a psk_identity=a-b "psk=$key" "allowed_ips=10.10.1.0/24"
gw_start b "$NET_WORK/b.conf"
wait_log b "listening on" 5 || fail "b started"
peer_field() {
	"$CTL_BIN" -s "$NET_WORK/b.sock" --json peer a |
		python3 -c "import json,sys; p=json.load(sys.stdin); print(eval(sys.argv[1]))" "$1"
}

fails=0
for i in $(seq 30); do
	nsx a "$SIM" 192.0.2.2 4433 --psk-identity a-b --psk "$wrong" --lifetime 3 >/dev/null 2>&1 ||
		fails=$((fails + 1))
done
check "30 handshakes with a wrong key all failed ($fails)" test "$fails" -eq 30
n=$(log_count b "peer a: handshake failed")
check "b logged them rate-limited: $n lines for 30" test "$n" -le 5
check "and said it was before authentication" log_has b "before it authenticated"
n=$(peer_field 'p["auth_failures"]')
check "b counted 30 auth_failures for a ($n)" test "$n" -eq 30
n=$(peer_field 'p["drops"]["mac"] + p["drops"]["replay"]')
check "none of it counts as a's own drops ($n)" test "$n" -eq 0
check "a gets in with its key" \
	nsx a "$SIM" 192.0.2.2 4433 --psk-identity a-b --psk "$key" --lifetime 3 --send 10.10.1.5,10.10.2.1,1,10
finish
