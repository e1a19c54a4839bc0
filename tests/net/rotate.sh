#!/usr/bin/env bash
# A rotated key locks its old holder out. peer_sim (in namespace a) dials b as peer a
# and holds back the datagram with its Finished; meanwhile b's operator changes a's
# PSK, its identity, or (for a certificate peer) its cert_cn, ca or pin, and reloads.
# Then peer_sim sends its Finished: b must not take it as a (no tunnel, nothing of
# what peer_sim then sends reaches b's TUN) and must log why. As a control, the new
# credentials work: the same tool with them gets through and its packets arrive.
. "$(dirname "$0")/lib.sh" "$@"
need_peer_sim
ab_setup || { fail setup; finish; }
k1=$(psk_new)
k2=$(psk_new)

# write_b PEER_A_LINES...: b's config with peer a as given.
write_b() {
	gw_conf "$NET_WORK/b.conf" "[::]:4433" "10.10.2.1/24" "keepalive = 1" "$@"
}
reload_b() { timeout 10 "$CTL_BIN" -s "$NET_WORK/b.sock" reload >/dev/null; }

# attempt NAME SIM_ARGS...: peer_sim holds its Finished; $CHANGE runs (it rewrites
# b.conf); b reloads; the Finished goes out. Leaves peer_sim's output in NAME.out.
attempt() {
	local name=$1 out=$NET_WORK/$1.out
	shift
	rm -f "$NET_WORK/release"
	nsx_bg a "$SIM" 192.0.2.2 4433 --hold-finished "$NET_WORK/release" \
		--send 10.10.1.5,10.10.2.1,15,100 --lifetime 12 "$@" >"$out" 2>&1
	local sim=$BG_PID
	if ! wait_for 10 grep -q HELD "$out"; then
		fail "$name: peer_sim got to its Finished"
		return
	fi
	$CHANGE
	if reload_b; then ok "$name: b reloaded"; else fail "$name: b reloaded"; fi
	touch "$NET_WORK/release"
	wait_for 6 grep -qE "ENDED|SENT 15" "$out"
	sleep 0.5
	kill "$sim" 2>/dev/null
	wait "$sim" 2>/dev/null
}

# fresh NAME SIM_ARGS...: the control: peer_sim with these credentials, no holding.
fresh() {
	local name=$1 out=$NET_WORK/$1.out before
	shift
	before=$(sink_count)
	nsx a "$SIM" 192.0.2.2 4433 --send 10.10.1.5,10.10.2.1,5,50 --lifetime 5 "$@" >"$out" 2>&1
	sleep 0.3
	check "$name: the new credentials get a tunnel" grep -q ESTABLISHED "$out"
	check "$name: and its packets reach b's TUN ($(($(sink_count) - before)) of 5)" \
		test "$(($(sink_count) - before))" -ge 4
}

echo "== PSK rotated during the handshake"
write_b
peer_conf "$NET_WORK/b.conf" a psk_identity=a-b "psk=$k1" "allowed_ips=10.10.1.0/24"
gw_start b "$NET_WORK/b.conf"
wait_log b "listening on" 5 || fail "b started"
sink_start b 10.10.2.1
rotate_psk() {
	write_b
	peer_conf "$NET_WORK/b.conf" a psk_identity=a-b "psk=$k2" "allowed_ips=10.10.1.0/24"
}
CHANGE=rotate_psk attempt psk --psk-identity a-b --psk "$k1"
check "psk: the old key got no tunnel" bash -c "! grep -q ESTABLISHED $NET_WORK/psk.out"
check "psk: nothing reached b's TUN" test "$(sink_count)" -eq 0
check "psk: b logged the refusal" \
	log_has b "peer a: handshake ended: it was keyed with a PSK this reload replaced|refused handshake from .* as peer a: it was keyed with a PSK"
check "psk: b is not up with a" bash -c "! grep -q 'peer a: handshake done' ${GW_LOG[b]}"
fresh psk-new --psk-identity a-b --psk "$k2"

echo "== PSK identity moved to another peer during the handshake"
# x takes a's identity (with another key) and a's prefixes: the handshake keyed with
# a's key must not become x.
move_identity() {
	write_b
	peer_conf "$NET_WORK/b.conf" a psk_identity=a-new "psk=$k2" "allowed_ips=10.10.8.0/24"
	peer_conf "$NET_WORK/b.conf" x psk_identity=a-b "psk=$k1" "allowed_ips=10.10.1.0/24"
}
before=$(sink_count)
CHANGE=move_identity attempt moved --psk-identity a-b --psk "$k2"
check "moved: no tunnel" bash -c "! grep -q ESTABLISHED $NET_WORK/moved.out"
check "moved: nothing reached b's TUN" test "$(sink_count)" -eq "$before"
gw_stop b

echo "== certificate peer changed during the handshake"
if command -v certtool >/dev/null && command -v openssl >/dev/null; then
	PKI=$NET_WORK/pki
	sh "$(dirname "$0")/../pki/mkpki.sh" "$PKI" >/dev/null 2>&1 || fail "mkpki.sh"
	chmod 600 "$PKI"/*.key
	pin_client=$(openssl x509 -in "$PKI/client.pem" -pubkey -noout |
		openssl pkey -pubin -outform der | sha256sum | cut -d' ' -f1)
	pin_other=$(openssl x509 -in "$PKI/server-ec.pem" -pubkey -noout |
		openssl pkey -pubin -outform der | sha256sum | cut -d' ' -f1)
	CERT_GW=("cert = $PKI/server-ec-chain.pem" "key = $PKI/server-ec.key" "ca = $PKI/ca.pem")
	# cert_b A_LINES...: b with a certificate peer a.
	cert_b() {
		write_b "${CERT_GW[@]}"
		peer_conf "$NET_WORK/b.conf" a "$@" "allowed_ips=10.10.1.0/24"
	}
	SIMC=(--cert "$PKI/client-chain.pem" --key "$PKI/client.key" --ca "$PKI/ca.pem")
	change_cn() { cert_b cert_cn=other.gw.test; }
	change_ca() { cert_b cert_cn=client1.gw.test "ca=$PKI/other-ca.pem"; }
	change_pin() { cert_b "cert_pin_sha256=$pin_other" "ca=$PKI/ca.pem"; }
	for what in cn ca pin; do
		if [ $what = pin ]; then
			cert_b "cert_pin_sha256=$pin_client" "ca=$PKI/ca.pem"
		else
			cert_b cert_cn=client1.gw.test
		fi
		rm -f "$NET_WORK/b.log"
		gw_start b "$NET_WORK/b.conf"
		wait_log b "listening on" 5 || fail "b started"
		before=$(sink_count)
		CHANGE=change_$what attempt "cert-$what" "${SIMC[@]}"
		check "cert-$what: no tunnel" bash -c "! grep -q ESTABLISHED $NET_WORK/cert-$what.out"
		check "cert-$what: nothing reached b's TUN" test "$(sink_count)" -eq "$before"
		check "cert-$what: b logged the refusal" \
			log_has b "refused handshake from 192\.0\.2\.1:[0-9]+: certificate"
		gw_stop b
	done
else
	echo "skipped: needs certtool and openssl"
fi
finish
