#!/usr/bin/env bash
# reneg.sh [DTLSCAT [SRCDIR]]: renegotiation started by the peer (secure renegotiation).
#
#   s_client "R" -> dtlscat server: a new full handshake in epoch 2, then data both ways
#   s_server "r" (HelloRequest) -> dtlscat client: the client renegotiates, then data
#   gnutls-cli --rehandshake -> dtlscat server
# The command letter goes alone, with pauses before and after (s_client/s_server act on
# a read() that holds only the command).
. "$(dirname "$0")/lib.sh"
need openssl gnutls-cli stdbuf ss

# s_client R -> dtlscat server
reneg_from_s_client() {
	local suite=$1 port
	case_begin "reneg: s_client R -> dtlscat server, $suite"
	scn_reset
	scn_lines
	port=$(free_port)
	dc_server 127.0.0.1 "$port"
	feed_open cli.in
	feed cli.in "$C2S"
	spawn cli 25 --stdin cli.in openssl s_client -dtls1_2 -trace -msgfile "$CD/cli.trace" -connect "127.0.0.1:$port" \
		"${OSSL_CLI_AUTH[@]}" -cipher "$suite"
	if wait_for dc '^negotiated:' 8; then
		feed dc.in "$S2C"
		wait_for cli "^$S2C\$" 5
		wait_for dc "^$C2S\$" 3
		sleep 0.5
		feed cli.in R
		sleep 0.5
		wait_for cli '^RENEGOTIATING' 3
		# the second handshake: a second ServerHello shows up in the trace
		local end
		end=$(until_us 3)
		while [ "$(now_us)" -lt "$end" ]; do
			[ "$(grep -c 'ServerHello, Length' "$CD/cli.trace")" -ge 2 ] && break
			sleep 0.05
		done
		sleep 0.5
		feed cli.in "$C2S after"
		wait_for dc "^$C2S after\$" 5
		feed dc.in "$S2C after"
		wait_for cli "^$S2C after\$" 5
	fi
	feed_close cli.in
	wait_exit cli 5
	wait_exit dc 5
	expect_log cli '^RENEGOTIATING' "s_client: RENEGOTIATING"
	local n
	n=$(grep -c 'ServerHello, Length' "$CD/cli.trace")
	if [ "$n" -ge 2 ]; then ok "s_client trace: $n ServerHellos"; else bad "s_client trace: $n ServerHello(s), expected 2"; fi
	expect_no_log cli 'no renegotiation|alert' "s_client: no alert"
	n=$(grep -c '^negotiated:' "$CD/dc.err")
	if [ "$n" = 2 ]; then ok "dtlscat -v: 2 handshakes"; else bad "dtlscat -v: $n handshake(s), expected 2"; fi
	expect_line dc "$C2S"
	expect_line cli "$S2C"
	expect_line dc "$C2S after"
	expect_line cli "$S2C after"
	expect_rc cli 0
	expect_rc dc 0
	case_end
}

# s_server r -> dtlscat client
reneg_from_s_server() {
	local suite=$1 port
	case_begin "reneg: s_server r (HelloRequest) -> dtlscat client, $suite"
	scn_reset
	scn_lines
	port=$(free_port)
	ossl_server srv 25 127.0.0.1 "$port" "${OSSL_SRV_AUTH[@]}" -cipher "$suite" -trace -msgfile "$CD/srv.trace"
	wait_for srv '^ACCEPT' 5 || bad "s_server did not start"
	feed_open dc.in
	feed dc.in "$C2S"
	spawn dc 25 --stdin dc.in "$DTLSCAT" client 127.0.0.1 "$port" "${DC_CLI_AUTH[@]}" -v --timeout 5000
	if wait_for srv '^CIPHER is' 8; then
		feed srv.in "$S2C"
		wait_for dc "^$S2C\$" 5
		wait_for srv "^$C2S\$" 3
		sleep 0.5
		feed srv.in r
		sleep 0.5
		if wait_for srv 'SSL_do_handshake -> 1' 6; then
			sleep 0.3
			feed srv.in "$S2C after"
			wait_for dc "^$S2C after\$" 5
			feed dc.in "$C2S after"
			wait_for srv "^$C2S after\$" 5
		fi
	fi
	feed_close dc.in
	wait_exit dc 6
	[ "${RC[dc]}" = 0 ] && wait_for srv 'CONNECTION CLOSED' 3
	wait_exit srv 1
	expect_log srv 'SSL_do_handshake -> 1' "s_server: SSL_do_handshake -> 1"
	local n
	n=$(grep -c 'ServerHello, Length' "$CD/srv.trace")
	if [ "$n" -ge 2 ]; then ok "s_server trace: $n ServerHellos"; else bad "s_server trace: $n ServerHello(s), expected 2"; fi
	expect_line dc "$S2C"
	expect_log srv "^$C2S\$" "s_server received '$C2S'"
	expect_line dc "$S2C after"
	expect_log srv "^$C2S after\$" "s_server received '$C2S after'"
	expect_rc dc 0
	expect_log srv '^CONNECTION CLOSED' "s_server: CONNECTION CLOSED"
	expect_rc srv 0
	case_end
}

for s in PSK-AES128-GCM-SHA256 ECDHE-PSK-AES128-CBC-SHA256; do
	reneg_from_s_client $s
	reneg_from_s_server $s
done

case_begin "reneg: gnutls-cli --rehandshake -> dtlscat server, PSK-AES128-GCM-SHA256"
scn_reset
CLI_X=(--rehandshake)
DC_HANDSHAKES=2 # gnutls-cli drops application data that arrives during its rehandshake
scn_gnutls_client PSK-AES128-GCM-SHA256 127.0.0.1
expect_log cli '^- ReHandshake was completed' "gnutls-cli: ReHandshake was completed"
case_end

finish
