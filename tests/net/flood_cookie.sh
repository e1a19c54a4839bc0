#!/usr/bin/env bash
# Cookie flood: while a real peer connects, a third namespace sends tens of thousands of
# ClientHellos from spoofed addresses and ports (hello_flood.py: raw IPv4, source
# addresses drawn from 198.18.0.0/15, which the gateway routes back to the flooder,
# whose packet socket sees the answers). Checked:
#   - every answer is a HelloVerifyRequest no larger than the ClientHello it answers,
#     sent to that hello's address and port (no amplification, no state: anything
#     other than a HelloVerifyRequest would mean a handshake went on);
#   - no session is allocated for a spoofed sender: the gateway's session count (sampled
#     through dtlsgwctl all through the flood) never exceeds the real peer's one, and
#     the debug log shows sessions created only for the real peer's address;
#   - the gateway's resident memory stays flat (VmRSS before and after, printed, growth
#     under FLOOD_RSS_KB);
#   - the real peer's tunnel comes up during the flood and carries pings; the time its
#     handshake took under the flood is printed.
# Knobs: FLOOD_COUNT (60000 datagrams), FLOOD_SECONDS (6), FLOOD_RSS_KB (2048).
. "$(dirname "$0")/lib.sh" "$@"

COUNT=${FLOOD_COUNT:-60000}
SECS=${FLOOD_SECONDS:-6}
RSS_KB=${FLOOD_RSS_KB:-2048}
HERE=$(cd "$(dirname "$0")" && pwd)
need_ctl

# rss_kb PID FIELD: VmRSS or VmHWM of a process, in kB.
rss_kb() { awk -v f="$2:" '$1 == f { print $2 }' "/proc/$1/status"; }
# sessions NAME: the gateway's session count (dtlsgwctl --json status).
sessions() {
	"$CTL_BIN" -s "$NET_WORK/$1.sock" -t 5 --json status 2>/dev/null |
		python3 -c 'import json,sys; print(json.load(sys.stdin)["sessions"])'
}
# val KEY: a line "KEY value" of the flooder's report.
val() { awk -v k="$1" '$1 == k { print $2 }' "$NET_WORK/flood.out"; }
# log_ms NAME REGEX [N]: the time of the first (or Nth) line of gateway NAME's log matching REGEX,
# in ms since midnight (the log's HH:MM:SS.mmm).
log_ms() {
	grep -E -- "$2" "${GW_LOG[$1]}" | sed -n "${3:-1}p" |
		awk '{ split($1, t, /[:.]/); print ((t[1] * 60 + t[2]) * 60 + t[3]) * 1000 + t[4] }'
}
gw_line() { grep 'notice: stats:' "${GW_LOG[$1]}" | tail -1; }
# gw_stat NAME WORDS: the number before WORDS in the last gateway stats line.
gw_stat() { gw_line "$1" | sed -E "s/.* ([0-9]+) $2.*/\1/"; }

PAIR_GW_EXTRA="workers = 2" pair_setup || { fail setup; finish; }
sed -i 's/^log_level = info/log_level = debug/' "$NET_WORK/b.conf"
ns_add f || { fail setup; finish; }
link b bfl 198.51.100.1/24 f fl0 198.51.100.2/24 || { fail setup; finish; }
nsx b ip route add 198.18.0.0/15 via 198.51.100.2

gw_start b "$NET_WORK/b.conf"
check "b started" wait_log b "started" 10
BPID=${GW_PID[b]}
sleep 0.5
rss0=$(rss_kb "$BPID" VmRSS)
echo "  b's VmRSS before the flood: ${rss0} kB"

nsx_bg f python3 "$HERE/hello_flood.py" --iface fl0 --dst 198.51.100.1:4433 \
	--src-net 198.18.0.0/15 --count "$COUNT" --seconds "$SECS" --seed "$RANDOM" --linger 1.5 \
	>"$NET_WORK/flood.out" 2>"$NET_WORK/flood.err"
FLOOD_PID=$BG_PID
if ! wait_for 60 grep -q READY "$NET_WORK/flood.out"; then
	fail "the flooder did not start"
	cat "$NET_WORK/flood.err"
	finish
fi
sampler b "$NET_WORK/sampler.out"
sleep 1

# The real peer dials in the middle of the flood.
gw_start a "$NET_WORK/a.conf"
if wait_log a "peer b: handshake done" 20; then
	hs_ms=$(($(log_ms a "peer b: handshake done") - $(log_ms a "peer b: dialling")))
	up_ms=$(($(log_ms a "peer b: handshake done") - $(log_ms a "tun .*queue")))
	during=$(kill -0 "$FLOOD_PID" 2>/dev/null && echo "during" || echo "after")
	ok "the real peer's handshake completed $during the flood: ${hs_ms} ms from its first ClientHello (${up_ms} ms from a's start)"
else
	fail "the real peer's handshake did not complete within 20 s"
fi
check "ping a -> b through the tunnel under the flood" ping_ok a 10.10.2.1 3
still=$(kill -0 "$FLOOD_PID" 2>/dev/null && echo "still flooding" || echo "after the flood")
echo "  (ping done $still)"

# Let the flooder finish (bounded), then look at its report.
for _ in $(seq 600); do kill -0 "$FLOOD_PID" 2>/dev/null || break; sleep 0.1; done
wait "$FLOOD_PID" 2>/dev/null
echo "  flooder's report: $(grep -v READY "$NET_WORK/flood.out" | tr '\n' ' ')"
[ -s "$NET_WORK/flood.err" ] && sed 's/^/  flood stderr: /' "$NET_WORK/flood.err"
sent=$(val SENT)
hvr=$(val HVR)
answerable=$((sent - $(val KIND_short)))
check "the flooder sent $COUNT ClientHellos (sent ${sent:-0}, send errors $(val SEND_ERRORS))" \
	test "${sent:-0}" -eq "$COUNT" -a "$(val SEND_ERRORS)" -eq 0
echo "  from $(val ADDRS) addresses and $(val PORTS) ports, $(val BYTES) bytes in $(val SECONDS) s"
stats b
hv=$(gw_stat b "cookie exchanges")
unk=$(gw_stat b "datagrams from unknown")
check "b answered the parseable hellos: $hv HelloVerifyRequests for $answerable (and dropped $unk)" \
	test "${hv:-0}" -ge $((answerable * 95 / 100)) -a "${unk:-0}" -ge "$(val KIND_short)"
# (On a loaded machine some answers are lost between the namespaces, in the kernel's
# receive backlog, before the flooder's packet socket sees them.)
check "the flooder saw and checked most answers: $hvr of $hv (at least half)" \
	test "${hvr:-0}" -ge $((hv / 2))
check "no HelloVerifyRequest is larger than its ClientHello (largest $(val HVR_MAX) bytes, ratio $(val RATIO_MAX); larger: $(val LARGER))" \
	test "$(val LARGER)" -eq 0
check "every answer went to its hello's address and port (misaddressed: $(val MISADDRESSED), unmatched: $(val UNMATCHED))" \
	test "$(val MISADDRESSED)" -eq 0 -a "$(val UNMATCHED)" -eq 0
check "nothing but HelloVerifyRequests came back (other: $(val OTHER))" test "$(val OTHER)" -eq 0
check "unparseable hellos got no answer ($(val ANSWERED_SHORT))" test "$(val ANSWERED_SHORT)" -eq 0
check "made-up cookies were answered with a new cookie, not a handshake ($(val HVR_cookie) seen of $(val KIND_cookie))" \
	test "$(val HVR_cookie)" -gt 0

touch "$NET_WORK/stop-sampler"
wait "$SAMPLER_PID" 2>/dev/null
samples=$(awk '$1 == "SAMPLES" { print $2 }' "$NET_WORK/sampler.out")
max_sess=$(awk '$1 == "MAX" { print $2 }' "$NET_WORK/sampler.out")
check "sessions on b never exceeded 1 during the flood (max ${max_sess:-?} over ${samples:-0} samples)" \
	test "${samples:-0}" -gt 10 -a "${max_sess:-9}" -le 1
created=$(grep -c "session created" "${GW_LOG[b]}")
spoofed=$(grep "session created" "${GW_LOG[b]}" | grep -vc "from 192.0.2.1:")
check "sessions created only for the real peer ($created for 192.0.2.1, $spoofed for anyone else)" \
	test "$spoofed" -eq 0 -a "$created" -ge 1
check "b has exactly 1 session after the flood" test "$(sessions b)" = 1

echo "  b: $(gw_line b | cut -d' ' -f3-)"

rss1=$(rss_kb "$BPID" VmRSS)
hwm=$(rss_kb "$BPID" VmHWM)
echo "  b's VmRSS: ${rss0} kB before, ${rss1} kB after the flood ($((rss1 - rss0)) kB), peak ${hwm} kB"
check "b's resident memory stayed flat (grew $((rss1 - rss0)) kB, bound ${RSS_KB} kB)" \
	test $((rss1 - rss0)) -lt "$RSS_KB"
check "ping a -> b after the flood" ping_ok a 10.10.2.1 2
# The same handshake without a flood, for comparison: a disconnects and dials again.
"$CTL_BIN" -s "$NET_WORK/a.sock" -t 5 disconnect b >/dev/null
if wait_for 10 log_more a "peer b: handshake done" 1; then
	calm_ms=$(($(log_ms a "peer b: handshake done" 2) - $(log_ms a "peer b: dialling" 2)))
	echo "  the same handshake without the flood: ${calm_ms} ms"
fi
echo "  figures: $sent ClientHellos in $(val SECONDS) s from $(val ADDRS) addresses, $hvr answered (largest answer $(val HVR_MAX) bytes), VmRSS ${rss0} -> ${rss1} kB, legitimate handshake ${hs_ms:-?} ms under flood (${calm_ms:-?} ms without)"

gw_stop a
gw_stop b
check "b exits 0" test $? -eq 0
finish
