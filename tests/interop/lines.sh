#!/usr/bin/env bash
# dtlscat sends every line that stdin holds, not one per wake-up: several lines that
# come in one write each go out as a datagram at once, from the client and from the
# server (before, the second waited in stdio's buffer until the next event or the end
# of input). A partial line waits for its newline.
. "$(dirname "$0")/lib.sh" "$@"

# write_once FEED TEXT: TEXT (with \n escapes) into a feed in a single write.
write_once() { "$PYTHON" -c 'import os,sys; os.write(int(sys.argv[1]), sys.argv[2].encode().decode("unicode_escape").encode())' "${FEED[$1]}" "$2"; }

case_begin "lines: client and server send each line of one write at once"
port=$(free_port)
feed_open srv.in
spawn srv 20 --stdin srv.in "$DTLSCAT" server --bind 127.0.0.1 "$port" --psk-identity "$PSK_ID" \
	--psk "$PSK" --count 1 --timeout 10000
wait_udp_port "$port" 5 || bad "dtlscat server did not bind port $port"
feed_open cli.in
spawn cli 20 --stdin cli.in "$DTLSCAT" client 127.0.0.1 "$port" --psk-identity "$PSK_ID" \
	--psk "$PSK" -v
if wait_for cli '^negotiated:' 5; then
	write_once cli.in 'one\ntwo\nthree\npart'
	check "server: the client's three lines of one write within 1 s" \
		wait_count srv '^(one|two|three)$' 3 1
	expect_no_log srv '^part' "server: the partial line waits for its newline"
	write_once cli.in 'ial\n'
	check "server: and comes whole with it" wait_count srv '^partial$' 1 1
	write_once srv.in 'x\ny\nz\n'
	check "client: the server's three lines of one write within 1 s" \
		wait_count cli '^(x|y|z)$' 3 1
else
	bad "handshake"
fi
feed_close cli.in
wait_exit cli 5
feed_close srv.in
wait_exit srv 5
case_end
finish
