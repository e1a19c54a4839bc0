#!/usr/bin/env bash
# Forward secrecy by default, and a peer's own ciphers. Two gateways with no `ciphers`
# negotiate an ECDHE suite with AES-GCM. A peer that opts into the plain PSK suites (its
# own `ciphers`, on both sides) gets one, and the hub still refuses that suite to a peer
# that has not opted in (an s_client offering only it, with that peer's identity). A
# certificate peer that opts into TLS_RSA_WITH_AES_128_CBC_SHA gets it and carries pings.
# An unknown suite name is refused with the file and line.
. "$(dirname "$0")/lib.sh" "$@"

ns_add a b c || { fail setup; finish; }
link a va 192.0.2.1/24 b vb 192.0.2.2/24
link c vc 198.51.100.2/24 b vd 198.51.100.1/24
ka=$(psk_new)
kc=$(psk_new)
gw_conf "$NET_WORK/b.conf" "[::]:4433" "10.10.2.1/24" "keepalive = 1"
peer_conf "$NET_WORK/b.conf" a psk_identity=a-b "psk=$ka" "allowed_ips=10.10.1.0/24"
peer_conf "$NET_WORK/b.conf" c psk_identity=c-b "psk=$kc" "allowed_ips=10.10.3.0/24" \
	"ciphers=TLS_PSK_WITH_AES_128_GCM_SHA256"
gw_conf "$NET_WORK/a.conf" "[::]:4433" "10.10.1.1/24" "keepalive = 1"
peer_conf "$NET_WORK/a.conf" b psk_identity=a-b "psk=$ka" "allowed_ips=10.10.2.0/24" \
	endpoint=192.0.2.2:4433
gw_conf "$NET_WORK/c.conf" "[::]:4433" "10.10.3.1/24" "keepalive = 1"
peer_conf "$NET_WORK/c.conf" b psk_identity=c-b "psk=$kc" "allowed_ips=10.10.2.0/24" \
	endpoint=198.51.100.1:4433 "ciphers=PSK-AES128-GCM-SHA256"

echo "== defaults: forward-secret AEAD"
gw_start b "$NET_WORK/b.conf"
gw_start a "$NET_WORK/a.conf"
gw_start c "$NET_WORK/c.conf"
check "a and b agree on ECDHE-PSK with AES-GCM" \
	wait_log b "peer a: handshake done \(TLS_ECDHE_PSK_WITH_AES_128_GCM_SHA256\)" 10
check "ping a -> b" ping_ok a 10.10.2.1
echo "== a peer's own ciphers"
check "c, which opted into plain PSK, gets it" \
	wait_log b "peer c: handshake done \(TLS_PSK_WITH_AES_128_GCM_SHA256\)" 10
check "ping c -> b" ping_ok c 10.10.2.1
if command -v openssl >/dev/null; then
	(sleep 2) | nsx a timeout 8 openssl s_client -dtls1_2 -connect 192.0.2.2:4433 \
		-psk "$ka" -psk_identity a-b -cipher PSK-AES128-GCM-SHA256 >"$NET_WORK/ossl.out" 2>&1
	check "b refuses plain PSK to a, which did not opt in" \
		wait_log b "refused handshake from 192\.0\.2\.1:[0-9]+ as peer a: suite TLS_PSK_WITH_AES_128_GCM_SHA256 is not in its ciphers" 5
fi
gw_stop a
gw_stop b
gw_stop c

echo "== TLS_RSA_WITH_AES_128_CBC_SHA for a certificate peer that opts in"
if command -v certtool >/dev/null; then
	PKI=$NET_WORK/pki
	sh "$(dirname "$0")/../pki/mkpki.sh" "$PKI" >/dev/null 2>&1 || fail "mkpki.sh"
	chmod 600 "$PKI"/*.key
	gw_conf "$NET_WORK/b2.conf" "[::]:4433" "10.10.2.1/24" "keepalive = 1" \
		"cert = $PKI/server-rsa-chain.pem" "key = $PKI/server-rsa.key" "ca = $PKI/ca.pem"
	peer_conf "$NET_WORK/b2.conf" a cert_cn=client1.gw.test "allowed_ips=10.10.1.0/24" \
		"ciphers=TLS_RSA_WITH_AES_128_CBC_SHA"
	gw_conf "$NET_WORK/a2.conf" "[::]:4433" "10.10.1.1/24" "keepalive = 1" \
		"cert = $PKI/client-chain.pem" "key = $PKI/client.key" "ca = $PKI/ca.pem"
	peer_conf "$NET_WORK/a2.conf" b cert_cn=gw.test "allowed_ips=10.10.2.0/24" \
		endpoint=192.0.2.2:4433 "ciphers=AES128-SHA"
	rm -f "$NET_WORK"/[ab].log
	gw_start b "$NET_WORK/b2.conf"
	gw_start a "$NET_WORK/a2.conf"
	check "a and b agree on TLS_RSA_WITH_AES_128_CBC_SHA" \
		wait_log a "peer b: handshake done \(TLS_RSA_WITH_AES_128_CBC_SHA\)" 10
	check "ping a -> b over it" ping_ok a 10.10.2.1
else
	echo "skipped: needs certtool"
fi

echo "== an unknown suite"
gw_conf "$NET_WORK/bad.conf" "[::]:4433" "10.10.2.1/24"
peer_conf "$NET_WORK/bad.conf" a psk_identity=a-b "psk=$ka" "allowed_ips=10.10.1.0/24" \
	"ciphers=TLS_NO_SUCH_SUITE"
line=$(grep -n TLS_NO_SUCH_SUITE "$NET_WORK/bad.conf" | cut -d: -f1)
out=$("$DTLSGWD" --check -c "$NET_WORK/bad.conf" 2>&1)
check "--check refuses it, naming the file and line ($out)" \
	bash -c "grep -q 'bad.conf:$line.*unknown cipher suite TLS_NO_SUCH_SUITE' <<<\"\$0\"" "$out"
finish
