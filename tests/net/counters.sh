#!/usr/bin/env bash
# Every counter of the SIGUSR1 log reaches the control socket: a peer's no-session and
# tun drops and keepalives, the gateway's packets without a route, failed sends, cookie
# exchanges, TUN read errors and offload counters, in `status`/`peer` JSON and in the
# Prometheus text. The same handshake time reads the same in JSON and Prometheus,
# however many calls apart. An unknown log level is named in the error.
. "$(dirname "$0")/lib.sh" "$@"
need_ctl

# ctl NAME ARGS...: dtlsgwctl against gateway NAME (stderr to $NET_WORK/err).
ctl() { gw_ctl "$@"; }
jq_() { python3 -c "import json,sys; j=json.load(sys.stdin); v=($1); print(v if not isinstance(v,bool) else int(v))"; }

# c: a second peer of a that never answers: packets for it wait, then are dropped.
check "a-b up" pair_up_with_silent_peer
check "ping through the tunnel" ping_ok a 10.10.2.1

echo "== one handshake time, many calls: JSON and Prometheus agree"
# For 2.5 s, alternately `peer b` and `stats` over one connection: every reading of b's
# last handshake must be the same number.
seen=$(python3 -c '
import json, re, socket, sys, time
s = socket.socket(socket.AF_UNIX)
s.settimeout(5)
s.connect(sys.argv[1])
f = s.makefile("rb")
seen = {}
end = time.monotonic() + 2.5
n = 0
while time.monotonic() < end:
    if n % 2 == 0:
        s.sendall(b"{\"version\":1,\"command\":\"peer\",\"args\":{\"name\":\"b\"}}\n")
        v = json.loads(f.readline())["result"]["last_handshake"]
        seen.setdefault("json %d" % v, 0)
        seen["json %d" % v] += 1
    else:
        s.sendall(b"{\"version\":1,\"command\":\"stats\"}\n")
        t = json.loads(f.readline())["result"]["text"]
        v = int(re.search(r"dtlsgw_peer_last_handshake_seconds\{peer=\"b\"\} (\d+)", t).group(1))
        seen.setdefault("prometheus %d" % v, 0)
        seen["prometheus %d" % v] += 1
    n += 1
    time.sleep(0.002)
print(" ".join("%s (%d times)" % kv for kv in sorted(seen.items())))
' "$NET_WORK/a.sock")
echo "  readings: $seen"
values=$(echo "$seen" | grep -oE '(json|prometheus) [0-9]+' | awk '{print $2}' | sort -u | wc -l)
check "last_handshake reads one value in every call" test "$values" -eq 1

echo "== counters"
# no route: a's TUN subnet has 10.10.1.0/24, but no peer has 10.10.1.99
nsx a ping -c 3 -i 0.2 -W 1 10.10.1.99 >/dev/null 2>&1
# no session: 30 packets for c, which never answers: 16 wait, the others are dropped
nsx a ping -c 30 -i 0.02 -W 1 10.10.3.1 >/dev/null 2>&1
ctl a --json status >"$NET_WORK/status.json"
ctl a --json peer c >"$NET_WORK/c.json"
ctl a --json peer b >"$NET_WORK/b.json"
ctl a stats >"$NET_WORK/prom"
sed 's/^/  /' "$NET_WORK/c.json" | head -40
check "status: no_route drops counted" test "$(jq_ "j['totals']['drops']['no_route']" <"$NET_WORK/status.json")" -ge 3
check "status: send_failed drops" test -n "$(jq_ "j['totals']['drops']['send_failed']" <"$NET_WORK/status.json")"
check "status: no_session drops summed" test "$(jq_ "j['totals']['drops']['no_session']" <"$NET_WORK/status.json")" -ge 14
check "status: tun drops summed" test -n "$(jq_ "j['totals']['drops']['tun']" <"$NET_WORK/status.json")"
check "status: cookie exchanges (b answered none, a none)" test -n "$(jq_ "j['cookie_exchanges']" <"$NET_WORK/status.json")"
check "status: tun_read_errors" test -n "$(jq_ "j['tun_read_errors']" <"$NET_WORK/status.json")"
check "status: offload counters" test "$(jq_ "len(j['offload'])" <"$NET_WORK/status.json")" -eq 5
check "peer c: no_session drops" test "$(jq_ "j['drops']['no_session']" <"$NET_WORK/c.json")" -ge 14
check "peer b: tun drops" test "$(jq_ "j['drops']['tun']" <"$NET_WORK/b.json")" -eq 0
check "peer b: keepalives received" wait_for 5 sh -c "'$CTL_BIN' -s '$NET_WORK/a.sock' --json peer b | grep -q '\"keepalives_rx\": *[1-9]'"
check "prometheus: no_route" grep -q '^dtlsgw_drops_total{reason="no_route"} [1-9]' "$NET_WORK/prom"
check "prometheus: send_failed" grep -q '^dtlsgw_drops_total{reason="send_failed"} ' "$NET_WORK/prom"
check "prometheus: peer no_session" grep -q '^dtlsgw_peer_drops_total{peer="c",reason="no_session"} [1-9]' "$NET_WORK/prom"
check "prometheus: peer tun" grep -q '^dtlsgw_peer_drops_total{peer="b",reason="tun"} 0' "$NET_WORK/prom"
check "prometheus: keepalives" grep -q '^dtlsgw_peer_keepalives_rx_total{peer="b"} ' "$NET_WORK/prom"
check "prometheus: cookie exchanges" grep -q '^dtlsgw_cookie_exchanges_total ' "$NET_WORK/prom"
check "prometheus: tun read errors" grep -q '^dtlsgw_tun_read_errors_total 0' "$NET_WORK/prom"
check "prometheus: offload" test "$(grep -c '^dtlsgw_offload_[a-z_]*_total ' "$NET_WORK/prom")" -eq 5
# and the SIGUSR1 line says the same
stats a
check "SIGUSR1 agrees on no-session drops of c" \
	test "$(counter a c no-session)" -eq "$(jq_ "j['drops']['no_session']" <"$NET_WORK/c.json")"

echo "== log-level"
ctl a log-level verbose
check "log-level verbose: exit 1" test $? -eq 1
sed 's/^/  /' "$NET_WORK/err"
check "names the level and the choices" \
	grep -q 'unknown level "verbose"; use error, warning, notice, info or debug' "$NET_WORK/err"

finish
