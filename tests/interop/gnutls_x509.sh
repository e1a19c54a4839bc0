#!/usr/bin/env bash
# gnutls_x509.sh [DTLSCAT [SRCDIR]]: dtlscat against GnuTLS 3.7, certificate suites.
#
#   every certificate suite, both directions (gnutls-serv --echo with the chain,
#   gnutls-cli --x509cafile --verify-hostname gw.test)
#   client certificates both ways (dtlscat server --verify-client; gnutls-serv
#   --require-client-cert --verify-client-cert)
#   negatives: wrong host name, unknown CA, expired, pin mismatch (dtlscat client), a
#   client without a certificate to dtlscat server --verify-client
#   an RSA chain both ways, fragmented at MTU 576
# Not tested: an untrusted client certificate against gnutls-serv --verify-client-cert
# (gnutls-serv 3.7.9 segfaults on it: INTEROP gotcha 10).
. "$(dirname "$0")/lib.sh"
need gnutls-serv gnutls-cli stdbuf ss openssl
pki_setup

for s in "${CERT_SUITES[@]}"; do
	k=${SUITE_KEY[$s]}
	case_begin "gnutls_x509: dtlscat client -> gnutls-serv, $s (server-$k + intermediate)"
	scn_reset
	scn_x509 "$k"
	scn_gnutls_server "$s" 127.0.0.1
	case_end

	case_begin "gnutls_x509: gnutls-cli -> dtlscat server, $s (server-$k + intermediate)"
	scn_reset
	scn_x509 "$k"
	scn_gnutls_client "$s" 127.0.0.1
	expect_log cli '^- Status: The certificate is trusted' "gnutls-cli: The certificate is trusted"
	case_end
done

# ---- client certificates ----

GNUTLS_MTLS_SRV() { # KEY: gnutls-serv credentials that require and verify a client certificate
	GNUTLS_SRV_AUTH=(--x509certfile "$PKI/server-$1-chain.pem" --x509keyfile "$PKI/server-$1.key"
		--x509cafile "$PKI/ca.pem" --require-client-cert --verify-client-cert)
}

mtls_to_dtlscat() { # KEY SUITE CLIENT
	case_begin "gnutls_x509: gnutls-cli with a $3 certificate -> dtlscat server --verify-client, $2"
	scn_reset
	scn_x509 "$1"
	DC_SRV_AUTH+=(--verify-client --ca "$PKI/ca.pem")
	GNUTLS_CLI_AUTH+=(--x509certfile "$PKI/$3-chain.pem" --x509keyfile "$PKI/$3.key")
	scn_gnutls_client "$2" 127.0.0.1
	expect_log cli '^- Status: The certificate is trusted' "gnutls-cli: The certificate is trusted"
	case_end
}
mtls_to_dtlscat ec ECDHE-ECDSA-AES128-GCM-SHA256 client
mtls_to_dtlscat rsa ECDHE-RSA-AES128-GCM-SHA256 client-rsa

mtls_from_dtlscat() { # KEY SUITE CLIENT
	case_begin "gnutls_x509: dtlscat client with a $3 certificate -> gnutls-serv --require-client-cert --verify-client-cert, $2"
	scn_reset
	scn_x509 "$1"
	GNUTLS_MTLS_SRV "$1"
	DC_CLI_AUTH+=(--cert "$PKI/$3-chain.pem" --key "$PKI/$3.key")
	scn_gnutls_server "$2" 127.0.0.1
	expect_log srv '^- Status: The certificate is trusted' "gnutls-serv: client certificate trusted"
	case_end
}
mtls_from_dtlscat ec ECDHE-ECDSA-AES128-GCM-SHA256 client
mtls_from_dtlscat rsa ECDHE-RSA-AES128-GCM-SHA256 client-rsa

case_begin "gnutls_x509: dtlscat client --pin-sha256 (no --ca) -> gnutls-serv, ECDHE-ECDSA-CHACHA20-POLY1305"
scn_reset
scn_x509 ec
DC_CLI_AUTH=(--pin-sha256 "$(spki_pin "$PKI/server-ec.pem")")
scn_gnutls_server ECDHE-ECDSA-CHACHA20-POLY1305 127.0.0.1
case_end

# ---- negatives: dtlscat client must refuse gnutls-serv's certificate ----

neg_server() { # TITLE REGEX REASON CERT KEY  (after scn_x509 ec; DC_CLI_AUTH may be set)
	local title=$1 re=$2 what=$3
	case_begin "gnutls_x509: negative: $title"
	GNUTLS_SRV_AUTH=(--x509certfile "$4" --x509keyfile "$5" --disable-client-cert)
	EXPECT_FAIL=1 DC_TIMEOUT=4000 WAIT_HS=5
	scn_gnutls_server ECDHE-ECDSA-AES128-GCM-SHA256 127.0.0.1
	expect_reason dc "$re" "$what"
	expect_no_log dc '^negotiated:' "dtlscat: no session"
	wait_for srv 'alert' 2
	expect_log srv 'alert' "gnutls-serv: received dtlscat's alert"
	case_end
}
P=$PKI
scn_reset
scn_x509 ec
neg_server "wrong host name (server cert for wrong.test)" 'bad_certificate|certificate_unknown|name' \
	"a certificate/name error" "$P/server-wrong-chain.pem" "$P/server-wrong.key"
scn_reset
scn_x509 ec
neg_server "unknown CA (server cert issued by other-ca)" 'unknown_ca|trusted CA' "unknown CA" \
	"$P/server-unknown.pem" "$P/server-unknown.key"
scn_reset
scn_x509 ec
neg_server "expired server certificate" 'expired' "expiry" "$P/server-expired-chain.pem" "$P/server-expired.key"
scn_reset
scn_x509 ec
DC_CLI_AUTH=(--pin-sha256 "$(spki_pin "$P/server-rsa.pem")")
neg_server "pin mismatch (no --ca)" 'certificate|denied|pin|identity' "the certificate" \
	"$P/server-ec-chain.pem" "$P/server-ec.key"

case_begin "gnutls_x509: negative: gnutls-cli without a certificate -> dtlscat server --verify-client"
scn_reset
scn_x509 ec
DC_SRV_AUTH+=(--verify-client --ca "$PKI/ca.pem")
EXPECT_FAIL=1 DC_TIMEOUT=4000 WAIT_HS=5
scn_gnutls_client ECDHE-ECDSA-AES128-GCM-SHA256 127.0.0.1
expect_rc_nonzero cli
expect_log cli 'alert \[40\]|Handshake failed' "gnutls-cli: alert handshake_failure (40)"
expect_reason dc 'handshake_failure' "handshake_failure"
case_end

# ---- an RSA chain both ways at MTU 576 (GnuTLS --mtu is the datagram size) ----

case_begin "gnutls_x509: gnutls-cli --mtu 576 with an RSA client chain -> dtlscat server --mtu 576 --verify-client, ECDHE-RSA-AES128-GCM-SHA256"
scn_reset
scn_x509 rsa
DC_SRV_AUTH+=(--verify-client --ca "$PKI/ca.pem")
DC_X=(--mtu 576)
GNUTLS_CLI_AUTH+=(--x509certfile "$PKI/client-rsa-chain.pem" --x509keyfile "$PKI/client-rsa.key")
CLI_X=(--mtu 576)
relay_mtu 576
scn_gnutls_client ECDHE-RSA-AES128-GCM-SHA256 127.0.0.1
expect_max c2s 576
expect_max s2c 576
expect_fragmented s2c 11 "server Certificate"
expect_fragmented c2s 11 "client Certificate"
case_end

case_begin "gnutls_x509: dtlscat client --mtu 576 with an RSA client chain -> gnutls-serv --mtu 576 --require-client-cert, ECDHE-RSA-AES128-GCM-SHA256"
scn_reset
scn_x509 rsa
GNUTLS_MTLS_SRV rsa
DC_CLI_AUTH+=(--cert "$PKI/client-rsa-chain.pem" --key "$PKI/client-rsa.key")
DC_X=(--mtu 576)
SRV_X=(--mtu 576)
relay_mtu 576
scn_gnutls_server ECDHE-RSA-AES128-GCM-SHA256 127.0.0.1
expect_max c2s 576
expect_max s2c 576
expect_fragmented s2c 11 "server Certificate"
expect_fragmented c2s 11 "client Certificate"
case_end

finish
