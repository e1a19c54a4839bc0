#!/usr/bin/env bash
# SIGHUP reloads the configuration: an unchanged peer keeps its session (no new
# handshake), a new peer is dialled, a changed peer is reconnected and its routes
# follow, a removed peer is told with close_notify and its routes go, and an invalid
# file changes nothing.
. "$(dirname "$0")/lib.sh" "$@"

pair_setup || { fail setup; finish; }
ns_add c
link a vc 198.51.100.1/24 c va 198.51.100.2/24
kc=$(psk_new)
gw_conf "$NET_WORK/c.conf" "[::]:4433" "10.10.3.1/24" "keepalive = 1"
peer_conf "$NET_WORK/c.conf" a psk_identity=a-c "psk=$kc" "allowed_ips=10.10.1.0/24"
cp "$NET_WORK/a.conf" "$NET_WORK/a-b.conf"

# reload_a FILE: make FILE a's configuration and send SIGHUP; wait for the verdict.
reload_a() {
	local n
	n=$(log_count a "reloaded|running configuration stays")
	cp "$1" "$NET_WORK/a.conf"
	kill -HUP "${GW_PID[a]}"
	wait_for 5 log_more a "reloaded|running configuration stays" "$n"
}
hs() { log_count "$1" "peer $2: handshake done"; }
has_route() { ip -n "$(ns a)" route show "$1" | grep -q dtlsgw0; }

gw_start b "$NET_WORK/b.conf"
gw_start c "$NET_WORK/c.conf"
gw_start a "$NET_WORK/a.conf"
check "a-b up" wait_log a "peer b: handshake done" 10
check "ping a -> b" ping_ok a 10.10.2.1 2

echo "== add peer c"
cp "$NET_WORK/a-b.conf" "$NET_WORK/a-bc.conf"
peer_conf "$NET_WORK/a-bc.conf" c psk_identity=a-c "psk=$kc" "allowed_ips=10.10.3.0/24" \
	endpoint=198.51.100.2:4433
reload_a "$NET_WORK/a-bc.conf"
check "reload reported: 1 added, 1 unchanged" \
	log_has a "reloaded .*: 2 peers \(1 added, 0 changed, 0 removed, 1 unchanged\)"
check "c dialled and up" wait_log a "peer c: handshake done" 10
check "route to c's prefix" has_route 10.10.3.0/24
check "ping a -> c" ping_ok a 10.10.3.1 2
check "ping a -> b" ping_ok a 10.10.2.1 2
check "b kept its session: still one handshake on each side" test "$(hs a b)" -eq 1 -a "$(hs b a)" -eq 1

echo "== change peer b (one more allowed prefix), remove peer c"
sed 's|^allowed_ips = 10.10.2.0/24, fd00:10:2::/64$|allowed_ips = 10.10.2.0/24, fd00:10:2::/64, 10.10.22.0/24|' \
	"$NET_WORK/a-b.conf" >"$NET_WORK/a-b2.conf"
reload_a "$NET_WORK/a-b2.conf"
check "reload reported: 1 changed, 1 removed" \
	log_has a "reloaded .*: 1 peer \(0 added, 1 changed, 1 removed, 0 unchanged\)"
check "c disconnected" log_has a "peer c: removed; disconnecting"
check "c heard the close_notify" wait_log c "peer a: closed by the peer" 3
check "c's route is gone" bash -c "! ip -n $(ns a) route show 10.10.3.0/24 | grep -q ."
check "b reconnected" wait_for 10 log_more a "peer b: handshake done" 1
check "b's new route" has_route 10.10.22.0/24
check "b's old routes stay" has_route 10.10.2.0/24
check "ping a -> b" wait_for 5 ping_ok a 10.10.2.1 1
check "ping a -> c fails now" bash -c "! ip netns exec $(ns a) ping -c 1 -W 1 10.10.3.1 >/dev/null 2>&1"

echo "== an invalid file"
printf '[gateway]\ntun_address = 10.10.1.1/24\nmtu = 1\n' >"$NET_WORK/bad.conf"
chmod 600 "$NET_WORK/bad.conf"
reload_a "$NET_WORK/bad.conf"
check "refused, and says so" log_has a "reload: .* is not valid; the running configuration stays"
check "with the reason" log_has a "mtu: must be between"
check "the tunnel still works" ping_ok a 10.10.2.1 2
check "no new handshake" test "$(hs a b)" -eq 2
grep -h "reload\|removed\|changed\|added" "${GW_LOG[a]}" | sed 's/^/  a: /'

gw_stop a
check "a exits 0" test $? -eq 0
check "routes gone" bash -c "! ip -n $(ns a) route show 10.10.22.0/24 | grep -q ."
gw_stop b
gw_stop c
finish
