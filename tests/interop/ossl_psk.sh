#!/usr/bin/env bash
# ossl_psk.sh [DTLSCAT [SRCDIR]]: dtlscat against OpenSSL 3.0 s_server/s_client, PSK suites.
#
#   dtlscat client -> s_server (stateful, and stateless with -listen), every suite
#   s_client -> dtlscat server, every suite
#   one run of each over [::1]
#   negatives: wrong PSK (both directions), unknown PSK identity (s_client -> dtlscat:
#   bad_record_mac, as a wrong key)
. "$(dirname "$0")/lib.sh"
need openssl ss

SUITES=(PSK-AES128-GCM-SHA256 PSK-AES128-CCM8 PSK-AES128-CBC-SHA256 ECDHE-PSK-AES128-CBC-SHA256
	ECDHE-PSK-CHACHA20-POLY1305)

for s in "${SUITES[@]}"; do
	if ! openssl ciphers "$s" >/dev/null 2>&1; then
		log "note: this openssl lacks $s; its cases are skipped"
		continue
	fi
	case_begin "ossl_psk: dtlscat client -> s_server, $s"
	scn_reset
	scn_ossl_server "$s" 127.0.0.1
	case_end

	case_begin "ossl_psk: dtlscat client -> s_server -listen, $s"
	scn_reset
	SRV_X=(-listen)
	scn_ossl_server "$s" 127.0.0.1
	case_end

	case_begin "ossl_psk: s_client -> dtlscat server, $s"
	scn_reset
	scn_ossl_client "$s" 127.0.0.1
	case_end
done

case_begin "ossl_psk: dtlscat client -> s_server -listen over [::1], PSK-AES128-GCM-SHA256"
scn_reset
SRV_X=(-listen)
scn_ossl_server PSK-AES128-GCM-SHA256 ::1
case_end

case_begin "ossl_psk: s_client -> dtlscat server over [::1], ECDHE-PSK-AES128-CBC-SHA256"
scn_reset
scn_ossl_client ECDHE-PSK-AES128-CBC-SHA256 ::1
case_end

# OpenSSL drops the undecryptable Finished without an alert (INTEROP gotcha 6): dtlscat
# must give up after its --timeout with a one-line reason.
case_begin "ossl_psk: negative: dtlscat client with a wrong PSK -> s_server"
scn_reset
EXPECT_FAIL=1 DC_TIMEOUT=2000 WAIT_HS=3
DC_CLI_AUTH=(--psk-identity "$PSK_ID" --psk "$WRONG_PSK")
scn_ossl_server PSK-AES128-GCM-SHA256 127.0.0.1
expect_rc_nonzero dc
expect_one_line_reason dc
expect_no_log srv '^CIPHER is' "s_server: no session established"
case_end

case_begin "ossl_psk: negative: s_client with a wrong PSK -> dtlscat server"
scn_reset
EXPECT_FAIL=1 DC_TIMEOUT=2000 WAIT_HS=3
OSSL_CLI_AUTH=(-psk "$WRONG_PSK" -psk_identity "$PSK_ID")
scn_ossl_client PSK-AES128-GCM-SHA256 127.0.0.1
expect_rc_nonzero cli
expect_rc_nonzero dc
expect_one_line_reason dc
expect_no_log dc '^negotiated:' "dtlscat server: no session established"
case_end

case_begin "ossl_psk: negative: s_client with an unknown identity -> dtlscat server"
scn_reset
EXPECT_FAIL=1 DC_TIMEOUT=2000 WAIT_HS=3
OSSL_CLI_AUTH=(-psk "$PSK" -psk_identity nobody)
scn_ossl_client PSK-AES128-GCM-SHA256 127.0.0.1
expect_rc_nonzero cli
# An unknown identity is answered as a wrong key (dtls_config_reveal_psk_identities).
expect_log cli 'alert bad record mac|SSL alert number 20' "s_client: alert bad_record_mac (20), as for a wrong key"
expect_no_log cli 'unknown psk identity|SSL alert number 115' "s_client: no unknown_psk_identity alert"
expect_rc_nonzero dc
expect_one_line_reason dc
case_end

finish
