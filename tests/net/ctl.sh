#!/usr/bin/env bash
# dtlsgwctl against a running gateway pair: every command and its output. Peer state
# goes up after the handshake, byte counters grow with a ping, stats speaks Prometheus,
# disconnect makes the initiator dial again, add-peer brings a new tunnel up,
# remove-peer tears it down with close_notify, reload keeps sessions, an unprivileged
# user is refused (by the socket's mode, and by credentials when the mode lets them
# in), and the socket goes away with the daemon.
. "$(dirname "$0")/lib.sh" "$@"

SRC=$(cd "$(dirname "$0")/../.." && pwd)
CTL_BIN=${DTLSGWCTL:-$NET_BUILD/daemon/ctl/dtlsgwctl}
if [ ! -x "$CTL_BIN" ]; then
	echo "FAIL: no dtlsgwctl at $CTL_BIN (build first)"
	exit 1
fi
if ! command -v python3 >/dev/null; then
	echo "SKIP: no python3 (scripts/setup installs it)"
	exit 77
fi

# The socket directory must let uid 65534 in for the refusal checks; the configs
# in it stay 0600.
chmod 711 "$NET_WORK"
cp "$CTL_BIN" "$NET_WORK/dtlsgwctl"
chmod 755 "$NET_WORK/dtlsgwctl"
CTL=$NET_WORK/dtlsgwctl

# ctl NAME ARGS...: dtlsgwctl against gateway NAME (stdout; stderr to $NET_WORK/err).
ctl() {
	local n=$1
	shift
	"$CTL" -s "$NET_WORK/$n.sock" -t 10 "$@" 2>"$NET_WORK/err"
}
# jq_ EXPR: evaluate a Python expression over the JSON on stdin (bound to j); prints it.
jq_() { python3 -c "import json,sys; j=json.load(sys.stdin); v=($1); print(v if not isinstance(v,bool) else int(v))"; }
# peer_field NAME PEER FIELD: one member of a peer object, as gateway NAME sees it.
peer_field() { ctl "$1" --json peer "$2" | jq_ "j['$3']"; }
peer_state_is() { test "$(peer_field "$1" "$2" state 2>/dev/null)" = "$3"; }
hs() { grep -c "peer $2: handshake done" "${GW_LOG[$1]}"; }
# hs_more NAME PEER N: more than N handshakes (a function, so wait_for re-counts).
hs_more() { test "$(hs "$1" "$2")" -gt "$3"; }
err_has() { grep -q -- "$1" "$NET_WORK/err"; }

pair_setup || { fail setup; finish; }
ns_add c
link a vc 198.51.100.1/24 c va 198.51.100.2/24
kc=$(psk_new)
gw_conf "$NET_WORK/c.conf" "[::]:4433" "10.10.3.1/24" "keepalive = 1"
peer_conf "$NET_WORK/c.conf" a psk_identity=a-c "psk=$kc" "allowed_ips=10.10.1.0/24"

gw_start b "$NET_WORK/b.conf"
gw_start a "$NET_WORK/a.conf"
check "a's control socket is there" wait_for 5 test -S "$NET_WORK/a.sock"
check "with mode 0660" test "$(stat -c %a "$NET_WORK/a.sock")" = 660
check "a-b up" wait_log a "peer b: handshake done" 10

echo "== status"
out=$(ctl a status)
check "status exits 0" test $? -eq 0
echo "$out" | sed 's/^/  /'
check "status: tun" grep -Eq "^tun: +dtlsgw0$" <<<"$out"
check "status: listen" grep -Eq "^listen: +\S+:4433$" <<<"$out"
check "status: peers 1" grep -Eq "^peers: +1$" <<<"$out"
js=$(ctl a --json status)
check "status --json: version" test -n "$(jq_ "j['version']" <<<"$js")"
check "status --json: one peer, one session" test "$(jq_ "(j['peers'], j['sessions'])" <<<"$js")" = "(1, 1)"
check "status --json: uptime, workers" test "$(jq_ "j['uptime_s'] >= 0 and j['workers'] >= 1" <<<"$js")" = 1
check "status --json: totals and drops" \
	test "$(jq_ "all(k in j['totals'] for k in ('rx_bytes','tx_bytes','rx_packets','tx_packets','drops'))" <<<"$js")" = 1

echo "== peers, peer"
check "b goes up" wait_for 10 peer_state_is a b up
out=$(ctl a peers)
echo "$out" | sed 's/^/  /'
check "peers: header" grep -q "^NAME  *STATE  *ENDPOINT" <<<"$out"
check "peers: b up" grep -Eq "^b +up +192\.0\.2\.2:4433 " <<<"$out"
js=$(ctl a --json peers)
check "peers --json: one peer b" test "$(jq_ "[p['name'] for p in j]" <<<"$js")" = "['b']"
pj=$(ctl a --json peer b)
check "peer --json: endpoint" test "$(jq_ "j['endpoint']" <<<"$pj")" = 192.0.2.2:4433
check "peer --json: identity" test "$(jq_ "j['identity']" <<<"$pj")" = a-b
check "peer --json: a suite" test "$(jq_ "j['suite'].startswith('TLS_')" <<<"$pj")" = 1
check "peer --json: allowed_ips" test "$(jq_ "'10.10.2.0/24' in j['allowed_ips']" <<<"$pj")" = 1
check "peer --json: last_handshake recent" \
	test "$(jq_ "abs(j['last_handshake'] - $(date +%s)) < 60" <<<"$pj")" = 1
check "peer --json: drops by reason" \
	test "$(jq_ "sorted(k for k in j['drops'] if k in ('policy','replay','mac','oversize'))" <<<"$pj")" = "['mac', 'oversize', 'policy', 'replay']"
out=$(ctl a peer b)
check "peer: human" grep -Eq "^state: +up$" <<<"$out"
ctl a peer nosuch >/dev/null
check "peer nosuch: exit 1" test $? -eq 1
check "peer nosuch: the daemon's message" err_has "nosuch"

echo "== counters grow with a ping"
rx0=$(peer_field a b rx_packets)
tx0=$(peer_field a b tx_packets)
rxb0=$(peer_field a b rx_bytes)
check "ping a -> b" ping_ok a 10.10.2.1 5
check "rx_packets grew by 5" test "$(peer_field a b rx_packets)" -ge $((rx0 + 5))
check "tx_packets grew by 5" test "$(peer_field a b tx_packets)" -ge $((tx0 + 5))
check "rx_bytes grew" test "$(peer_field a b rx_bytes)" -gt "$rxb0"
check "last_rx recent" test "$(ctl a --json peer b | jq_ "abs(j['last_rx'] - $(date +%s)) < 10")" = 1

echo "== stats --prometheus"
ctl a stats --prometheus >"$NET_WORK/prom"
check "stats exits 0" test $? -eq 0
check "peer b up" grep -q '^dtlsgw_peer_up{peer="b"} 1$' "$NET_WORK/prom"
check "rx packets counter" grep -Eq '^dtlsgw_peer_rx_packets_total\{peer="b"\} [1-9][0-9]*$' "$NET_WORK/prom"
check "TYPE lines" grep -q '^# TYPE dtlsgw_peer_rx_bytes_total counter$' "$NET_WORK/prom"
check "every line a comment or a sample" \
	bash -c "! grep -Ev '^(# (HELP|TYPE) .*|[a-z_]+(\{[^}]*\})? [0-9.e+-]+)$' '$NET_WORK/prom'"

echo "== log-level"
out=$(ctl a log-level debug)
check "log-level debug" test $? -eq 0 -a "$out" = "log level: debug (was info)"
ctl a log-level info >/dev/null
check "log-level info" test $? -eq 0
ctl a log-level loud >/dev/null
check "log-level loud: exit 1" test $? -eq 1

echo "== disconnect"
n=$(hs a b)
out=$(ctl a disconnect b)
check "disconnect b" test $? -eq 0 -a "$out" = "disconnected peer b"
check "a dials b again" wait_for 10 hs_more a b "$n"
check "b up again" wait_for 10 peer_state_is a b up
check "ping a -> b" wait_for 5 ping_ok a 10.10.2.1 1

echo "== add-peer"
gw_start c "$NET_WORK/c.conf"
out=$(printf 'psk = %s\n' "$kc" | ctl a add-peer c psk_identity=a-c allowed_ips=10.10.3.0/24 \
	endpoint=198.51.100.2:4433 -)
check "add-peer c" test $? -eq 0
check "add-peer says so" grep -q "^added peer c$" <<<"$out"
check "c comes up" wait_for 10 peer_state_is a c up
check "ping a -> c" wait_for 5 ping_ok a 10.10.3.1 1
check "peers lists b and c" test "$(ctl a --json peers | jq_ "sorted(p['name'] for p in j)")" = "['b', 'c']"
ctl a add-peer c psk_identity=a-c2 allowed_ips=10.10.4.0/24 >/dev/null
check "add-peer c again: exit 1" test $? -eq 1
ctl a add-peer d psk_identity=a-d "psk=$kc" allowed_ips=10.10.2.128/25 >/dev/null
check "add-peer with an overlapping prefix: exit 1" test $? -eq 1
ctl a add-peer e psk_identity=a-e >/dev/null
check "add-peer without allowed_ips: exit 1" test $? -eq 1

echo "== remove-peer"
out=$(ctl a remove-peer c)
check "remove-peer c" test $? -eq 0 -a "$out" = "removed peer c"
check "c heard the close_notify" wait_log c "peer a: closed by the peer" 3
check "peers lists b only" test "$(ctl a --json peers | jq_ "[p['name'] for p in j]")" = "['b']"
check "ping a -> c fails now" bash -c "! ip netns exec $(ns a) ping -c 1 -W 1 10.10.3.1 >/dev/null 2>&1"
ctl a remove-peer c >/dev/null
check "remove-peer c again: exit 1" test $? -eq 1

echo "== reload"
n=$(hs a b)
out=$(ctl a reload)
check "reload" test $? -eq 0
check "reload says so" grep -q "^reloaded" <<<"$out"
check "b kept its session" test "$(hs a b)" -eq "$n"
check "ping a -> b" ping_ok a 10.10.2.1 2

echo "== an unprivileged user"
as_nobody() { setpriv --reuid=65534 --regid=65534 --clear-groups "$@"; }
as_nobody "$CTL" -s "$NET_WORK/a.sock" status >/dev/null 2>"$NET_WORK/err"
check "nobody: cannot connect (exit 3)" test $? -eq 3
check "nobody: permission denied" err_has "Permission denied"
chmod 666 "$NET_WORK/a.sock"
as_nobody "$CTL" -s "$NET_WORK/a.sock" peers >/dev/null 2>"$NET_WORK/err"
check "nobody, socket opened up: may read" test $? -eq 0
as_nobody "$CTL" -s "$NET_WORK/a.sock" reload >/dev/null 2>"$NET_WORK/err"
check "nobody: reload refused (exit 1)" test $? -eq 1
check "nobody: the daemon's message" err_has "permission denied: reload needs root"
as_nobody "$CTL" -s "$NET_WORK/a.sock" remove-peer b >/dev/null 2>&1
check "nobody: remove-peer refused" test $? -eq 1
check "the refusal is logged" log_has a "refused reload from uid 65534"
check "b is still there" peer_state_is a b up
chmod 660 "$NET_WORK/a.sock"

echo "== remove-peer of peers in the file, whatever an editor left before their headers"
kb=$(grep -m1 '^psk = ' "$NET_WORK/a.conf" | sed 's/^psk = //')
# a.conf again, as an editor may leave it: [peer b] first with a UTF-8 byte order mark
# on line 1, then [gateway], then peers y (\v before its header), z (plain) and w (\f
# before its header). The parser trims all of these; so must remove-peer.
pb=$(sed -n '/^\[peer b\]/,$p' "$NET_WORK/a.conf")
gw=$(sed '/^\[peer b\]/,$d' "$NET_WORK/a.conf")
other_peer() { printf '%b[peer %s]\npsk_identity = a-%s\npsk = %s\nallowed_ips = %s\n\n' "$1" "$2" "$2" "$kc" "$3"; }
{
	printf '\xef\xbb\xbf%s\n\n%s\n' "$pb" "$gw"
	other_peer '\v' y 10.10.7.0/24
	other_peer '' z 10.10.8.0/24
	other_peer '\f' w 10.10.9.0/24
} >"$NET_WORK/a.conf"
names() { ctl a --json peers | jq_ "sorted(p['name'] for p in j)"; }
n=$(hs a b)
ctl a reload >/dev/null
check "reload of the edited file: b, w, y, z" test "$(names)" = "['b', 'w', 'y', 'z']"
check "b kept its session" test "$(hs a b)" -eq "$n"
ctl a remove-peer y >/dev/null
check "remove-peer y (\\v before its header): y gone, the others stay" test "$(names)" = "['b', 'w', 'z']"
ctl a remove-peer z >/dev/null
check "remove-peer z: w after it (\\f before its header) stays" test "$(names)" = "['b', 'w']"
closes=$(log_count b "peer a: closed by the peer")
out=$(ctl a remove-peer b)
check "remove-peer b (from the file, a BOM before its header)" test $? -eq 0
check "b is gone from peers" test "$(names)" = "['w']"
check "b heard the close_notify" wait_for 3 log_more b "peer a: closed by the peer" "$closes"
check "a has no session left" test "$(ctl a --json status | jq_ "j['sessions']")" = 0
check "a's route to b is gone" bash -c "! ip -n $(ns a) route show 10.10.2.0/24 | grep -q ."
check "w's route stays" bash -c "ip -n $(ns a) route show 10.10.9.0/24 | grep -q ."
ctl a reload >/dev/null
check "a reload keeps b, y and z removed" test "$(names)" = "['w']"
n=$(hs a b)
ctl a add-peer b psk_identity=a-b "psk=$kb" allowed_ips=10.10.2.0/24 endpoint=192.0.2.2:4433 >/dev/null
check "add-peer b again" test $? -eq 0
check "b comes back up" wait_for 10 hs_more a b "$n"
check "ping a -> b" wait_for 5 ping_ok a 10.10.2.1 1

echo "== reload after add-peer and remove-peer: the whole file is checked, the result said"
n=$(hs a b)
out=$(ctl a reload)
check "reload: what it did, in one line" test "$out" = \
	"reloaded: 2 unchanged; y, z are in the file but were removed at run time: not started"
js=$(ctl a --json reload)
check "reload --json: the same as an object" test "$(jq_ "(sorted(j['unchanged']), j['not_started'], j['added'], j['changed'], j['removed'], j['peers'])" <<<"$js")" \
	= "(['b', 'w'], ['y', 'z'], [], [], [], 2)"
cp "$NET_WORK/a.conf" "$NET_WORK/a-good.conf"
# break_section PEER: a.conf with a bad allowed_ips in PEER's section; prints its line
break_section() {
	local l
	l=$(grep -n "^psk_identity = a-$1$" "$NET_WORK/a-good.conf" | cut -d: -f1)
	sed "${l}a allowed_ips = nonsense" "$NET_WORK/a-good.conf" >"$NET_WORK/a.conf"
	echo $((l + 1))
}
for p in y b w; do
	l=$(break_section $p)
	ctl a reload >/dev/null
	check "a broken [peer $p] (removed or re-added at run time, or not): reload fails" test $? -eq 1
	check "with the file's line" err_has "a.conf:$l: \[peer $p\] allowed_ips:"
done
ctl a remove-peer w >/dev/null
check "remove-peer w with a broken file: refused" test $? -eq 1
check "w stays" test "$(names)" = "['b', 'w']"
cp "$NET_WORK/a-good.conf" "$NET_WORK/a.conf"
check "after all that, b kept its session" test "$(hs a b)" -eq "$n"
check "ping a -> b" ping_ok a 10.10.2.1 2
check "w's route stays" bash -c "ip -n $(ns a) route show 10.10.9.0/24 | grep -q ."
ctl a reload >/dev/null
check "the file mended: reload" test $? -eq 0
check "w is still there" test "$(names)" = "['b', 'w']"
lw=$(grep -n "^allowed_ips = 10.10.9.0/24$" "$NET_WORK/a.conf" | cut -d: -f1)
ctl a add-peer d psk_identity=a-d "psk=$kc" allowed_ips=10.10.9.128/25 >/dev/null
check "add-peer d overlapping w: refused" test $? -eq 1
check "citing add-peer d, and w's line" \
	err_has "add-peer d: allowed_ips: 10.10.9.128/25 overlaps 10.10.9.0/24 of peer w (line $lw)\$"
ctl a add-peer d psk_identity=a-d "psk=$kc" allowed_ips=10.10.2.128/25 >/dev/null
check "add-peer d overlapping b (added at run time): refused" test $? -eq 1
check "citing both add-peers" \
	err_has "add-peer d: allowed_ips: 10.10.2.128/25 overlaps 10.10.2.0/24 of peer b (add-peer b)\$"
check "b kept its session" test "$(hs a b)" -eq "$n"

echo "== the daemon goes away"
gw_stop a
check "a exits 0" test $? -eq 0
check "a's socket is removed" test ! -e "$NET_WORK/a.sock"
ctl a status >/dev/null
check "status without a daemon: exit 3" test $? -eq 3
check "says: is dtlsgwd running?" err_has "(is dtlsgwd running?)"
gw_stop b
gw_stop c
finish
