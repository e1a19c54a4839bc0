#!/usr/bin/env bash
# fragment.sh [DTLSCAT [SRCDIR]]: handshake fragmentation with a small MTU.
#
# dtlscat --mtu 300 in both roles against OpenSSL (-mtu 300: datagrams <= 272, the link MTU
# minus 28) and GnuTLS (--mtu 300: datagrams <= 300), with a PSK suite (small messages:
# only packing is exercised) and with ECDHE-ECDSA and the server chain (the Certificate
# message, about 1.5 KB, must be fragmented and reassembled). A relay between the two
# (relay.py --max-datagram --verbose) checks every datagram size and shows the fragments.
# Also: s_client -mtu 256 with a long cipher list, i.e. a fragmented ClientHello, against
# the dtlscat server.
. "$(dirname "$0")/lib.sh"
need openssl gnutls-serv gnutls-cli stdbuf ss
pki_setup

MTU=300
OSSL_MAX=$((MTU - 28))

for kind in psk x509; do
	if [ $kind = psk ]; then
		suite=PSK-AES128-GCM-SHA256
	else
		suite=ECDHE-ECDSA-AES128-GCM-SHA256
	fi

	case_begin "fragment: dtlscat client --mtu $MTU -> s_server -mtu $MTU, $suite"
	scn_reset
	[ $kind = x509 ] && scn_x509 ec
	SRV_X=(-mtu "$MTU") DC_X=(--mtu "$MTU")
	relay_mtu "$MTU"
	scn_ossl_server "$suite" 127.0.0.1
	expect_max c2s "$MTU"
	expect_max s2c "$OSSL_MAX"
	[ $kind = x509 ] && expect_fragmented s2c 11 "server Certificate"
	case_end

	case_begin "fragment: s_client -mtu $MTU -> dtlscat server --mtu $MTU, $suite"
	scn_reset
	[ $kind = x509 ] && scn_x509 ec
	CLI_X=(-mtu "$MTU") DC_X=(--mtu "$MTU")
	relay_mtu "$MTU"
	scn_ossl_client "$suite" 127.0.0.1
	expect_max c2s "$OSSL_MAX"
	expect_max s2c "$MTU"
	[ $kind = x509 ] && expect_fragmented s2c 11 "server Certificate"
	case_end

	case_begin "fragment: dtlscat client --mtu $MTU -> gnutls-serv --mtu $MTU, $suite"
	scn_reset
	[ $kind = x509 ] && scn_x509 ec
	SRV_X=(--mtu "$MTU") DC_X=(--mtu "$MTU")
	relay_mtu "$MTU"
	scn_gnutls_server "$suite" 127.0.0.1
	expect_max c2s "$MTU"
	expect_max s2c "$MTU"
	[ $kind = x509 ] && expect_fragmented s2c 11 "server Certificate"
	case_end

	case_begin "fragment: gnutls-cli --mtu $MTU -> dtlscat server --mtu $MTU, $suite"
	scn_reset
	[ $kind = x509 ] && scn_x509 ec
	CLI_X=(--mtu "$MTU") DC_X=(--mtu "$MTU")
	relay_mtu "$MTU"
	scn_gnutls_client "$suite" 127.0.0.1
	expect_max c2s "$MTU"
	expect_max s2c "$MTU"
	[ $kind = x509 ] && expect_fragmented s2c 11 "server Certificate"
	case_end
done

# A ClientHello above 228 bytes (many suites offered) is fragmented by s_client -mtu 256;
# the dtlscat server must reassemble it, both before and after the HelloVerifyRequest.
case_begin "fragment: s_client -mtu 256 (fragmented ClientHello) -> dtlscat server, PSK-AES128-CCM8"
scn_reset
CLI_X=(-mtu 256) DC_X=(--ciphers PSK-AES128-CCM8) DC_TIMEOUT=5000 WAIT_HS=6
OSSL_CIPHERS='PSK-AES128-CCM8:ALL:@SECLEVEL=0'
relay_mtu 228
scn_ossl_client PSK-AES128-CCM8 127.0.0.1
expect_max c2s 228
expect_fragmented c2s 1 "ClientHello"
case_end

finish
