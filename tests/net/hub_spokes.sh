#!/usr/bin/env bash
# Three gateways: a hub with two spokes that dial it. Packets go to the peer whose
# prefixes hold their destination (spoke to hub, and spoke to spoke through the
# hub), and a spoke that sends with a source address outside its own prefixes
# (someone else's, or made up) is dropped by the hub and counted.
. "$(dirname "$0")/lib.sh" "$@"

ns_add h s1 s2 || { fail setup; finish; }
link h h1 192.0.2.1/24 s1 v1 192.0.2.2/24
link h h2 198.51.100.1/24,fd00:198::1/64 s2 v2 198.51.100.2/24,fd00:198::2/64
nsx h sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1 \
	net.ipv4.conf.all.send_redirects=0 net.ipv4.conf.default.send_redirects=0
k1=$(psk_new)
k2=$(psk_new)
gw_conf "$NET_WORK/h.conf" "[::]:4433" "10.20.0.1/24, fd00:20::1/64" "keepalive = 2"
peer_conf "$NET_WORK/h.conf" s1 psk_identity=spoke1 "psk=$k1" "allowed_ips=10.20.1.0/24, fd00:20:1::/64"
peer_conf "$NET_WORK/h.conf" s2 psk_identity=spoke2 "psk=$k2" "allowed_ips=10.20.2.0/24, fd00:20:2::/64"
gw_conf "$NET_WORK/s1.conf" "[::]:4433" "10.20.1.1/24, fd00:20:1::1/64" "keepalive = 2"
peer_conf "$NET_WORK/s1.conf" hub psk_identity=spoke1 "psk=$k1" endpoint=192.0.2.1:4433 \
	"allowed_ips=10.20.0.0/24, 10.20.2.0/24, fd00:20::/64, fd00:20:2::/64"
# s2 reaches the hub over IPv6.
gw_conf "$NET_WORK/s2.conf" "[::]:4433" "10.20.2.1/24, fd00:20:2::1/64" "keepalive = 2"
peer_conf "$NET_WORK/s2.conf" hub psk_identity=spoke2 "psk=$k2" "endpoint=[fd00:198::1]:4433" \
	"allowed_ips=10.20.0.0/24, 10.20.1.0/24, fd00:20::/64, fd00:20:1::/64"

gw_start h "$NET_WORK/h.conf"
gw_start s1 "$NET_WORK/s1.conf"
gw_start s2 "$NET_WORK/s2.conf"
check "hub: s1 up over IPv4" wait_log h "peer s1: handshake done .* from 192.0.2.2:4433" 10
check "hub: s2 up over IPv6" wait_log h "peer s2: handshake done .* from \[fd00:198::2\]:4433" 10
wait_log s1 "handshake done" 5
wait_log s2 "handshake done" 5

for t in "s1 10.20.0.1" "s2 10.20.0.1" "s1 fd00:20::1" "s2 fd00:20::1" "h 10.20.1.1" "h 10.20.2.1" \
	"s1 10.20.2.1" "s2 10.20.1.1" "s1 fd00:20:2::1" "s2 fd00:20:1::1"; do
	set -- $t
	check "ping $1 -> $2" ping_ok "$1" "$2" 3
done

# Routing by prefix: 20 pings from the hub to each spoke go to that spoke's session.
stats h
tx1=$(counter h s1 tx)
tx2=$(counter h s2 tx)
nsx h ping -q -c 20 -i 0.05 -W 1 10.20.1.1 >/dev/null
stats h
d1=$(($(counter h s1 tx) - tx1))
d2=$(($(counter h s2 tx) - tx2))
check "20 pings to 10.20.1.1 went to s1 ($d1 packets to s1, $d2 to s2)" test "$d1" -ge 20 -a "$d2" -lt 20
tx1=$(counter h s1 tx)
tx2=$(counter h s2 tx)
nsx h ping -q -c 20 -i 0.05 -W 1 fd00:20:2::1 >/dev/null
stats h
d1=$(($(counter h s1 tx) - tx1))
d2=$(($(counter h s2 tx) - tx2))
check "20 pings to fd00:20:2::1 went to s2 ($d2 packets to s2, $d1 to s1)" test "$d2" -ge 20 -a "$d1" -lt 20

# Spoofing: s1 sends from an address of s2's, and from one nobody has.
check "no policy drops yet" test "$(counter h s1 policy)" = 0
nsx s1 ip addr add 10.20.2.77/32 dev lo
nsx s1 ip addr add 10.99.99.1/32 dev lo
nsx s1 ip addr add fd00:99::1/128 dev lo nodad
check "ping from s2's address 10.20.2.77 is dropped" \
	bash -c "! ip netns exec $(ns s1) ping -c 3 -i 0.2 -W 1 -I 10.20.2.77 10.20.0.1 >/dev/null 2>&1"
check "ping from a made-up 10.99.99.1 is dropped" \
	bash -c "! ip netns exec $(ns s1) ping -c 3 -i 0.2 -W 1 -I 10.99.99.1 10.20.0.1 >/dev/null 2>&1"
check "ping from a made-up fd00:99::1 is dropped" \
	bash -c "! ip netns exec $(ns s1) ping -c 3 -i 0.2 -W 1 -I fd00:99::1 fd00:20::1 >/dev/null 2>&1"
check "the hub logs the policy drop" \
	wait_log h "peer s1: policy drop: source 10.20.2.77 outside allowed prefixes" 3
grep "policy drop" "${GW_LOG[h]}" | sed 's/^/  /'
stats h
drops=$(counter h s1 policy)
check "the hub counted 9 policy drops from s1 (counted $drops)" test "$drops" -eq 9
check "none from s2" test "$(counter h s2 policy)" = 0
check "the real address still works" ping_ok s1 10.20.0.1 2

gw_stop s1
gw_stop s2
gw_stop h
check "hub exits 0" test $? -eq 0
finish
