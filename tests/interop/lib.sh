# shellcheck shell=bash
# lib.sh: shared helpers of the dtlscat interop scripts (sourced, bash only).
#
#   script.sh [DTLSCAT [SRCDIR]]      (ctest passes both; env DTLSCAT/SRCDIR also work)
#
# Every peer runs under `timeout`, in the background, with its PID recorded; the PIDs
# are killed one by one on case end and on exit. Every wait is a bounded loop. Each test
# case gets its own directory of logs (NAME.out / NAME.err per process); a failed case
# prints the tails of its logs. The temp dir is removed at exit unless INTEROP_KEEP=1.
#
# Case API:  case_begin "title"; ... checks ...; case_end
# Checks:    expect_log NAME REGEX [DESC]; expect_no_log; expect_rc NAME RC; expect_rc_nonzero;
#            expect_line NAME LINE (exact stdout line); ok DESC; bad DESC
# Processes: spawn NAME SECS [--stdin FEED] [--fsize KB] [--] CMD...; wait_for NAME REGEX [SECS];
#            wait_exit NAME [SECS]; stop NAME; alive NAME
# Feeds:     feed_open NAME; feed NAME LINE; feed_close NAME  (a FIFO held open read-write)
set -u

INTEROP_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
SCRIPT=$(basename "$0" .sh)
DTLSCAT=${1:-${DTLSCAT:-}}
SRCDIR=${2:-${SRCDIR:-$(cd "$INTEROP_DIR/../.." && pwd)}}
if [ -z "$DTLSCAT" ]; then
	for c in "$SRCDIR"/build*/lib/dtlscat; do [ -x "$c" ] && DTLSCAT=$c && break; done
fi
if [ -z "$DTLSCAT" ] || [ ! -x "$DTLSCAT" ]; then
	echo "$SCRIPT: dtlscat not found (pass its path as the first argument)" >&2
	exit 2
fi
RELAY=$INTEROP_DIR/relay.py
# The real interpreter, not a version-manager shim (saves a second per relay start).
PYTHON=$(python3 -c 'import sys; print(sys.executable)' 2>/dev/null || echo python3)

PSK=000102030405060708090a0b0c0d0e0f
PSK_ID=client1
WRONG_PSK=0f0e0d0c0b0a09080706050403020100
GNUTLS_BASE='NONE:+VERS-DTLS1.2:+COMP-NULL:+SIGN-ALL:+GROUP-ALL:+CTYPE-X509'

# IANA names of the suites, by OpenSSL name.
declare -A IANA=(
	[PSK-AES128-GCM-SHA256]=TLS_PSK_WITH_AES_128_GCM_SHA256
	[PSK-AES128-CCM8]=TLS_PSK_WITH_AES_128_CCM_8
	[PSK-AES128-CBC-SHA256]=TLS_PSK_WITH_AES_128_CBC_SHA256
	[ECDHE-PSK-AES128-CBC-SHA256]=TLS_ECDHE_PSK_WITH_AES_128_CBC_SHA256
	[ECDHE-PSK-CHACHA20-POLY1305]=TLS_ECDHE_PSK_WITH_CHACHA20_POLY1305_SHA256
	[AES128-SHA]=TLS_RSA_WITH_AES_128_CBC_SHA
	[ECDHE-ECDSA-AES128-GCM-SHA256]=TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256
	[ECDHE-ECDSA-AES256-GCM-SHA384]=TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384
	[ECDHE-RSA-AES128-GCM-SHA256]=TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256
	[ECDHE-ECDSA-CHACHA20-POLY1305]=TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256
	[ECDHE-ECDSA-AES128-CCM8]=TLS_ECDHE_ECDSA_WITH_AES_128_CCM_8
)
# GnuTLS priority strings forcing one suite (appended to GNUTLS_BASE).
declare -A GNUTLS_PRIO=(
	[PSK-AES128-GCM-SHA256]=':+PSK:+AES-128-GCM:+AEAD'
	[PSK-AES128-CCM8]=':+PSK:+AES-128-CCM-8:+AEAD'
	[PSK-AES128-CBC-SHA256]=':+PSK:+AES-128-CBC:+SHA256'
	[ECDHE-PSK-AES128-CBC-SHA256]=':+ECDHE-PSK:+AES-128-CBC:+SHA256'
	[ECDHE-PSK-CHACHA20-POLY1305]=':+ECDHE-PSK:+CHACHA20-POLY1305:+AEAD'
	[AES128-SHA]=':+RSA:+AES-128-CBC:+SHA1'
	[ECDHE-ECDSA-AES128-GCM-SHA256]=':+ECDHE-ECDSA:+AES-128-GCM:+AEAD'
	[ECDHE-ECDSA-AES256-GCM-SHA384]=':+ECDHE-ECDSA:+AES-256-GCM:+AEAD'
	[ECDHE-RSA-AES128-GCM-SHA256]=':+ECDHE-RSA:+AES-128-GCM:+AEAD'
	[ECDHE-ECDSA-CHACHA20-POLY1305]=':+ECDHE-ECDSA:+CHACHA20-POLY1305:+AEAD'
	[ECDHE-ECDSA-AES128-CCM8]=':+ECDHE-ECDSA:+AES-128-CCM-8:+AEAD'
)
gnutls_prio() { printf '%s%s' "$GNUTLS_BASE" "${GNUTLS_PRIO[$1]}"; }

T=$(mktemp -d "${TMPDIR:-/tmp}/interop-$SCRIPT.XXXXXX")
PASSED=0
FAILED=0
FAILED_CASES=()
CASE=""
CASE_OK=1
CASE_N=0
CD=$T
declare -A PID=() RC=() FEED=()
CASE_PROCS=()
T0=$(date +%s)

log() { printf '%s\n' "$*"; }

# Deadlines for the bounded wait loops: now_us, and until_us SECS (the deadline SECS
# from now, in microseconds; SECS may have a fraction).
now_us() { echo "${EPOCHREALTIME/./}"; }
until_us() { echo $(($(now_us) + $(awk -v s="$1" 'BEGIN { printf "%d", s * 1000000 }'))); }

need() { # need CMD...: exit 77 (ctest SKIP) when a tool is missing
	for c in "$@"; do
		if ! command -v "$c" >/dev/null 2>&1; then
			log "SKIP: $SCRIPT needs $c"
			exit 77
		fi
	done
}

cleanup() {
	local n
	for n in "${!PID[@]}"; do
		[ -z "${RC[$n]:-}" ] && kill -TERM "${PID[$n]}" 2>/dev/null
	done
	for n in "${!PID[@]}"; do [ -z "${RC[$n]:-}" ] && wait "${PID[$n]}" 2>/dev/null; done
	for n in "${!FEED[@]}"; do eval "exec ${FEED[$n]}>&-"; done
	if [ "${INTEROP_KEEP:-0}" = 1 ]; then
		log "logs kept in $T"
	else
		rm -rf "$T"
	fi
}
trap cleanup EXIT
trap 'log "$SCRIPT: interrupted"; exit 130' INT TERM

# free_port [v4|v6|any]: a UDP port free on 0.0.0.0 and :: (gnutls-serv binds both).
free_port() {
	"$PYTHON" - <<-'EOF'
	import socket
	for _ in range(100):
	    s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
	    s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
	    s.bind(("::", 0))
	    p = s.getsockname()[1]
	    s.close()
	    if p > 10000:
	        print(p)
	        break
	EOF
}

# wait_udp_port PORT [SECS]: until something is bound to UDP PORT.
wait_udp_port() {
	local port=$1 end
	end=$(until_us "${2:-5}")
	while [ "$(now_us)" -lt "$end" ]; do
		ss -Hunl "sport = :$port" 2>/dev/null | grep -q . && return 0
		sleep 0.05
	done
	return 1
}

# ---- test cases -------------------------------------------------------------

case_begin() {
	CASE=$1
	CASE_OK=1
	CASE_N=$((CASE_N + 1))
	CD=$T/$(printf '%03d' "$CASE_N")
	mkdir -p "$CD"
	CASE_PROCS=()
	CASE_T0=$(date +%s.%N)
	log "--- $CASE"
}

case_end() {
	local n f dt
	for n in "${CASE_PROCS[@]}"; do stop "$n"; done
	for n in "${!FEED[@]}"; do feed_close "$n"; done
	dt=$(awk -v a="$CASE_T0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')
	if [ "$CASE_OK" = 1 ]; then
		PASSED=$((PASSED + 1))
		log "PASS: $CASE (${dt}s)"
	else
		FAILED=$((FAILED + 1))
		FAILED_CASES+=("$CASE")
		for f in "$CD"/*.out "$CD"/*.err; do
			[ -s "$f" ] || continue
			log "    ---- ${f#"$T"/} (last 25 lines)"
			tail -n 25 "$f" | cut -c1-300 | sed 's/^/    | /'
		done
		log "FAIL: $CASE (${dt}s)"
	fi
	CASE=""
}

ok() { log "  ok   $*"; }
bad() {
	log "  FAIL $*"
	CASE_OK=0
}
check() { # check DESC CMD...: ok when CMD succeeds
	local d=$1
	shift
	if "$@"; then ok "$d"; else bad "$d"; fi
}

logs_of() { printf '%s\n' "$CD/$1.out" "$CD/$1.err"; }
has_log() { grep -Eq -- "$2" "$CD/$1.out" "$CD/$1.err" 2>/dev/null; }
expect_log() { # expect_log NAME REGEX [DESC]
	if has_log "$1" "$2"; then ok "${3:-$1: /$2/}"; else bad "${3:-$1: /$2/} (not found)"; fi
}
expect_no_log() {
	if has_log "$1" "$2"; then bad "${3:-$1: no /$2/} (found: $(grep -Eh -m1 -- "$2" "$CD/$1.out" "$CD/$1.err" | head -1))"; else ok "${3:-$1: no /$2/}"; fi
}
expect_line() { # expect_line NAME LINE: LINE is a whole line of NAME's stdout
	if grep -Fxq -- "$2" "$CD/$1.out" 2>/dev/null; then ok "$1 received '$2'"; else bad "$1 did not receive '$2'"; fi
}
expect_rc() { # expect_rc NAME RC
	local r=${RC[$1]:-running}
	if [ "$r" = "$2" ]; then ok "$1 exit $r"; else bad "$1 exit $r, expected $2"; fi
}
expect_rc_nonzero() {
	local r=${RC[$1]:-running}
	case $r in
	0 | running) bad "$1 exit $r, expected a failure" ;;
	124 | 137 | 143) bad "$1 exit $r: killed by the timeout, expected its own failure" ;;
	*) ok "$1 failed (exit $r)" ;;
	esac
}
# expect_one_line_reason NAME: stderr has exactly one "dtlscat: ..." line; print it.
expect_one_line_reason() {
	local n
	n=$(grep -c '^dtlscat: ' "$CD/$1.err" 2>/dev/null)
	if [ "${n:-0}" = 1 ]; then
		ok "$1 reason: $(grep '^dtlscat: ' "$CD/$1.err")"
	else
		bad "$1: expected one 'dtlscat: reason' line on stderr, found ${n:-0}"
	fi
}

# ---- processes ----------------------------------------------------------------

# spawn NAME SECS [--stdin FEED] [--fsize KB] [--] CMD...
spawn() {
	local name=$1 secs=$2 in=/dev/null fsize=""
	shift 2
	while [ $# -gt 0 ]; do
		case $1 in
		--stdin) in=$CD/$2.fifo; shift 2 ;;
		--fsize) fsize=$2; shift 2 ;;
		--) shift; break ;;
		*) break ;;
		esac
	done
	(
		for f in "${FEED[@]}"; do eval "exec $f>&-"; done
		[ -n "$fsize" ] && ulimit -f "$fsize"
		exec timeout -k 2 "$secs" "$@" <"$in" >"$CD/$name.out" 2>"$CD/$name.err"
	) &
	PID[$name]=$!
	unset "RC[$name]"
	CASE_PROCS+=("$name")
	echo "$*" >"$CD/$name.cmd"
}

alive() { [ -z "${RC[$1]:-}" ] && kill -0 "${PID[$1]}" 2>/dev/null; }

# wait_for NAME REGEX [SECS]: until REGEX is in NAME's stdout/stderr. Stops early when NAME
# has exited without printing it.
wait_for() {
	local name=$1 re=$2 end
	end=$(until_us "${3:-5}")
	while [ "$(now_us)" -lt "$end" ]; do
		has_log "$name" "$re" && return 0
		if ! alive "$name"; then
			has_log "$name" "$re"
			return
		fi
		sleep 0.05
	done
	return 1
}

# wait_count NAME REGEX N [SECS]: until REGEX matches N lines of NAME's stdout/stderr.
wait_count() {
	local name=$1 re=$2 want=$3 end n
	end=$(until_us "${4:-5}")
	while [ "$(now_us)" -lt "$end" ]; do
		n=$(cat "$CD/$name.out" "$CD/$name.err" 2>/dev/null | grep -Ec -- "$re")
		[ "${n:-0}" -ge "$want" ] && return 0
		alive "$name" || return 1
		sleep 0.05
	done
	return 1
}

# wait_exit NAME [SECS]: until NAME exits (killed after SECS); its status goes to RC[NAME].
wait_exit() {
	local name=$1 secs=${2:-5} end
	[ -n "${RC[$name]:-}" ] && return 0
	end=$(until_us "$secs")
	while [ "$(now_us)" -lt "$end" ]; do
		alive "$name" || break
		sleep 0.05
	done
	if alive "$name"; then
		log "  (${name} still running after ${secs}s: terminated)"
		kill -TERM "${PID[$name]}" 2>/dev/null
	fi
	wait "${PID[$name]}" 2>/dev/null
	RC[$name]=$?
}

stop() { # stop NAME: SIGTERM by PID unless it has already exited
	local name=$1
	[ -n "${RC[$name]:-}" ] && return 0
	alive "$name" && kill -TERM "${PID[$name]}" 2>/dev/null
	wait "${PID[$name]}" 2>/dev/null
	RC[$name]=$?
}

# ---- stdin feeds (FIFOs held open read-write so that open never blocks) -----

feed_open() {
	local fifo=$CD/$1.fifo fd
	mkfifo "$fifo"
	exec {fd}<>"$fifo"
	FEED[$1]=$fd
}
feed() { # feed NAME LINE...
	local n=$1
	shift
	[ -n "${FEED[$n]:-}" ] && printf '%s\n' "$@" >&"${FEED[$n]}"
}
feed_close() { # EOF for the reader (the reader holds no write end)
	local fd=${FEED[$1]:-}
	[ -n "$fd" ] && eval "exec $fd>&-"
	unset "FEED[$1]"
}

# ---- the relay --------------------------------------------------------------------

# relay_start NAME TARGET_HOST TARGET_PORT [relay.py options]: sets RELAY_PORT.
relay_start() {
	local name=$1 host=$2 port=$3 lhost
	shift 3
	case $host in *:*) lhost="[$host]" ; host="[$host]" ;; *) lhost=$host ;; esac
	spawn "$name" 40 "$PYTHON" "$RELAY" --listen "$lhost:0" --target "$host:$port" --lifetime 30 --timestamps "$@"
	RELAY_PORT=""
	if wait_for "$name" '^READY' 5; then
		RELAY_PORT=$(sed -n 's/^READY .*:\([0-9]*\) -> .*/\1/p' "$CD/$name.out")
	else
		bad "relay did not start"
	fi
}
# expect_max DIR LIMIT: the relay "rel" (run with --max-datagram) saw datagrams in DIR,
# none above LIMIT.
expect_max() {
	local m
	stop rel
	m=$(sed -n "s/^MAX $1 \([0-9]*\)\$/\1/p" "$CD/rel.out")
	if [ -n "$m" ] && [ "$m" -gt 0 ] && [ "$m" -le "$2" ]; then
		ok "relay: largest $1 datagram $m <= $2"
	else
		bad "relay: largest $1 datagram ${m:-?}, limit $2"
		grep "^OVERSIZE $1" "$CD/rel.out" | head -3 | sed 's/^/    /'
	fi
}
# expect_fragmented DIR HSTYPE NAME: the relay saw a fragment (offset > 0) of that message.
expect_fragmented() {
	expect_log rel "^FWD $1 .*hs=$2/[A-Za-z]*,mseq=[0-9]*,mlen=[0-9]*,foff=[1-9]" \
		"relay: $3 fragmented ($1, fragment offset > 0)"
}

# relay_mtu LIMIT: relay options for the MTU checks above.
relay_mtu() { RELAY_X=(--max-datagram --verbose --limit "$1"); }

# ---- peers -----------------------------------------------------------------------

# host_port HOST PORT -> 127.0.0.1:PORT or [::1]:PORT
host_port() { case $1 in *:*) echo "[$1]:$2" ;; *) echo "$1:$2" ;; esac; }

# ossl_server NAME SECS HOST PORT ARGS...: s_server on a feed named NAME.in (open it first).
ossl_server() {
	local name=$1 secs=$2 host=$3 port=$4
	shift 4
	feed_open "$name.in"
	spawn "$name" "$secs" --stdin "$name.in" openssl s_server -dtls1_2 -accept "$(host_port "$host" "$port")" \
		-naccept 1 "$@"
}

# gnutls_server NAME SECS PORT ARGS...: gnutls-serv, line-buffered, output capped.
gnutls_server() {
	local name=$1 secs=$2 port=$3
	shift 3
	spawn "$name" "$secs" --fsize 20000 stdbuf -oL gnutls-serv --udp -p "$port" "$@"
}

# The PSK password file of gnutls-serv.
psk_file() {
	[ -f "$T/psk.txt" ] || printf '%s:%s\n' "$PSK_ID" "$PSK" >"$T/psk.txt"
	echo "$T/psk.txt"
}

# ---- scenarios: one DTLS session, a line each way, a clean close ----------------
#
# The caller wraps them in case_begin/case_end and may add checks after them. Extra
# arguments come in arrays, reset by scn_reset: SRV_X (peer server), CLI_X (peer client),
# DC_X (dtlscat), RELAY_X (non-empty: put relay.py between the two; its log is "rel").
# DC_CLI_AUTH/DC_SRV_AUTH hold dtlscat's credentials as client/server (default: the PSK),
# OSSL_{SRV,CLI}_AUTH and GNUTLS_{SRV,CLI}_AUTH the peers'; scn_x509 sets them for certificates.
# C2S/S2C are the lines sent; EXPECT_FAIL=1 turns off the success checks (negatives).

DC_TIMEOUT=8000
scn_reset() {
	SRV_X=() CLI_X=() DC_X=() RELAY_X=()
	DC_CLI_AUTH=(--psk-identity "$PSK_ID" --psk "$PSK")
	DC_SRV_AUTH=("${DC_CLI_AUTH[@]}")
	OSSL_SRV_AUTH=(-nocert -psk "$PSK" -psk_identity "$PSK_ID")
	OSSL_CLI_AUTH=(-psk "$PSK" -psk_identity "$PSK_ID")
	GNUTLS_SRV_AUTH=(--pskpasswd "$(psk_file)")
	GNUTLS_CLI_AUTH=(--pskusername "$PSK_ID" --pskkey "$PSK")
	EXPECT_FAIL=0
	WAIT_HS=10
	OSSL_CIPHERS="" # the peer's -cipher list when not just the suite
	S2C_NUDGE=0     # scn_ossl_client: send a second server line (see there)
	DC_HANDSHAKES=1 # dtlscat server: send its line after this many "negotiated:" lines
}
scn_lines() {
	C2S="c2s-$CASE_N-hello from the client"
	S2C="s2c-$CASE_N-hello from the server"
}
# scn_target HOST PORT: sets TPORT, through the relay when RELAY_X is set.
scn_target() {
	TPORT=$2
	if [ ${#RELAY_X[@]} -gt 0 ]; then
		relay_start rel "$1" "$2" "${RELAY_X[@]}"
		TPORT=$RELAY_PORT
	fi
}
# ew HS SECS: how long to wait for a process to exit: SECS, or 1 when the handshake
# (HS=0) failed in a case expected to pass (fail fast; the checks show what went wrong).
ew() { if [ "$1" = 1 ] || [ "$EXPECT_FAIL" = 1 ]; then echo "$2"; else echo 1; fi; }
dc_checks() { # dc_checks SUITE
	expect_log dc "^negotiated: DTLSv1\.2 ${IANA[$1]}\$" "dtlscat -v: negotiated: DTLSv1.2 ${IANA[$1]}"
}

# scn_ossl_server SUITE HOST: dtlscat client -> openssl s_server
scn_ossl_server() {
	local suite=$1 host=$2 port hs=0
	scn_lines
	port=$(free_port)
	ossl_server srv 25 "$host" "$port" "${OSSL_SRV_AUTH[@]}" -cipher "${OSSL_CIPHERS:-$suite}" "${SRV_X[@]}"
	wait_for srv '^ACCEPT' 5 || bad "s_server did not start"
	scn_target "$host" "$port"
	feed_open dc.in
	feed dc.in "$C2S"
	spawn dc 25 --stdin dc.in "$DTLSCAT" client "$host" "$TPORT" "${DC_CLI_AUTH[@]}" -v --timeout "$DC_TIMEOUT" \
		"${DC_X[@]}"
	if wait_for srv '^CIPHER is' "$WAIT_HS"; then
		hs=1
		feed srv.in "$S2C"
		wait_for dc "^$S2C\$" 5
		wait_for srv "^$C2S\$" 3
		feed_close dc.in
	fi
	wait_exit dc "$(ew $hs $((DC_TIMEOUT / 1000 + 3)))"
	[ "$EXPECT_FAIL" = 1 ] && return 0
	[ $hs = 1 ] && wait_for srv 'CONNECTION CLOSED' 3
	wait_exit srv "$(ew $hs 3)"
	expect_log srv "^CIPHER is $suite\$" "s_server: CIPHER is $suite"
	dc_checks "$suite"
	expect_line dc "$S2C"
	expect_log srv "^$C2S\$" "s_server received '$C2S'"
	expect_rc dc 0
	expect_log dc '^closed$' "dtlscat: clean close (close_notify answered)"
	expect_log srv '^CONNECTION CLOSED' "s_server: CONNECTION CLOSED"
	expect_rc srv 0
}

# dc_server HOST PORT: starts dtlscat server (stdin feed dc.in), waits for its socket.
dc_server() {
	feed_open dc.in
	spawn dc 25 --stdin dc.in "$DTLSCAT" server --bind "$1" "$2" "${DC_SRV_AUTH[@]}" -v --count 1 \
		--timeout "$DC_TIMEOUT" "${DC_X[@]}"
	wait_udp_port "$2" 5 || bad "dtlscat server did not bind port $2"
}

# scn_ossl_client SUITE HOST: openssl s_client -> dtlscat server
scn_ossl_client() {
	local suite=$1 host=$2 port hs=0
	scn_lines
	port=$(free_port)
	dc_server "$host" "$port"
	scn_target "$host" "$port"
	feed_open cli.in
	feed cli.in "$C2S"
	spawn cli 25 --stdin cli.in openssl s_client -dtls1_2 -connect "$(host_port "$host" "$TPORT")" \
		"${OSSL_CLI_AUTH[@]}" -cipher "${OSSL_CIPHERS:-$suite}" "${CLI_X[@]}"
	if wait_for dc '^negotiated:' "$WAIT_HS"; then
		hs=1
		feed dc.in "$S2C"
		if [ "$S2C_NUDGE" = 1 ]; then
			# When the server's CCS+Finished datagram was lost, s_client buffers the
			# epoch-1 record that came first and hands it out only when another
			# datagram arrives (it does not process buffered records while the
			# retransmitted CCS+Finished datagram is being read): send a second line.
			sleep 1.5
			feed dc.in "$S2C (2)"
			wait_for cli "^$S2C \(2\)\$" 5
		fi
		wait_for cli "^$S2C\$" 5
		wait_for dc "^$C2S\$" 3
	fi
	feed_close cli.in
	wait_exit cli "$(ew $hs 5)"
	wait_exit dc "$(ew $hs $((DC_TIMEOUT / 1000 + 3)))"
	[ "$EXPECT_FAIL" = 1 ] && return 0
	expect_log cli '^    Protocol  : DTLSv1\.2$' "s_client: Protocol DTLSv1.2"
	expect_log cli "Cipher is $suite\$" "s_client: Cipher is $suite"
	dc_checks "$suite"
	expect_line cli "$S2C"
	expect_line dc "$C2S"
	expect_rc cli 0
	expect_rc dc 0
	expect_log dc '^closed$' "dtlscat server: session closed by close_notify"
}

# scn_gnutls_server SUITE HOST: dtlscat client -> gnutls-serv --echo
scn_gnutls_server() {
	local suite=$1 host=$2 port hs=0
	scn_lines
	port=$(free_port)
	gnutls_server srv 30 "$port" --echo "${GNUTLS_SRV_AUTH[@]}" --priority "$(gnutls_prio "$suite")" "${SRV_X[@]}"
	wait_for srv 'listening on IPv6' 5 || bad "gnutls-serv did not start"
	scn_target "$host" "$port"
	feed_open dc.in
	feed dc.in "$C2S"
	# gnutls-serv never answers close_notify, and dtlscat waits 3 RTOs for the answer:
	# a short RTO keeps that wait short.
	spawn dc 25 --stdin dc.in "$DTLSCAT" client "$host" "$TPORT" "${DC_CLI_AUTH[@]}" -v --timeout "$DC_TIMEOUT" \
		--rto 300 "${DC_X[@]}"
	if wait_for dc '^negotiated:' "$WAIT_HS"; then
		hs=1
		wait_for dc "^$C2S\$" 5
		feed_close dc.in
	fi
	wait_exit dc "$(ew $hs $((DC_TIMEOUT / 1000 + 3)))"
	[ "$EXPECT_FAIL" = 1 ] && return 0
	[ $hs = 1 ] && wait_for srv '^EOF' 2
	stop srv
	dc_checks "$suite"
	expect_log srv "^received\[[0-9a-f]+\]: $C2S\$" "gnutls-serv received '$C2S'"
	expect_line dc "$C2S" # the echo
	expect_rc dc 0
	expect_log srv '^EOF' "gnutls-serv: EOF (close_notify received)"
}

# scn_gnutls_client SUITE HOST: gnutls-cli -> dtlscat server
scn_gnutls_client() {
	local suite=$1 host=$2 port hs=0
	scn_lines
	port=$(free_port)
	dc_server "$host" "$port"
	scn_target "$host" "$port"
	feed_open cli.in
	feed cli.in "$C2S"
	spawn cli 25 --stdin cli.in stdbuf -oL gnutls-cli --udp -p "$TPORT" "$host" "${GNUTLS_CLI_AUTH[@]}" \
		--priority "$(gnutls_prio "$suite")" "${CLI_X[@]}"
	if wait_count dc '^negotiated:' "$DC_HANDSHAKES" "$WAIT_HS"; then
		hs=1
		feed dc.in "$S2C"
		wait_for cli "^$S2C\$" 5
		wait_for dc "^$C2S\$" 3
	fi
	feed_close cli.in
	wait_exit dc "$(ew $hs $((DC_TIMEOUT / 1000 + 3)))"
	wait_exit cli "$(ew $hs 5)"
	[ "$EXPECT_FAIL" = 1 ] && return 0
	expect_log cli '^- Handshake was completed' "gnutls-cli: Handshake was completed"
	dc_checks "$suite"
	expect_line cli "$S2C"
	expect_line dc "$C2S"
	expect_rc dc 0
	expect_log dc '^closed$' "dtlscat server: session closed by close_notify"
	expect_rc cli 0
}

# pki_setup: the test PKI in $PKI (tests/pki/mkpki.sh; see it for the file names).
pki_setup() {
	PKI=$T/pki
	if ! sh "$SRCDIR/tests/pki/mkpki.sh" "$PKI"; then
		log "$SCRIPT: tests/pki/mkpki.sh failed"
		exit 2
	fi
}

# scn_x509 KEY: certificate credentials; the server uses server-KEY (ec, rsa, ec384) with
# the intermediate, the client trusts ca.pem and checks the name gw.test.
scn_x509() {
	local k=$1
	DC_SRV_AUTH=(--cert "$PKI/server-$k-chain.pem" --key "$PKI/server-$k.key")
	DC_CLI_AUTH=(--ca "$PKI/ca.pem" --servername gw.test)
	OSSL_SRV_AUTH=(-cert "$PKI/server-$k.pem" -key "$PKI/server-$k.key" -cert_chain "$PKI/int.pem")
	OSSL_CLI_AUTH=(-CAfile "$PKI/ca.pem" -verify_return_error -verify_hostname gw.test -servername gw.test)
	GNUTLS_SRV_AUTH=(--x509certfile "$PKI/server-$k-chain.pem" --x509keyfile "$PKI/server-$k.key"
		--disable-client-cert)
	GNUTLS_CLI_AUTH=(--x509cafile "$PKI/ca.pem" --verify-hostname gw.test)
}

# The server key of each certificate suite (server-KEY.pem in the PKI).
declare -A SUITE_KEY=(
	[AES128-SHA]=rsa
	[ECDHE-RSA-AES128-GCM-SHA256]=rsa
	[ECDHE-ECDSA-AES128-GCM-SHA256]=ec
	[ECDHE-ECDSA-AES256-GCM-SHA384]=ec384
	[ECDHE-ECDSA-CHACHA20-POLY1305]=ec
	[ECDHE-ECDSA-AES128-CCM8]=ec
)
CERT_SUITES=(AES128-SHA ECDHE-ECDSA-AES128-GCM-SHA256 ECDHE-ECDSA-AES256-GCM-SHA384 ECDHE-RSA-AES128-GCM-SHA256
	ECDHE-ECDSA-CHACHA20-POLY1305 ECDHE-ECDSA-AES128-CCM8)

# spki_pin FILE: SHA-256 of the SubjectPublicKeyInfo of a PEM certificate, in hex.
spki_pin() {
	openssl x509 -in "$1" -pubkey -noout | openssl pkey -pubin -outform DER | openssl dgst -sha256 -hex |
		sed 's/.*= //'
}

# expect_reason NAME REGEX DESC: dtlscat failed with one reason line matching REGEX.
expect_reason() {
	expect_rc_nonzero "$1"
	expect_one_line_reason "$1"
	if grep '^dtlscat: ' "$CD/$1.err" 2>/dev/null | grep -Eq -- "$2"; then
		ok "$1 reason names $3"
	else
		bad "$1 reason does not name $3 (/$2/)"
	fi
}

finish() {
	local dt=$(($(date +%s) - T0)) c
	log ""
	if [ "$FAILED" -gt 0 ]; then
		log "$SCRIPT: failed cases:"
		for c in "${FAILED_CASES[@]}"; do log "  - $c"; done
	fi
	log "$SCRIPT: $PASSED passed, $FAILED failed (${dt}s)"
	[ "$FAILED" -eq 0 ]
	exit
}
