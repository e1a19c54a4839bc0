#!/usr/bin/env bash
# ossl_cert.sh [DTLSCAT [SRCDIR]]: dtlscat against OpenSSL 3.0, certificate suites.
#
#   every certificate suite, both directions (server chain: leaf + intermediate; the
#   client trusts ca.pem and checks gw.test)
#   client certificates both ways (dtlscat server --verify-client, s_server -Verify 2)
#   --pin-sha256 without a CA, both ways
#   negatives: wrong host name, unknown CA, expired, no intermediate sent, pin mismatch,
#   a client without a certificate to dtlscat server --verify-client
#   an RSA chain both ways, fragmented at MTU 576 (relay.py checks every datagram)
# The PKI comes from tests/pki/mkpki.sh.
. "$(dirname "$0")/lib.sh"
need openssl ss
pki_setup

for s in "${CERT_SUITES[@]}"; do
	k=${SUITE_KEY[$s]}
	case_begin "ossl_cert: dtlscat client -> s_server, $s (server-$k + intermediate)"
	scn_reset
	scn_x509 "$k"
	scn_ossl_server "$s" 127.0.0.1
	case_end

	case_begin "ossl_cert: s_client -> dtlscat server, $s (server-$k + intermediate)"
	scn_reset
	scn_x509 "$k"
	scn_ossl_client "$s" 127.0.0.1
	expect_log cli '^    Verify return code: 0 \(ok\)' "s_client: Verify return code: 0 (ok)"
	expect_log cli '^ 1 s:.*Intermediate CA' "s_client: the chain has the intermediate"
	case_end
done

case_begin "ossl_cert: dtlscat client -> s_server over [::1], ECDHE-ECDSA-AES128-GCM-SHA256"
scn_reset
scn_x509 ec
scn_ossl_server ECDHE-ECDSA-AES128-GCM-SHA256 ::1
case_end

# ---- client certificates ----

mtls_to_dtlscat() { # KEY SUITE CLIENT
	case_begin "ossl_cert: s_client with a $3 certificate -> dtlscat server --verify-client, $2"
	scn_reset
	scn_x509 "$1"
	DC_SRV_AUTH+=(--verify-client --ca "$PKI/ca.pem")
	OSSL_CLI_AUTH+=(-cert "$PKI/$3.pem" -key "$PKI/$3.key" -cert_chain "$PKI/int.pem")
	scn_ossl_client "$2" 127.0.0.1
	expect_log cli '^Client Certificate Types:' "s_client: dtlscat sent a CertificateRequest"
	case_end
}
mtls_to_dtlscat ec ECDHE-ECDSA-AES128-GCM-SHA256 client
mtls_to_dtlscat rsa ECDHE-RSA-AES128-GCM-SHA256 client-rsa
mtls_to_dtlscat rsa AES128-SHA client

mtls_from_dtlscat() { # KEY SUITE CLIENT CN
	case_begin "ossl_cert: dtlscat client with a $3 certificate -> s_server -Verify 2, $2"
	scn_reset
	scn_x509 "$1"
	DC_CLI_AUTH+=(--cert "$PKI/$3-chain.pem" --key "$PKI/$3.key")
	SRV_X=(-Verify 2 -CAfile "$PKI/ca.pem" -verify_return_error)
	scn_ossl_server "$2" 127.0.0.1
	expect_log srv "^subject=.*CN ?= ?${4//./\\.}\$" "s_server: client certificate subject CN $4"
	case_end
}
mtls_from_dtlscat ec ECDHE-ECDSA-AES128-GCM-SHA256 client client1.gw.test
mtls_from_dtlscat rsa ECDHE-RSA-AES128-GCM-SHA256 client-rsa client-rsa.gw.test

# ---- pins ----

case_begin "ossl_cert: dtlscat client --pin-sha256 (no --ca) -> s_server, ECDHE-ECDSA-AES128-GCM-SHA256"
scn_reset
scn_x509 ec
DC_CLI_AUTH=(--pin-sha256 "$(spki_pin "$PKI/server-ec.pem")")
scn_ossl_server ECDHE-ECDSA-AES128-GCM-SHA256 127.0.0.1
case_end

case_begin "ossl_cert: s_client with a certificate -> dtlscat server --verify-client --pin-sha256 (no --ca), ECDHE-ECDSA-AES128-GCM-SHA256"
scn_reset
scn_x509 ec
DC_SRV_AUTH+=(--verify-client --pin-sha256 "$(spki_pin "$PKI/client.pem")")
OSSL_CLI_AUTH+=(-cert "$PKI/client.pem" -key "$PKI/client.key" -cert_chain "$PKI/int.pem")
scn_ossl_client ECDHE-ECDSA-AES128-GCM-SHA256 127.0.0.1
case_end

# ---- negatives: dtlscat client must refuse the server's certificate ----

# neg_server TITLE REGEX REASON S_SERVER-CREDENTIALS... (after scn_x509 ec; DC_CLI_AUTH may be set)
neg_server() {
	local title=$1 re=$2 what=$3
	shift 3
	case_begin "ossl_cert: negative: $title"
	OSSL_SRV_AUTH=("$@")
	EXPECT_FAIL=1 DC_TIMEOUT=4000 WAIT_HS=5
	scn_ossl_server ECDHE-ECDSA-AES128-GCM-SHA256 127.0.0.1
	expect_reason dc "$re" "$what"
	expect_no_log dc '^negotiated:' "dtlscat: no session"
	wait_for srv 'alert' 2
	expect_log srv 'alert' "s_server: received dtlscat's alert"
	case_end
}
P=$PKI
scn_reset
scn_x509 ec
neg_server "wrong host name (server cert for wrong.test, dtlscat --servername gw.test)" \
	'bad_certificate|certificate_unknown|name' "a certificate/name error" \
	-cert "$P/server-wrong.pem" -key "$P/server-wrong.key" -cert_chain "$P/int.pem"
scn_reset
scn_x509 ec
DC_CLI_AUTH=(--ca "$P/ca.pem" --servername other.test)
neg_server "wrong host name (server cert for gw.test, dtlscat --servername other.test)" \
	'bad_certificate|certificate_unknown|name' "a certificate/name error" \
	-cert "$P/server-ec.pem" -key "$P/server-ec.key" -cert_chain "$P/int.pem"
scn_reset
scn_x509 ec
neg_server "unknown CA (server cert issued by other-ca)" 'unknown_ca|trusted CA' "unknown CA" \
	-cert "$P/server-unknown.pem" -key "$P/server-unknown.key"
scn_reset
scn_x509 ec
neg_server "expired server certificate" 'expired' "expiry" \
	-cert "$P/server-expired.pem" -key "$P/server-expired.key" -cert_chain "$P/int.pem"
scn_reset
scn_x509 ec
neg_server "server sends no intermediate" 'unknown_ca|trusted CA' "unknown CA" \
	-cert "$P/server-ec.pem" -key "$P/server-ec.key"
scn_reset
scn_x509 ec
DC_CLI_AUTH=(--pin-sha256 "$(spki_pin "$P/server-rsa.pem")")
neg_server "pin mismatch (dtlscat --pin-sha256 of another key, no --ca)" \
	'certificate|denied|pin|identity' "the certificate" \
	-cert "$P/server-ec.pem" -key "$P/server-ec.key" -cert_chain "$P/int.pem"

case_begin "ossl_cert: negative: s_client without a certificate -> dtlscat server --verify-client"
scn_reset
scn_x509 ec
DC_SRV_AUTH+=(--verify-client --ca "$PKI/ca.pem")
EXPECT_FAIL=1 DC_TIMEOUT=4000 WAIT_HS=5
scn_ossl_client ECDHE-ECDSA-AES128-GCM-SHA256 127.0.0.1
expect_rc_nonzero cli
expect_log cli 'alert handshake failure|alert number 40' "s_client: alert handshake_failure (40)"
expect_reason dc 'handshake_failure' "handshake_failure"
case_end

# ---- an RSA chain (leaf + intermediate, about 2.3 KB) in both directions at MTU 576 ----

case_begin "ossl_cert: s_client -mtu 576 with an RSA client chain -> dtlscat server --mtu 576 --verify-client, ECDHE-RSA-AES128-GCM-SHA256"
scn_reset
scn_x509 rsa
DC_SRV_AUTH+=(--verify-client --ca "$PKI/ca.pem")
DC_X=(--mtu 576)
OSSL_CLI_AUTH+=(-cert "$PKI/client-rsa.pem" -key "$PKI/client-rsa.key" -cert_chain "$PKI/int.pem")
CLI_X=(-mtu 576)
relay_mtu 576
scn_ossl_client ECDHE-RSA-AES128-GCM-SHA256 127.0.0.1
expect_max c2s 548
expect_max s2c 576
expect_fragmented s2c 11 "server Certificate"
expect_fragmented c2s 11 "client Certificate"
case_end

case_begin "ossl_cert: dtlscat client --mtu 576 with an RSA client chain -> s_server -mtu 576 -Verify 2, ECDHE-RSA-AES128-GCM-SHA256"
scn_reset
scn_x509 rsa
DC_CLI_AUTH+=(--cert "$PKI/client-rsa-chain.pem" --key "$PKI/client-rsa.key")
DC_X=(--mtu 576)
SRV_X=(-mtu 576 -Verify 2 -CAfile "$PKI/ca.pem" -verify_return_error)
relay_mtu 576
scn_ossl_server ECDHE-RSA-AES128-GCM-SHA256 127.0.0.1
expect_max c2s 576
expect_max s2c 548
expect_fragmented s2c 11 "server Certificate"
expect_fragmented c2s 11 "client Certificate"
case_end

finish
