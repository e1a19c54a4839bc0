#!/usr/bin/env bash
# A second dtlsgwd must not take part of a running one's traffic. With the same listen
# port (SO_REUSEPORT would let it bind and receive part of the datagrams) or the same
# tun_name (it would join the running one's multi-queue device), it refuses to start:
# exit 1 and a line naming the running daemon's PID. The first one's tunnel carries
# pings throughout.
. "$(dirname "$0")/lib.sh" "$@"

pair_setup || { fail setup; finish; }
gw_start b "$NET_WORK/b.conf"
gw_start a "$NET_WORK/a.conf"
check "a is up" wait_log a "peer b: handshake done" 10
pid_b=${GW_PID[b]}

# second NAME CONF: start another dtlsgwd in b's namespace; prints its exit status.
# NAME.devices gets b's links 1.5 s after its start, while one that did start runs on.
second() {
	local st=0 pid
	nsx b timeout 10 "$DTLSGWD" -c "$2" --foreground --user root 2>"$NET_WORK/$1.log" &
	pid=$!
	sleep 1.5
	ip -n "$(ns b)" -o link show >"$NET_WORK/$1.devices"
	wait "$pid" || st=$?
	echo "$st"
}

echo "== the same port, another tun_name"
sed -e 's/^control_socket = .*/control_socket = '"${NET_WORK//\//\\/}"'\/b2.sock/' \
	"$NET_WORK/b.conf" >"$NET_WORK/b2.conf"
echo "tun_name = dtlsgw7" >"$NET_WORK/line"
sed -i '/^listen/r '"$NET_WORK/line" "$NET_WORK/b2.conf"
st=$(second port "$NET_WORK/b2.conf")
check "it exits 1 ($st)" test "$st" -eq 1
check "naming the running one: $(grep -m1 'already' "$NET_WORK/port.log")" \
	grep -Eq "listen \[::\]:4433: already served by dtlsgwd pid $pid_b\b" "$NET_WORK/port.log"
check "it made no device" bash -c "! grep -q dtlsgw7 $NET_WORK/port.devices"
check "ping a -> b" ping_ok a 10.10.2.1 5

echo "== the same tun_name, another port"
sed -e 's/^listen = .*/listen = [::]:4434/' "$NET_WORK/b2.conf" | sed '/^tun_name/d' \
	>"$NET_WORK/b3.conf"
st=$(second tun "$NET_WORK/b3.conf")
check "it exits 1 ($st)" test "$st" -eq 1
check "naming the running one: $(grep -m1 'already' "$NET_WORK/tun.log")" \
	grep -Eq "tun dtlsgw0: already in use by dtlsgwd pid $pid_b\b" "$NET_WORK/tun.log"
check "ping a -> b" ping_ok a 10.10.2.1 5
check "b is still the one up" kill -0 "$pid_b"
finish
