#!/usr/bin/env bash
# dtlsgwctl peer NAME says what went wrong and what comes next: the last error, the
# handshakes that succeeded and failed, and when the next dial is; a responder whose
# session `dtlsgwctl disconnect` ended is "disconnected", not "dead".
. "$(dirname "$0")/lib.sh" "$@"
need_ctl

# ctl NAME ARGS...: dtlsgwctl against gateway NAME (stderr to $NET_WORK/err).
ctl() { gw_ctl "$@"; }
field() { ctl "$1" --json peer "$2" | python3 -c "import json,sys; v=json.load(sys.stdin)[sys.argv[1]]; print('null' if v is None else v)" "$3"; }
state_is() { test "$(field "$1" "$2" state)" = "$3"; }

# c: nothing listens at its endpoint (ICMP port unreachable: the handshake fails at once)
check "a-b up" pair_up_with_silent_peer

echo "== a failing peer: its last error, its handshakes, its next dial"
check "c failed" wait_log a "peer c: handshake failed" 5
ctl a peer c >"$NET_WORK/c.txt"
sed 's/^/  /' "$NET_WORK/c.txt"
check "last error shown" grep -qE "^last error: +handshake failed: ICMP port unreachable from 192\.0\.2\.2 \(dialling 192\.0\.2\.2:4499\) \((just now|[0-9]+ s ago)\)" "$NET_WORK/c.txt"
check "handshakes ok/failed" grep -qE "^handshakes: +0 ok, [1-9][0-9]* failed \([1-9][0-9]* in a row\)" "$NET_WORK/c.txt"
check "when the next dial is" grep -qE "^next dial: +(in [0-9]+ s \([0-9-]+ [0-9:]+\)|now)" "$NET_WORK/c.txt"
check "JSON: last_error" test "$(field a c last_error)" != null
check "JSON: next_dial, a unix time" python3 -c "import sys,time; sys.exit(0 if abs(int(sys.argv[1]) - time.time()) < 60 else 1)" "$(field a c next_dial)"
check "JSON: last_error_at, a unix time" python3 -c "import sys,time; sys.exit(0 if abs(int(sys.argv[1]) - time.time()) < 60 else 1)" "$(field a c last_error_at)"
ctl a peer b >"$NET_WORK/b.txt"
check "b: no error, handshakes counted, no dial pending" \
	bash -c "grep -qE '^last error: +-$' $NET_WORK/b.txt && grep -qE '^handshakes: +1 ok, 0 failed$' $NET_WORK/b.txt && grep -qE '^next dial: +-$' $NET_WORK/b.txt"

echo "== disconnect: the responder's peer is disconnected, not dead"
ctl b disconnect a
check "disconnect exits 0" test $? -eq 0
ctl b peer a >"$NET_WORK/a.txt"
sed 's/^/  /' "$NET_WORK/a.txt" | head -3
check "b: peer a is disconnected" grep -qE "^state: +disconnected$" "$NET_WORK/a.txt"
ctl b stats >"$NET_WORK/prom"
check "prometheus: state disconnected" grep -q '^dtlsgw_peer_state{peer="a",state="disconnected"} 1' "$NET_WORK/prom"
check "a dials again and b takes it" wait_for 10 state_is b a up
check "a disconnect is no error" test "$(field b a last_error)" = null

finish
