#!/usr/bin/env bash
# A certificate that matches no configured peer: the refusal says what was seen (the
# key's pin) and which configured peer came nearest, constraint by constraint
# (tests/pki/mkpki.sh: a's certificate has CN names-cn.gw.test, DNS SAN
# names-dns.gw.test, IP SAN 192.0.2.7).
. "$(dirname "$0")/lib.sh" "$@"

if ! command -v certtool >/dev/null || ! command -v openssl >/dev/null; then
	echo "SKIP: needs certtool (gnutls-bin) and openssl"
	exit 77
fi
PKI=$NET_WORK/pki
sh "$(dirname "$0")/../pki/mkpki.sh" "$PKI" >/dev/null || { fail "mkpki.sh"; finish; }
chmod 600 "$PKI"/*.key
pin=$(openssl x509 -in "$PKI/client-names.pem" -pubkey -noout | openssl pkey -pubin -outform der |
	sha256sum | cut -d' ' -f1)

ab_setup || { fail setup; finish; }
gw_conf "$NET_WORK/a.conf" "[::]:4433" "10.10.1.1/24" "keepalive = 1" \
	"cert = $PKI/client-names-chain.pem" "key = $PKI/client-names.key" "ca = $PKI/ca.pem"
peer_conf "$NET_WORK/a.conf" b cert_cn=gw.test "allowed_ips=10.10.2.0/24" endpoint=192.0.2.2:4433
gw_conf "$NET_WORK/b.conf" "[::]:4433" "10.10.2.1/24" "keepalive = 1" \
	"cert = $PKI/server-ec-chain.pem" "key = $PKI/server-ec.key" "ca = $PKI/ca.pem"
# x: nothing in common; y: its CN right, its SAN wrong (the nearest); z: a name of the
# certificate, but as CN where it is a SAN
peer_conf "$NET_WORK/b.conf" x cert_cn=x.gw.test "allowed_ips=10.10.7.0/24"
peer_conf "$NET_WORK/b.conf" y cert_cn=names-cn.gw.test cert_san=other.gw.test "allowed_ips=10.10.8.0/24"
peer_conf "$NET_WORK/b.conf" z cert_cn=names-dns.gw.test "allowed_ips=10.10.9.0/24"
gw_start b "$NET_WORK/b.conf"
gw_start a "$NET_WORK/a.conf"

check "b refuses a's certificate" \
	wait_log b "refused handshake from 192\.0\.2\.1:4433: certificate matches no configured peer" 10
line=$(grep -m1 "certificate matches no configured peer" "${GW_LOG[b]}")
echo "  $line"
for name in "CN names-cn.gw.test" "DNS names-dns.gw.test" "IP 192.0.2.7" "email ops@gw.test" \
	"URI https://gw.test/names"; do
	check "it names what the certificate says it is: $name" grep -qF "$name" <<<"$line"
done
check "it names the key's pin" grep -q "cert_pin_sha256 $pin" <<<"$line"
check "and the nearest peer y, constraint by constraint" \
	grep -q 'nearest peer y: cert_cn "names-cn.gw.test" matches, cert_san "other.gw.test" is none of its SANs' <<<"$line"
check "no tunnel" bash -c "! grep -q 'handshake done' ${GW_LOG[b]}"

echo "== only z: a name of the certificate, of the wrong kind"
gw_stop b
gw_conf "$NET_WORK/b.conf" "[::]:4433" "10.10.2.1/24" "keepalive = 1" \
	"cert = $PKI/server-ec-chain.pem" "key = $PKI/server-ec.key" "ca = $PKI/ca.pem"
peer_conf "$NET_WORK/b.conf" z cert_cn=names-dns.gw.test "allowed_ips=10.10.9.0/24"
: >"${GW_LOG[b]}"
gw_start b "$NET_WORK/b.conf"
check "b refuses it" wait_log b "certificate matches no configured peer" 10
line=$(grep -m1 "certificate matches no configured peer" "${GW_LOG[b]}")
echo "  $line"
check "saying the name is the certificate's, but not its CN" \
	grep -q 'nearest peer z: cert_cn "names-dns.gw.test" is one of its names but not its CN' <<<"$line"

finish
