#!/usr/bin/env bash
# Faults around a hub gateway h with two spokes: c (direct) and a (through a relay in
# h's namespace that delays handshake records by 400 ms, so a handshake can be caught
# in the middle). c pings h all through the test; at every step h must keep serving c,
# and say in its log what happened.
#   1. a is killed (-9) in the middle of its handshake: h drops the half-open session
#      at halfopen_timeout (10 s); a, started again, gets its tunnel.
#   2. a is killed in the middle of a bulk TCP transfer to h: h declares a dead after
#      dead_after, drops its session; a, started again, gets its tunnel back.
#   3. a's TUN device is deleted under its daemon (ip link del): the daemon logs it,
#      does not spin (CPU time measured), still answers dtlsgwctl and keeps its
#      session with h alive (keepalives), and h still serves c.
#   4. Slow control clients on h send a request one byte a second: dtlsgwctl commands
#      still answer at once (timed), and h drops each slow client after its 10 s idle
#      timeout (logged).
#   5. h's own TUN device is deleted: h logs it, does not spin, answers dtlsgwctl,
#      keeps its sessions (no peer declares it dead) and stops on SIGTERM with status 0.
. "$(dirname "$0")/lib.sh" "$@"

need_ctl

ms() { date +%s%3N; }
ctl() {
	local n=$1
	shift
	"$CTL_BIN" -s "$NET_WORK/$n.sock" -t 5 "$@"
}
jfield() { python3 -c "import json,sys; j=json.load(sys.stdin); print($1)"; }
sessions() { ctl "$1" --json status 2>/dev/null | jfield 'j["sessions"]'; }
sessions_are() { test "$(sessions "$1")" = "$2"; }
peer_state() { ctl "$1" --json peer "$2" 2>/dev/null | jfield 'j["state"]'; }
rx_packets() { ctl "$1" --json peer "$2" 2>/dev/null | jfield 'j["rx_packets"]'; }
# cpu_ticks PID: user + system time of a process, in clock ticks.
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
HZ=$(getconf CLK_TCK)
# gw_alive NAME: the daemon of gateway NAME still runs.
gw_alive() { kill -0 "${GW_PID[$1]}" 2>/dev/null; }

# ---- the three gateways ----
ns_add h a c || { fail setup; finish; }
link h ha 192.0.2.1/24 a va 192.0.2.2/24 || { fail setup; finish; }
link h hc 198.51.100.1/24 c vc 198.51.100.2/24 || { fail setup; finish; }
ka=$(psk_new)
kc=$(psk_new)
gw_conf "$NET_WORK/h.conf" "[::]:4433" "10.40.0.1/24" "keepalive = 1" "workers = 2"
sed -i 's/^log_level = info/log_level = debug/' "$NET_WORK/h.conf"
peer_conf "$NET_WORK/h.conf" a psk_identity=spoke-a "psk=$ka" "allowed_ips=10.40.1.0/24"
peer_conf "$NET_WORK/h.conf" c psk_identity=spoke-c "psk=$kc" "allowed_ips=10.40.3.0/24"
gw_conf "$NET_WORK/a.conf" "[::]:4433" "10.40.1.1/24" "keepalive = 1" "workers = 2"
peer_conf "$NET_WORK/a.conf" hub psk_identity=spoke-a "psk=$ka" "allowed_ips=10.40.0.0/24" \
	endpoint=192.0.2.1:5000
gw_conf "$NET_WORK/c.conf" "[::]:4433" "10.40.3.1/24" "keepalive = 1"
peer_conf "$NET_WORK/c.conf" hub psk_identity=spoke-c "psk=$kc" "allowed_ips=10.40.0.0/24" \
	endpoint=198.51.100.1:4433

nsx_bg h python3 "$RELAY" --listen 192.0.2.1:5000 --target 127.0.0.1:4433 --only hs,ccs \
	--delay 400 --lifetime 280 --idle 0 >"$NET_WORK/relay.out" 2>&1
check "relay ready" wait_for 10 grep -q READY "$NET_WORK/relay.out"
gw_start h "$NET_WORK/h.conf"
check "h started" wait_log h "started" 10
gw_start c "$NET_WORK/c.conf"
check "c up" wait_log c "peer hub: handshake done" 10
check "ping c -> h" ping_ok c 10.40.0.1 2
# c pings h all through steps 1 to 4.
nsx_bg c ping -i 0.2 -W 1 10.40.0.1 >"$NET_WORK/cping.out" 2>&1
CPING_PID=$BG_PID

echo "== 1. a killed in the middle of its handshake"
gw_start a "$NET_WORK/a.conf"
if wait_log h "handshake from 127\.0\.0\.1:[0-9]+: session created" 15; then
	gw_stop a KILL
	ok "a killed (-9) after h created its session, before the handshake was done"
else
	fail "h never created a's session"
	gw_stop a KILL
fi
check "the handshake was indeed cut: h did not complete it" \
	bash -c "! grep -q 'peer a: handshake done' '${GW_LOG[h]}'"
check "a had dialled but not completed" \
	bash -c "grep -q 'peer hub: dialling' '${GW_LOG[a]}' && ! grep -q 'handshake done' '${GW_LOG[a]}'"
check "h holds the half-open session (2 sessions)" sessions_are h 2
check "ping c -> h while a's handshake hangs" ping_ok c 10.40.0.1 3
t0=$(ms)
if wait_for 30 sessions_are h 1; then
	ok "h dropped the half-open session after $(($(ms) - t0)) ms more"
else
	fail "h still holds a's half-open session 30 s later"
fi
grep -E "127\.0\.0\.1" "${GW_LOG[h]}" | grep -v "cookie\|session created" | tail -2 | sed 's/^/  h: /'
check "h logged it" log_has h "handshake (from|with) 127\.0\.0\.1:[0-9]+ (failed|abandoned|dropped: not authenticated within halfopen_timeout)"
check "h is alive and ping c -> h" bash -c "kill -0 ${GW_PID[h]} && ip netns exec $(ns c) ping -c 2 -i 0.2 -W 1 10.40.0.1 >/dev/null"
gw_start a "$NET_WORK/a.conf"
check "a, started again, gets its tunnel" wait_log a "peer hub: handshake done" 20
check "ping a -> h" ping_ok a 10.40.0.1 3
# The relay holds handshake records only (--only hs,ccs): a ping's records pass at once.
rtt=$(nsx a ping -c 3 -i 0.2 -W 2 10.40.0.1 2>/dev/null | awk -F/ '/^rtt/ { print int($5) }')
check "the relay does not delay application data: ping a -> h ${rtt:-?} ms, under 400" \
	test "${rtt:-400}" -lt 400

echo "== 2. a killed in the middle of a bulk transfer"
nsx_bg h python3 -c '
import socket
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("10.40.0.1", 6000))
s.listen(1)
s.settimeout(60)
c, _ = s.accept()
c.settimeout(60)
n = 0
try:
    while True:
        d = c.recv(1 << 16)
        if not d:
            break
        n += len(d)
except OSError as e:
    print("ERROR", e)
print("RECEIVED", n, flush=True)
' >"$NET_WORK/recv.out" 2>&1
RECV_PID=$BG_PID
wait_for 5 listening h 6000
nsx_bg a python3 -c '
import socket, time
s = socket.create_connection(("10.40.0.1", 6000), timeout=10)
buf = bytes(1 << 16)
end = time.monotonic() + 60
while time.monotonic() < end:
    s.sendall(buf)
' >/dev/null 2>&1
SEND_PID=$BG_PID
rx0=$(rx_packets h a)
rx_grew() { test $(($(rx_packets h a) - rx0)) -gt "$1"; }
check "the transfer runs (300 packets reached h)" wait_for 15 rx_grew 300
echo "  h received $(($(rx_packets h a) - rx0)) packets from a"
gw_stop a KILL
t0=$(ms)
kill -KILL "$SEND_PID" 2>/dev/null
echo "  a killed (-9) in the middle of the transfer"
check "ping c -> h right after" ping_ok c 10.40.0.1 3
if wait_log h "peer a: dead \(no packet for [0-9]+ s\)" 10; then
	ok "h declared a dead $(($(ms) - t0)) ms after the kill"
else
	fail "h did not declare a dead within 10 s"
fi
grep "peer a: dead" "${GW_LOG[h]}" | tail -1 | sed 's/^/  h: /'
check "h dropped a's session (1 left)" wait_for 3 sessions_are h 1
check "h shows a dead" test "$(peer_state h a)" = dead
check "ping c -> h" ping_ok c 10.40.0.1 3
kill -TERM "$RECV_PID" 2>/dev/null
gw_start a "$NET_WORK/a.conf"
check "a, started again, gets its tunnel back" wait_for 20 log_more a "peer hub: handshake done" 0
check "ping a -> h" wait_for 5 ping_ok a 10.40.0.1 1
check "h shows a up" test "$(peer_state h a)" = up

echo "== 3. a's TUN device deleted under its daemon"
n_dead=$(log_count h "peer a: dead")
n_err=$(log_count a "tun: reading its queue")
c0=$(cpu_ticks "${GW_PID[a]}")
nsx a ip link del dtlsgw0
check "the device is gone" bash -c "! ip -n $(ns a) link show dtlsgw0 >/dev/null 2>&1"
sleep 3
c1=$(cpu_ticks "${GW_PID[a]}")
echo "  a's daemon used $(((c1 - c0) * 1000 / HZ)) ms of CPU in the 3 s after the deletion"
check "a's daemon is alive" gw_alive a
check "and does not spin (CPU $(((c1 - c0) * 1000 / HZ)) ms in 3 s, bound 600 ms)" \
	test $(((c1 - c0) * 1000 / HZ)) -lt 600
check "a logged what happened" wait_for 3 log_more a "error: tun: reading its queue: .*deleted" "$n_err"
grep "tun: reading" "${GW_LOG[a]}" | tail -1 | sed 's/^/  a: /'
t0=$(ms)
check "dtlsgwctl on a answers" ctl a status >/dev/null
echo "  (in $(($(ms) - t0)) ms)"
check "a's session with h stays up (keepalives): h shows a up" test "$(peer_state h a)" = up
sleep 3
check "h has not declared a dead 6 s later" test "$(log_count h "peer a: dead")" -eq "$n_dead"
check "h still serves c" ping_ok c 10.40.0.1 3
gw_stop a
check "a stops on SIGTERM with status 0" test $? -eq 0

echo "== 4. slow control clients on h"
# Each sends a status request one byte a second and reports when h closed on it.
for i in 1 2 3; do
	python3 -c '
import select, socket, sys, time
s = socket.socket(socket.AF_UNIX)
s.connect(sys.argv[1])
t0 = time.monotonic()
req = b"{\"version\":1,\"command\":\"status\"}\n"
for n, b in enumerate(req):
    try:
        s.send(bytes([b]))
    except OSError as e:
        print("CLOSED %.1f sent %d (%s)" % (time.monotonic() - t0, n, e.strerror), flush=True)
        sys.exit(0)
    r, _, _ = select.select([s], [], [], 1.0)
    if r:
        try:
            d = s.recv(4096)
        except OSError as e:
            d = b""
        if not d:
            print("CLOSED %.1f sent %d" % (time.monotonic() - t0, n + 1), flush=True)
            sys.exit(0)
        print("ANSWERED %.1f %r" % (time.monotonic() - t0, d[:60]), flush=True)
        sys.exit(0)
print("NEVER CLOSED %.1f" % (time.monotonic() - t0), flush=True)
' "$NET_WORK/h.sock" >"$NET_WORK/slow$i.out" 2>&1 &
	NET_PIDS+=("$!")
	eval "SLOW$i=$!"
done
sleep 1
worst=0
for i in $(seq 8); do
	for cmd in status peers "peer c" stats; do
		t0=$(ms)
		if ! ctl h $cmd >/dev/null 2>&1; then
			fail "dtlsgwctl $cmd on h failed with slow clients connected"
		fi
		dt=$(($(ms) - t0))
		[ "$dt" -gt "$worst" ] && worst=$dt
	done
	sleep 0.5
done
check "32 dtlsgwctl commands answered while slow clients held connections (slowest ${worst} ms)" \
	test "$worst" -lt 1000
wait "$SLOW1" "$SLOW2" "$SLOW3" 2>/dev/null
for i in 1 2 3; do
	out=$(cat "$NET_WORK/slow$i.out")
	echo "  slow client $i: $out"
	secs=$(echo "$out" | awk '$1 == "CLOSED" { print int($2) }')
	check "h dropped slow client $i after its idle timeout (${secs:-never} s)" \
		test -n "$secs" -a "${secs:-0}" -ge 9 -a "${secs:-99}" -le 12
done
n=$(log_count h "control: uid [0-9]+ pid [0-9]+ idle for 10000 ms; closing")
check "h logged dropping them ($n)" test "$n" -ge 3
grep "idle for" "${GW_LOG[h]}" | tail -1 | sed 's/^/  h: /'
check "ping c -> h" ping_ok c 10.40.0.1 2

kill -INT "$CPING_PID"
wait "$CPING_PID" 2>/dev/null
loss=$(grep -Eo '[0-9.]+% packet loss' "$NET_WORK/cping.out")
echo "  c's background ping to h through steps 1-4: $(grep -E 'packets transmitted' "$NET_WORK/cping.out")"
check "c's pings to h all through steps 1-4 were answered (${loss:-?})" \
	test "${loss%%%*}" = 0
echo "== 5. h's own TUN device deleted"
c0=$(cpu_ticks "${GW_PID[h]}")
nsx h ip link del dtlsgw0
sleep 3
c1=$(cpu_ticks "${GW_PID[h]}")
echo "  h used $(((c1 - c0) * 1000 / HZ)) ms of CPU in the 3 s after the deletion"
check "h is alive" gw_alive h
check "and does not spin (CPU $(((c1 - c0) * 1000 / HZ)) ms in 3 s, bound 600 ms)" \
	test $(((c1 - c0) * 1000 / HZ)) -lt 600
check "h logged what happened" log_has h "error: tun: reading its queue: .*deleted"
t0=$(ms)
check "dtlsgwctl on h answers" ctl h status >/dev/null
echo "  (in $(($(ms) - t0)) ms)"
sleep 2
check "c's session stays up 5 s later (keepalives; c has not declared h dead)" \
	bash -c "! grep -q 'peer hub: dead' '${GW_LOG[c]}'"
check "h still holds c's session" test "$(peer_state h c)" = up
gw_stop h
check "h stops on SIGTERM with status 0" test $? -eq 0
check "c hears h's close_notify" wait_log c "peer hub: closed by the peer" 3
gw_stop c
finish
