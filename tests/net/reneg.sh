#!/usr/bin/env bash
# A peer may not renegotiate without end. openssl s_client, up as b's peer a, asks for
# six renegotiations (its "R" command) a second apart: b (libdtls's default limit, 3 a
# minute) goes along with the first three and refuses the rest with a no_renegotiation
# warning (the session would go on, but OpenSSL ends it then); b logs the excess
# (rate-limited) and counts it (renegotiations_refused).
. "$(dirname "$0")/lib.sh" "$@"
need_ctl
command -v openssl >/dev/null || { echo "SKIP: needs openssl"; exit 77; }

ns_add a b || { fail setup; finish; }
link a va 192.0.2.1/24 b vb 192.0.2.2/24
key=$(psk_new)
gw_conf "$NET_WORK/b.conf" "[::]:4433" "10.10.2.1/24" "keepalive = 0"
peer_conf "$NET_WORK/b.conf" a psk_identity=client1 "psk=$key" "allowed_ips=10.10.1.0/24"
gw_start b "$NET_WORK/b.conf"
wait_log b "listening on" 5 || fail "b started"

{
	sleep 1
	for _ in 1 2 3 4 5 6; do echo R; sleep 1; done
	sleep 1
} | nsx a timeout 20 openssl s_client -dtls1_2 -connect 192.0.2.2:4433 -psk "$key" \
	-psk_identity client1 -cipher ECDHE-PSK-CHACHA20-POLY1305 >"$NET_WORK/ossl.out" 2>&1
n=$(grep -c RENEGOTIATING "$NET_WORK/ossl.out")
check "s_client asked for 4 renegotiations at least ($n)" test "$n" -ge 4
n=$(log_count b "peer a: renegotiated")
check "b went along with 3 of them ($n)" test "$n" -eq 3
check "b logged the excess" log_has b "peer a: refused [0-9]+ renegotiations beyond 3 a minute"
n=$("$CTL_BIN" -s "$NET_WORK/b.sock" --json peer a 2>/dev/null |
	python3 -c 'import json,sys; print(json.load(sys.stdin)["renegotiations_refused"])')
check "b counted it ($n)" test "${n:-0}" -ge 1
# OpenSSL gives up on a refused renegotiation (it answers with handshake_failure):
# libdtls's own clients go on (unit.negative).
check "s_client saw the refusal" grep -q "no renegotiation" "$NET_WORK/ossl.out"
finish
