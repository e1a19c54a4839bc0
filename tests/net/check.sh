#!/usr/bin/env bash
# dtlsgwd --check loads the certificates and keys the configuration names as a start
# does (issue 21): a private key given as ca, a certificate that does not match its key,
# files that are not certificates or keys and an expired gateway certificate are errors
# at the line of the key that named the file (exit 1); a certificate that expires within
# 30 days, or a CA that has expired, is a warning (exit 0). A start refuses the same
# files, and says the same where the text comes from libdtls.
. "$(dirname "$0")/lib.sh" "$@"

if ! command -v certtool >/dev/null; then
	echo "SKIP: needs certtool (gnutls-bin)"
	exit 77
fi
PKI=$NET_WORK/pki
sh "$(dirname "$0")/../pki/mkpki.sh" "$PKI" || { fail "mkpki.sh"; finish; }
chmod 600 "$PKI"/*.key
printf 'neither PEM nor DER\n' >"$PKI/garbage.pem"
cp "$PKI/garbage.pem" "$PKI/garbage.key"
chmod 600 "$PKI/garbage.key"
C=$NET_WORK/g.conf
OUT=$NET_WORK/check.out

# write CERT KEY GW_CA PEER_CA: a gateway with that identity (line 6 cert, 7 key, 8 ca)
# and one certificate peer a (its ca at line 12).
write() {
	gw_conf "$C" "[::]:4433" "10.10.1.1/24" "cert = $PKI/$1" "key = $PKI/$2" "ca = $PKI/$3"
	peer_conf "$C" a cert_cn=client1.gw.test "ca=$PKI/$4" allowed_ips=10.10.2.0/24
}
# run_check STATUS: --check exits with STATUS; its output (stderr and stdout) in $OUT.
run_check() {
	local st=0
	"$DTLSGWD" --check -c "$C" >"$OUT" 2>&1 || st=$?
	[ "$st" -eq "$1" ] || { echo "  --check exited $st, not $1:"; sed 's/^/  | /' "$OUT"; return 1; }
}
# has TEXT: $OUT holds the line TEXT, exactly.
has() { grep -qxF -- "$1" "$OUT" || { echo "  no line: $1"; sed 's/^/  | /' "$OUT"; return 1; }; }
# has_re REGEX: some line of $OUT matches the extended REGEX.
has_re() { grep -qE -- "$1" "$OUT" || { echo "  no line like: $1"; sed 's/^/  | /' "$OUT"; return 1; }; }

echo "== a good identity: OK, no warnings"
write server-ec-chain.pem server-ec.key ca.pem ca.pem
check "--check exits 0" run_check 0
check "OK without warnings" has "$C: configuration OK (1 peer)"

echo "== a private key as ca"
write server-ec-chain.pem server-ec.key server-ec.key ca.pem
check "--check exits 1" run_check 1
check "[gateway] ca at line 8" \
	has "$C:8: [gateway] ca: $PKI/server-ec.key is a private key, not a certificate"
write server-ec-chain.pem server-ec.key ca.pem client.key
check "--check exits 1" run_check 1
check "[peer a] ca at line 12" \
	has "$C:12: [peer a] ca: $PKI/client.key is a private key, not a certificate"
check "one error" has "$C: 1 error"

echo "== a certificate that does not match its key"
write server-ec-chain.pem client.key ca.pem ca.pem
check "--check exits 1" run_check 1
check "[gateway] cert at line 6" \
	has "$C:6: [gateway] cert: $PKI/server-ec-chain.pem does not match key $PKI/client.key"

echo "== files that are not certificates or keys"
write garbage.pem server-ec.key ca.pem ca.pem
check "--check exits 1" run_check 1
check "[gateway] cert: not a certificate" \
	has_re "^$C:6: \[gateway\] cert: $PKI/garbage.pem: not a certificate in PEM or DER"
write server-ec-chain.pem garbage.key ca.pem ca.pem
check "--check exits 1" run_check 1
check "[gateway] key: not a private key" \
	has "$C:7: [gateway] key: $PKI/garbage.key: not a private key in PEM or DER"
write server-ec-chain.pem server-ec.key ca.pem garbage.pem
check "--check exits 1" run_check 1
check "[peer a] ca: not a certificate" \
	has "$C:12: [peer a] ca: $PKI/garbage.pem: not a certificate in PEM or DER"

echo "== expiry"
write server-soon-chain.pem server-soon.key ca.pem ca.pem
check "a certificate that expires in 10 days: --check exits 0" run_check 0
check "with warnings" has "$C: configuration OK (1 peer, with warnings)"
check "the warning names file, subject and date" has_re \
	"^$C:6: \[gateway\] cert: warning: $PKI/server-soon-chain.pem: certificate CN=gw.test,O=dtlsgw test expires on [0-9]{4}-[0-9]{2}-[0-9]{2} [0-9:]{8} UTC, in (9|10) days$"
write server-ec-chain.pem server-ec.key ca.pem server-expired.pem
check "an expired CA: --check exits 0" run_check 0
check "the warning says it expired" has \
	"$C:12: [peer a] ca: warning: $PKI/server-expired.pem: certificate CN=gw.test,O=dtlsgw test expired on 2024-01-01 00:00:00 UTC"
write server-expired-chain.pem server-expired.key ca.pem ca.pem
check "an expired gateway certificate (a start refuses it): --check exits 1" run_check 1
check "the error says it expired" has_re \
	"^$C:6: \[gateway\] cert: $PKI/server-expired-chain.pem: certificate \(CN=gw.test\) expired on 2024-01-01 00:00:00 UTC$"

echo "== a start refuses the same files"
ns_add a || { fail setup; finish; }
# start_refused: dtlsgwd exits 1 within 10 s, its log in $OUT.
start_refused() {
	rm -f "$NET_WORK/a.log"
	gw_start a "$C"
	local st=0
	for _ in $(seq 100); do kill -0 "${GW_PID[a]}" 2>/dev/null || break; sleep 0.1; done
	kill -0 "${GW_PID[a]}" 2>/dev/null && { echo "  still running"; gw_stop a; return 1; }
	wait "${GW_PID[a]}" || st=$?
	cp "$NET_WORK/a.log" "$OUT"
	[ "$st" -eq 1 ] || { echo "  exited $st"; sed 's/^/  | /' "$OUT"; return 1; }
}
write server-ec-chain.pem server-ec.key ca.pem client.key
check "a private key as ca: start exits 1" start_refused
check "saying so" has_re "$PKI/client.key is a private key, not a certificate"
write server-ec-chain.pem client.key ca.pem ca.pem
check "a key that does not match: start exits 1" start_refused
check "saying so" has_re "does not match"
finish
