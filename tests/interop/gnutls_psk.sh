#!/usr/bin/env bash
# gnutls_psk.sh [DTLSCAT [SRCDIR]]: dtlscat against GnuTLS 3.7 gnutls-serv/gnutls-cli, PSK.
#
#   dtlscat client -> gnutls-serv --echo, every suite (+ --nocookie, + [::1])
#   gnutls-cli -> dtlscat server, every suite but ECDHE-PSK (gnutls-cli 3.7.9 segfaults
#   after any ECDHE-PSK handshake: INTEROP gotcha 11), + dtlscat server --no-cookie
#   negatives: wrong PSK and unknown identity against gnutls-serv, wrong PSK from gnutls-cli
. "$(dirname "$0")/lib.sh"
need gnutls-serv gnutls-cli stdbuf ss

SUITES=(PSK-AES128-GCM-SHA256 PSK-AES128-CCM8 PSK-AES128-CBC-SHA256 ECDHE-PSK-AES128-CBC-SHA256
	ECDHE-PSK-CHACHA20-POLY1305)

for s in "${SUITES[@]}"; do
	case_begin "gnutls_psk: dtlscat client -> gnutls-serv, $s"
	scn_reset
	scn_gnutls_server "$s" 127.0.0.1
	expect_log srv 'Sending hello verify request' "gnutls-serv: sent a HelloVerifyRequest"
	case_end

	case $s in
	ECDHE-PSK-*)
		log "--- gnutls_psk: gnutls-cli -> dtlscat server, $s: SKIPPED (gnutls-cli 3.7.9 segfaults after ECDHE-PSK handshakes)"
		continue
		;;
	esac
	case_begin "gnutls_psk: gnutls-cli -> dtlscat server, $s"
	scn_reset
	scn_gnutls_client "$s" 127.0.0.1
	case_end
done

case_begin "gnutls_psk: dtlscat client -> gnutls-serv over [::1], PSK-AES128-CCM8"
scn_reset
scn_gnutls_server PSK-AES128-CCM8 ::1
case_end

case_begin "gnutls_psk: dtlscat client -> gnutls-serv --nocookie, PSK-AES128-GCM-SHA256"
scn_reset
SRV_X=(--nocookie)
RELAY_X=(--verbose)
scn_gnutls_server PSK-AES128-GCM-SHA256 127.0.0.1
stop rel
expect_no_log srv 'Sending hello verify request' "gnutls-serv: no HelloVerifyRequest"
expect_no_log rel 'HelloVerifyRequest' "relay: no HelloVerifyRequest on the wire"
expect_log rel '^FWD s2c #1 .*hs=2/ServerHello,mseq=0' "relay: ServerHello is the first answer (message_seq 0)"
case_end

case_begin "gnutls_psk: gnutls-cli -> dtlscat server --no-cookie, PSK-AES128-GCM-SHA256"
scn_reset
DC_X=(--no-cookie)
RELAY_X=(--verbose)
scn_gnutls_client PSK-AES128-GCM-SHA256 127.0.0.1
stop rel
expect_no_log rel 'HelloVerifyRequest' "relay: no HelloVerifyRequest on the wire"
expect_log rel '^FWD s2c #1 .*hs=2/ServerHello,mseq=0' "relay: ServerHello is the first answer (message_seq 0)"
case_end

case_begin "gnutls_psk: gnutls-cli -> dtlscat server over [::1], PSK-AES128-CCM8"
scn_reset
scn_gnutls_client PSK-AES128-CCM8 ::1
case_end

case_begin "gnutls_psk: negative: dtlscat client with a wrong PSK -> gnutls-serv"
scn_reset
EXPECT_FAIL=1 DC_TIMEOUT=2000 WAIT_HS=3
DC_CLI_AUTH=(--psk-identity "$PSK_ID" --psk "$WRONG_PSK")
scn_gnutls_server PSK-AES128-GCM-SHA256 127.0.0.1
expect_rc_nonzero dc
expect_one_line_reason dc
expect_no_log srv '^received\[' "gnutls-serv: no data accepted"
case_end

case_begin "gnutls_psk: negative: dtlscat client with an unknown identity -> gnutls-serv"
scn_reset
EXPECT_FAIL=1 DC_TIMEOUT=2000 WAIT_HS=3
DC_CLI_AUTH=(--psk-identity nobody --psk "$PSK")
scn_gnutls_server PSK-AES128-GCM-SHA256 127.0.0.1
expect_rc_nonzero dc
expect_one_line_reason dc
expect_no_log srv '^received\[' "gnutls-serv: no data accepted"
case_end

case_begin "gnutls_psk: negative: gnutls-cli with a wrong PSK -> dtlscat server"
scn_reset
EXPECT_FAIL=1 DC_TIMEOUT=2000 WAIT_HS=3
GNUTLS_CLI_AUTH=(--pskusername "$PSK_ID" --pskkey "$WRONG_PSK")
scn_gnutls_client PSK-AES128-GCM-SHA256 127.0.0.1
expect_rc_nonzero cli
expect_rc_nonzero dc
expect_one_line_reason dc
expect_no_log dc '^negotiated:' "dtlscat server: no session established"
case_end

finish
