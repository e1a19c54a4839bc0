# tests/net/lib.sh: shared helpers for the network-namespace tests (source it).
#
#   . "$(dirname "$0")/lib.sh" "$@"      # $1: the build directory (default: build)
#
# Each test gets a unique prefix (dtn<pid>), so namespace names never clash with
# another test or a second run; everything made here (namespaces, processes,
# files) is recorded and removed by the EXIT trap. Processes are stopped by PID.
# Every helper is bounded in time.

set -u

NET_BUILD=${1:-${BUILD_DIR:-build}}
DTLSGWD=${DTLSGWD:-$NET_BUILD/daemon/dtlsgwd}
RELAY=${RELAY:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../interop" && pwd)/relay.py}
NET_PREFIX="dtn$$"
NET_WORK=$(mktemp -d "/tmp/dtlsgw-net.XXXXXX")
NET_NS=()
NET_PIDS=()
declare -A GW_PID=()
declare -A GW_LOG=()
PASSED=0
FAILED=0

if [ "$(id -u)" -ne 0 ]; then
	echo "SKIP: needs root (network namespaces)"
	exit 77
fi
if [ ! -x "$DTLSGWD" ]; then
	echo "FAIL: no dtlsgwd at $DTLSGWD (build first)"
	exit 1
fi

net_cleanup() {
	local pid ns
	for pid in "${NET_PIDS[@]}"; do
		kill -TERM "$pid" 2>/dev/null
	done
	for pid in "${NET_PIDS[@]}"; do
		for _ in $(seq 30); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
		kill -KILL "$pid" 2>/dev/null
	done
	wait 2>/dev/null
	for ns in "${NET_NS[@]}"; do
		ip netns del "$ns" 2>/dev/null
	done
	local c
	for c in "${NET_CLEANUP[@]}"; do
		"$c"
	done
	rm -rf "$NET_WORK"
}
# NET_CLEANUP: more commands (functions) for the EXIT trap, run after the processes and
# namespaces are gone.
NET_CLEANUP=()
trap net_cleanup EXIT
trap 'exit 130' INT TERM

# ---- results ----

ok() { echo "ok: $*"; PASSED=$((PASSED + 1)); }
fail() { echo "FAIL: $*"; FAILED=$((FAILED + 1)); }
# check DESCRIPTION COMMAND...: ok if the command succeeds.
check() {
	local d=$1
	shift
	if "$@"; then ok "$d"; else fail "$d"; fi
}
finish() {
	echo "$PASSED passed, $FAILED failed"
	[ "$FAILED" -eq 0 ]
	exit $?
}

# ---- namespaces ----

# ns NAME: the full namespace name of NAME.
ns() { echo "$NET_PREFIX-$1"; }
# ns_add NAME...: new namespaces with loopback up.
ns_add() {
	local n
	for n in "$@"; do
		ip netns add "$(ns "$n")" || return 1
		NET_NS+=("$(ns "$n")")
		ip -n "$(ns "$n")" link set lo up
	done
}
# nsx NAME CMD...: run CMD inside namespace NAME.
nsx() {
	local n=$1
	shift
	ip netns exec "$(ns "$n")" "$@"
}
nodad() { case $1 in *:*) echo nodad ;; esac; }
# nsx_bg NAME CMD...: run CMD inside namespace NAME in the background; BG_PID is its
# PID (the command's own: ip netns exec execs it), remembered for the cleanup.
nsx_bg() {
	local n=$1
	shift
	ip netns exec "$(ns "$n")" "$@" &
	BG_PID=$!
	NET_PIDS+=("$BG_PID")
}
# link A IFA ADDRS_A B IFB ADDRS_B: a veth pair between namespaces A and B, each side
# with its comma-separated addresses (v6 without duplicate address detection).
link() {
	local a=$1 ifa=$2 addrs_a=$3 b=$4 ifb=$5 addrs_b=$6 x
	ip link add "$ifa" netns "$(ns "$a")" type veth peer name "$ifb" netns "$(ns "$b")" || return 1
	for x in ${addrs_a//,/ }; do ip -n "$(ns "$a")" addr add "$x" dev "$ifa" $(nodad "$x"); done
	for x in ${addrs_b//,/ }; do ip -n "$(ns "$b")" addr add "$x" dev "$ifb" $(nodad "$x"); done
	ip -n "$(ns "$a")" link set "$ifa" up
	ip -n "$(ns "$b")" link set "$ifb" up
}

# ---- gateways ----

# psk_new: 32 random bytes as hex.
psk_new() { od -An -tx1 -N32 /dev/urandom | tr -d ' \n'; }

# gw_start NAME CONF: start dtlsgwd in namespace NAME; log in $NET_WORK/NAME.log
# (appended, so a restart keeps the history). As root on purpose (--user root), or as
# the user GW_USER names (dtlsgwd refuses a user that does not exist).
gw_start() {
	local n=$1 conf=$2
	GW_LOG[$n]=$NET_WORK/$n.log
	echo "--- start $(date +%T.%N)" >>"${GW_LOG[$n]}"
	ip netns exec "$(ns "$n")" "$DTLSGWD" -c "$conf" --foreground --user "${GW_USER:-root}" 2>>"${GW_LOG[$n]}" &
	GW_PID[$n]=$!
	NET_PIDS+=("$!")
}
# gw_stop NAME [SIGNAL]: stop it (default TERM, 5 s, then KILL); returns its status.
gw_stop() {
	local n=$1 sig=${2:-TERM} pid=${GW_PID[$1]} st=0
	kill "-$sig" "$pid" 2>/dev/null
	for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
	kill -KILL "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null || st=$?
	return $st
}
gw_log() { cat "${GW_LOG[$1]}"; }

# gw_conf FILE LISTEN TUN_ADDRS [gateway lines...]: writes the [gateway] section (mode 600),
# with the control socket beside the file (FILE without .conf, plus .sock); add peers with
# peer_conf.
gw_conf() {
	local f=$1 listen=$2 addrs=$3
	shift 3
	umask 077
	{
		echo "[gateway]"
		echo "listen = $listen"
		echo "tun_address = $addrs"
		echo "log_level = info"
		echo "control_socket = ${f%.conf}.sock"
		local l
		for l in "$@"; do echo "$l"; done
		echo
	} >"$f"
}
# peer_conf FILE NAME key=value...: appends a [peer NAME] section.
peer_conf() {
	local f=$1 name=$2 l
	shift 2
	{
		echo "[peer $name]"
		for l in "$@"; do echo "${l%%=*} = ${l#*=}"; done
		echo
	} >>"$f"
}

# ---- waiting ----

# wait_for SECONDS CMD...: poll CMD every 0.1 s until it succeeds or time is up.
wait_for() {
	local t=$1 i
	shift
	for i in $(seq $((t * 10))); do
		"$@" >/dev/null 2>&1 && return 0
		sleep 0.1
	done
	return 1
}
# log_count NAME REGEX: how many lines of gateway NAME's log match.
log_count() { grep -cE -- "$2" "${GW_LOG[$1]}"; }
# log_more NAME REGEX N: whether more than N lines match (for wait_for, which must
# get a command to run again, not a count taken once).
log_more() { test "$(log_count "$1" "$2")" -gt "$3"; }
# log_has NAME REGEX: whether gateway NAME's log matches.
log_has() { grep -Eq -- "$2" "${GW_LOG[$1]}"; }
# wait_log NAME REGEX SECONDS
wait_log() { wait_for "$3" log_has "$1" "$2"; }
# listening NS PORT: whether a TCP socket listens on PORT in namespace NS.
listening() { nsx "$1" ss -Hltn "sport = :$2" | grep -q .; }
# ping_ok NS ADDR [COUNT]: ping (v4 or v6) with a short timeout.
ping_ok() { nsx "$1" ping -c "${3:-3}" -i 0.2 -W 1 "$2" >/dev/null 2>&1; }
# ping_summary NS ADDR COUNT: prints ping's last two lines.
ping_summary() { nsx "$1" ping -c "$3" -i 0.2 -W 1 "$2" 2>&1 | tail -2; }

# ---- shared by several tests ----

# need_ctl: the test drives gateways with dtlsgwctl and python3: CTL_BIN is set, or the
# test is skipped (no python3) or failed (no dtlsgwctl built).
need_ctl() {
	CTL_BIN=${DTLSGWCTL:-$NET_BUILD/daemon/ctl/dtlsgwctl}
	if ! command -v python3 >/dev/null; then
		echo "SKIP: no python3 (scripts/setup installs it)"
		exit 77
	fi
	if [ ! -x "$CTL_BIN" ]; then
		echo "FAIL: no dtlsgwctl at $CTL_BIN (build first)"
		exit 1
	fi
}

# sampler NAME OUT: in the background, asks gateway NAME for its status every 50 ms over
# one control connection until $NET_WORK/stop-sampler exists (or 120 s); at the end
# writes "SAMPLES n" and "MAX sessions" to OUT.
sampler() {
	python3 -c '
import json, os, socket, sys, time
s = socket.socket(socket.AF_UNIX)
s.settimeout(5)
s.connect(sys.argv[1])
f = s.makefile("rb")
n = top = 0
end = time.monotonic() + 120
while not os.path.exists(sys.argv[2]) and time.monotonic() < end:
    s.sendall(b"{\"version\":1,\"command\":\"status\"}\n")
    top = max(top, json.loads(f.readline())["result"]["sessions"])
    n += 1
    time.sleep(0.05)
print("SAMPLES", n)
print("MAX", top)
' "$NET_WORK/$1.sock" "$NET_WORK/stop-sampler" >"$2" 2>&1 &
	SAMPLER_PID=$!
	NET_PIDS+=("$SAMPLER_PID")
}

# send_file NS ADDR PORT FILE SECONDS: from namespace NS, sends FILE over one TCP
# connection to tcp_sink.py at ADDR PORT and waits for its one-byte answer (bounded by
# SECONDS); returns the sender's status.
send_file() {
	nsx "$1" timeout "$5" python3 -c '
import socket, sys
s = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=200)
with open(sys.argv[3], "rb") as f:
    s.sendfile(f)
s.shutdown(socket.SHUT_WR)
s.recv(1)
' "$2" "$3" "$4"
}

# ---- the usual pair ----
#
# pair_setup: namespaces a and b joined by veth (underlay 192.0.2.1/24 + fd00:192::1/64
# and 192.0.2.2/24 + fd00:192::2/64); configs $NET_WORK/a.conf (a dials b at
# ${PAIR_ENDPOINT:-192.0.2.2:4433}) and $NET_WORK/b.conf (b waits for a). Inner
# networks: a 10.10.1.1/24 + fd00:10:1::1/64, b 10.10.2.1/24 + fd00:10:2::1/64.
# Knobs: PAIR_KEEPALIVE (1), PAIR_GW_EXTRA (extra [gateway] lines, ';'-separated),
# PSK_A/PSK_B (keys; default one shared key), ID_A/ID_B (identities; default "a-b").
pair_setup() {
	local ka=${PAIR_KEEPALIVE:-1} key id_a id_b key_a key_b extra=()
	key=$(psk_new)
	key_a=${PSK_A:-$key}
	key_b=${PSK_B:-$key}
	id_a=${ID_A:-a-b}
	id_b=${ID_B:-a-b}
	[ -n "${PAIR_GW_EXTRA:-}" ] && IFS=';' read -r -a extra <<<"$PAIR_GW_EXTRA"
	ns_add a b || return 1
	link a va 192.0.2.1/24,fd00:192::1/64 b vb 192.0.2.2/24,fd00:192::2/64 || return 1
	gw_conf "$NET_WORK/a.conf" "[::]:4433" "10.10.1.1/24, fd00:10:1::1/64" \
		"keepalive = $ka" "${extra[@]}"
	peer_conf "$NET_WORK/a.conf" b "psk_identity=$id_a" "psk=$key_a" \
		"allowed_ips=10.10.2.0/24, fd00:10:2::/64" "endpoint=${PAIR_ENDPOINT:-192.0.2.2:4433}"
	gw_conf "$NET_WORK/b.conf" "[::]:4433" "10.10.2.1/24, fd00:10:2::1/64" \
		"keepalive = $ka" "${extra[@]}"
	peer_conf "$NET_WORK/b.conf" a "psk_identity=$id_b" "psk=$key_b" \
		"allowed_ips=10.10.1.0/24, fd00:10:1::/64"
}

# stats NAME: ask gateway NAME for its counters (SIGUSR1) and wait for the lines.
stats() {
	local before
	before=$(log_count "$1" 'notice: stats:')
	kill -USR1 "${GW_PID[$1]}"
	wait_for 3 log_more "$1" 'notice: stats:' "$before"
	sleep 0.1
}
# counter NAME PEER FIELD: the last value of a counter in gateway NAME's stats lines,
# FIELD as printed ("rx", "policy", "handshakes"...; for rx/tx the packet count).
counter() {
	grep "notice: peer $2: " "${GW_LOG[$1]}" | tail -1 |
		sed -E "s/.*[ ,]$3 ([0-9]+).*/\1/"
}

# sink_start NS ADDR: a UDP receiver on ADDR:9999 in namespace NS (for peer_sim's
# packets); each datagram becomes a line of $NET_WORK/sink.out. sink_count: how many.
sink_start() {
	: >"$NET_WORK/sink.out"
	nsx_bg "$1" timeout 120 python3 -u -c '
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind((sys.argv[1], 9999))
while True:
    print(s.recv(2048).decode(errors="replace"), flush=True)
' "$2" >"$NET_WORK/sink.out"
	sleep 0.3
}
sink_count() { wc -l <"$NET_WORK/sink.out"; }
# need_peer_sim: the test drives tests/net/peer_sim (and dtlsgwctl): SIM is set, or the
# test fails (not built).
need_peer_sim() {
	need_ctl
	SIM=${PEER_SIM:-$NET_BUILD/tests/net/peer_sim}
	[ -x "$SIM" ] || { echo "FAIL: no peer_sim at $SIM (build first)"; exit 1; }
}
# ab_setup: namespaces a and b joined by veth, a 192.0.2.1/24 and b 192.0.2.2/24.
ab_setup() { ns_add a b && link a va 192.0.2.1/24 b vb 192.0.2.2/24; }
# gw_ctl NAME ARGS...: dtlsgwctl against gateway NAME (stderr to $NET_WORK/err).
gw_ctl() { "$CTL_BIN" -s "$NET_WORK/$1.sock" -t 10 "${@:2}" 2>"$NET_WORK/err"; }
# pair_up_with_silent_peer: the usual pair up, and a second peer c of a dialled at
# 192.0.2.2:4499, where nothing listens (ICMP port unreachable).
pair_up_with_silent_peer() {
	pair_setup || return 1
	peer_conf "$NET_WORK/a.conf" c psk_identity=a-c "psk=$(psk_new)" \
		"allowed_ips=10.10.3.0/24" "endpoint=192.0.2.2:4499"
	gw_start b "$NET_WORK/b.conf"
	gw_start a "$NET_WORK/a.conf"
	wait_log a "peer b: handshake done" 10
}
