#!/usr/bin/env bash
# Certificate peers: a dials b; each proves itself with a certificate from the test
# PKI (tests/pki/mkpki.sh) and checks the other's name (cert_cn) against a CA, or its
# key pin. A certificate with the wrong name is refused, and the logs say so. b also
# serves a PSK peer c at the same time (both kinds of identity on one port). A
# certificate with a's name from the CA of another of b's peers is refused: each peer
# that dials b must verify against its own CA, not any CA b trusts. cert_cn matches the
# certificate's CN only and cert_san its DNS/IP SANs only. A configuration in which one
# certificate could match two peers is refused at start and at reload.
. "$(dirname "$0")/lib.sh" "$@"

if ! command -v certtool >/dev/null || ! command -v openssl >/dev/null; then
	echo "SKIP: needs certtool (gnutls-bin) and openssl"
	exit 77
fi
PKI=$NET_WORK/pki
sh "$(dirname "$0")/../pki/mkpki.sh" "$PKI" || { fail "mkpki.sh"; finish; }
chmod 600 "$PKI"/*.key
pin=$(openssl x509 -in "$PKI/server-ec.pem" -pubkey -noout | openssl pkey -pubin -outform der |
	sha256sum | cut -d' ' -f1)

ns_add a b c || { fail setup; finish; }
link a va 192.0.2.1/24 b vb 192.0.2.2/24
link c vc 198.51.100.2/24 b vd 198.51.100.1/24
kc=$(psk_new)

# write_a B_IDENTITY_LINES...: a's config; its peer b is identified by the lines given.
write_a() {
	gw_conf "$NET_WORK/a.conf" "[::]:4433" "10.10.1.1/24" "keepalive = 1" \
		"cert = $PKI/${A_CERT:-client-chain.pem}" "key = $PKI/${A_KEY:-client.key}" \
		"ca = $PKI/ca.pem"
	peer_conf "$NET_WORK/a.conf" b "$@" "allowed_ips=10.10.2.0/24" endpoint=192.0.2.2:4433
}
# write_b A_ID [Y_CA [Y_ID]]: b's config; its peer a is identified by A_ID (a
# cert_cn=... or cert_san=... line; CA: the gateway's); peer c is a PSK peer; with Y_CA,
# a certificate peer y with that CA of its own, identified by Y_ID (cert_cn=y.gw.test).
write_b() {
	gw_conf "$NET_WORK/b.conf" "[::]:4433" "10.10.2.1/24" "keepalive = 1" \
		"cert = $PKI/server-ec-chain.pem" "key = $PKI/server-ec.key" "ca = $PKI/ca.pem"
	peer_conf "$NET_WORK/b.conf" a "$1" "allowed_ips=10.10.1.0/24"
	peer_conf "$NET_WORK/b.conf" c psk_identity=c-b "psk=$kc" "allowed_ips=10.10.3.0/24"
	[ -n "${2:-}" ] && peer_conf "$NET_WORK/b.conf" y "${3:-cert_cn=y.gw.test}" "ca=$2" \
		"allowed_ips=10.10.9.0/24"
}
gw_conf "$NET_WORK/c.conf" "[::]:4433" "10.10.3.1/24" "keepalive = 1"
peer_conf "$NET_WORK/c.conf" b psk_identity=c-b "psk=$kc" "allowed_ips=10.10.2.0/24" \
	endpoint=198.51.100.1:4433
restart_all() {
	local n
	for n in a b c; do [ -n "${GW_PID[$n]:-}" ] && gw_stop "$n"; done
	rm -f "$NET_WORK"/[abc].log
	gw_start b "$NET_WORK/b.conf"
	gw_start a "$NET_WORK/a.conf"
	gw_start c "$NET_WORK/c.conf"
}

echo "== names checked against the CA"
write_a cert_cn=gw.test "ca=$PKI/ca.pem"
write_b cert_cn=client1.gw.test
check "--check accepts a.conf" "$DTLSGWD" --check -c "$NET_WORK/a.conf"
restart_all
check "a: handshake with b done (ECDHE-ECDSA)" wait_log a "peer b: handshake done \(TLS_ECDHE_ECDSA_[A-Z0-9_]+\)" 10
check "b: handshake with a done" wait_log b "peer a: handshake done" 5
check "b: PSK peer c up at the same time" wait_log b "peer c: handshake done \(TLS_(ECDHE_)?PSK_" 5
grep -h "handshake done" "${GW_LOG[a]}" "${GW_LOG[b]}" | sed 's/^/  /'
check "ping a -> b" ping_ok a 10.10.2.1 3
check "ping b -> a" ping_ok b 10.10.1.1 3
check "ping c -> b" ping_ok c 10.10.2.1 3

echo "== a key pin instead of a name"
write_a "cert_pin_sha256=$pin" "ca=$PKI/ca.pem"
restart_all
check "a: handshake with the pinned b done" wait_log a "peer b: handshake done" 10
check "ping a -> b" ping_ok a 10.10.2.1 2

echo "== the wrong pin"
write_a "cert_pin_sha256=$(printf '%064d' 7)" "ca=$PKI/ca.pem"
restart_all
check "a refuses b's certificate" wait_log a "peer b: handshake failed: " 5
grep -h "handshake failed" "${GW_LOG[a]}" | head -1 | sed 's/^/  /'
check "no tunnel" bash -c "! grep -q 'handshake done' ${GW_LOG[a]}"

echo "== b expects another name for a"
write_a cert_cn=gw.test "ca=$PKI/ca.pem"
write_b cert_cn=someone-else.gw.test
restart_all
check "b refuses a's certificate, saying why" \
	wait_log b "refused handshake from 192\.0\.2\.1:4433: certificate matches no configured peer" 5
check "a hears access_denied" wait_log a "peer b: handshake failed: peer sent alert access_denied" 5
grep -h "refused\|handshake failed" "${GW_LOG[a]}" "${GW_LOG[b]}" | head -3 | sed 's/^/  /'
check "no tunnel" bash -c "! ip netns exec $(ns a) ping -c 1 -W 1 10.10.2.1 >/dev/null 2>&1"
check "the PSK peer c is not disturbed" wait_for 5 ping_ok c 10.10.2.1 1

echo "== a's name, but from the CA of b's other peer y"
A_CERT=client-other.pem A_KEY=client-other.key write_a cert_cn=gw.test "ca=$PKI/ca.pem"
write_b cert_cn=client1.gw.test "$PKI/other-ca.pem"
restart_all
check "b refuses it, saying why" wait_log b \
	"refused handshake from 192\.0\.2\.1:4433: certificate matches peer a but does not verify against its ca" 5
check "a hears access_denied" wait_log a "peer b: handshake failed: peer sent alert access_denied" 5
grep -h "refused" "${GW_LOG[b]}" | head -1 | sed 's/^/  /'
check "no tunnel" bash -c "! ip netns exec $(ns a) ping -c 1 -W 1 10.10.2.1 >/dev/null 2>&1"
echo "== the same b, with a's real certificate"
write_a cert_cn=gw.test "ca=$PKI/ca.pem"
restart_all
check "b: handshake with a done" wait_log b "peer a: handshake done" 10
check "ping a -> b" ping_ok a 10.10.2.1 3

echo "== cert_cn is the CN only, cert_san a DNS or IP SAN only"
# client-names: CN names-cn.gw.test, DNS SAN names-dns.gw.test, IP SAN 192.0.2.7
A_CERT=client-names-chain.pem A_KEY=client-names.key write_a cert_cn=gw.test "ca=$PKI/ca.pem"
for id in cert_cn=names-dns.gw.test cert_san=names-cn.gw.test; do
	write_b "$id"
	restart_all
	check "b refuses $id (a name of another kind)" \
		wait_log b "refused handshake from 192\.0\.2\.1:4433: certificate matches no configured peer" 5
done
for id in cert_cn=names-cn.gw.test cert_san=names-dns.gw.test cert_san=192.0.2.7; do
	write_b "$id"
	restart_all
	check "b takes a by $id" wait_log b "peer a: handshake done" 10
done
check "ping a -> b" ping_ok a 10.10.2.1 2

echo "== one certificate could match two peers"
write_a cert_cn=gw.test "ca=$PKI/ca.pem"
a_pin=$(openssl x509 -in "$PKI/client.pem" -pubkey -noout | openssl pkey -pubin -outform der |
	sha256sum | cut -d' ' -f1)
write_b cert_cn=client1.gw.test "$PKI/other-ca.pem" "cert_pin_sha256=$a_pin"
out=$("$DTLSGWD" --check -c "$NET_WORK/b.conf" 2>&1)
y_line=$(grep -n '^\[peer y\]' "$NET_WORK/b.conf" | cut -d: -f1)
check "--check refuses it at y's section (line $y_line), naming a" \
	bash -c "grep -q 'b.conf:$y_line: \[peer y\]: a certificate could match both this peer and peer a' <<<\"\$0\"" "$out"
for n in a b c; do [ -n "${GW_PID[$n]:-}" ] && gw_stop "$n"; done
rm -f "$NET_WORK"/[abc].log
gw_start b "$NET_WORK/b.conf"
# gone PID: the process exited (a zombie until waited for, or reaped)
gone() { case $(ps -o stat= -p "$1") in Z* | "") return 0 ;; esac; return 1; }
if wait_for 5 gone "${GW_PID[b]}"; then
	ok "b refuses to start"
	st=0
	wait "${GW_PID[b]}" || st=$?
	check "with a failure status ($st)" test "$st" -ne 0
else
	fail "b refuses to start"
fi
check "and names both peers" log_has b "\[peer y\]: a certificate could match both this peer and peer a"
sed 's/^/  /' "${GW_LOG[b]}" | grep "could match both" | head -1
write_b cert_cn=client1.gw.test "$PKI/other-ca.pem"
restart_all
check "b: handshake with a done" wait_log b "peer a: handshake done" 10
write_b cert_cn=client1.gw.test "$PKI/other-ca.pem" cert_san=client1.gw.test
kill -HUP "${GW_PID[b]}"
check "a reload to it is refused" wait_log b "running configuration stays" 5
check "naming both peers" log_has b "\[peer y\]: a certificate could match both this peer and peer a"
check "the tunnel stays" ping_ok a 10.10.2.1 2

for n in a b c; do gw_stop "$n"; done
finish
