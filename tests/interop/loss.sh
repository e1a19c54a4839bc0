#!/usr/bin/env bash
# loss.sh [DTLSCAT [SRCDIR]]: handshake retransmission against real peers.
#
# relay.py between dtlscat and the peer drops one chosen datagram of one direction (the
# 2nd or 3rd: the ClientHello with the cookie, the server's flight, the client's
# Finished flight, the server's Finished), or 20% of the handshake datagrams at random
# (fixed seeds; application data and alerts pass, since DTLS does not resend them), or
# duplicates and reorders them. The handshake, a line each way and the close must
# still complete.
. "$(dirname "$0")/lib.sh"
need openssl gnutls-serv stdbuf ss

DC_TIMEOUT=10000

# drop_case TITLE SCENARIO SUITE DIR:N
drop_case() {
	local title=$1 scn=$2 suite=$3 drop=$4
	case_begin "loss: $title, drop $drop, $suite"
	scn_reset
	RELAY_X=(--drop "$drop" --verbose)
	WAIT_HS=10
	[ "${drop%%:*}" = s2c ] && S2C_NUDGE=1
	$scn "$suite" 127.0.0.1
	stop rel
	expect_log rel "^DROPPED ${drop%%:*} #${drop##*:}( |$)" "relay: DROPPED ${drop%%:*} #${drop##*:}"
	case_end
}

# impair_case TITLE SCENARIO SUITE RELAY-OPTIONS...
impair_case() {
	local title=$1 scn=$2 suite=$3
	shift 3
	case_begin "loss: $title, $*, $suite"
	scn_reset
	RELAY_X=(--only hs,ccs --verbose "$@")
	WAIT_HS=20
	S2C_NUDGE=1
	DC_TIMEOUT=20000
	$scn "$suite" 127.0.0.1
	stop rel
	log "  relay: $(grep -c '^DROPPED' "$CD/rel.out") dropped, $(grep -c '^DUPLICATED' "$CD/rel.out") duplicated, $(grep -c '^REORDERED' "$CD/rel.out") reordered"
	case_end
}

S=PSK-AES128-GCM-SHA256
for d in c2s:2 c2s:3 s2c:2 s2c:3; do
	drop_case "dtlscat client -> s_server" scn_ossl_server $S $d
done
for d in c2s:2 c2s:3 s2c:2 s2c:3; do
	drop_case "s_client -> dtlscat server" scn_ossl_client $S $d
done
# gnutls-serv sends ServerHello and ServerHelloDone, then CCS and Finished, in separate
# datagrams: s2c:2 is the ServerHello, s2c:3 the ServerHelloDone.
for d in c2s:2 c2s:3 s2c:2 s2c:3; do
	drop_case "dtlscat client -> gnutls-serv" scn_gnutls_server PSK-AES128-CCM8 $d
done
drop_case "dtlscat client -> s_server" scn_ossl_server ECDHE-PSK-AES128-CBC-SHA256 s2c:3

# Seeds chosen so that 20% loss hits two or three handshake datagrams.
impair_case "dtlscat client -> s_server" scn_ossl_server $S --loss 20 --seed 4
impair_case "s_client -> dtlscat server" scn_ossl_client $S --loss 20 --seed 7
impair_case "dtlscat client -> gnutls-serv" scn_gnutls_server $S --loss 20 --seed 2
impair_case "dtlscat client -> s_server" scn_ossl_server $S --dup 30 --reorder 30 --seed 4
impair_case "s_client -> dtlscat server" scn_ossl_client $S --dup 30 --reorder 30 --seed 3

finish
