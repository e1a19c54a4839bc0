#!/usr/bin/env bash
# Keepalives come after an idle interval, with one exception that has a purpose: right
# after its handshake the side that dialled sends one empty record (unless packets were
# waiting to go), which tells the other side that its last flight arrived, so that it can
# free its handshake state. The side that was dialled sends nothing until its keepalive
# interval is over (before, it sent an empty record at once too).
. "$(dirname "$0")/lib.sh" "$@"

PAIR_KEEPALIVE=5 pair_setup || { fail setup; finish; }
gw_start b "$NET_WORK/b.conf"
gw_start a "$NET_WORK/a.conf"
check "a is up" wait_log a "peer b: handshake done" 10
sleep 1.5
stats a
stats b
check "b got the one empty record of a, the dialling side ($(counter b a in))" \
	test "$(counter b a in)" -eq 1
check "a got none from b within its 5 s interval ($(counter a b in))" test "$(counter a b in)" -eq 0
sleep 5
stats a
check "then b's keepalives come ($(counter a b in))" test "$(counter a b in)" -ge 1
finish
