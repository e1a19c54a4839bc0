#!/usr/bin/env bash
# Started as root, dtlsgwd opens its TUN queues and sockets and then runs as an
# unprivileged user that keeps only CAP_NET_ADMIN: /proc/PID/status shows the user's
# uids and gids and no capability but cap_net_admin (bit 12) in the effective,
# permitted and bounding sets, with no_new_privs; the tunnel still works, a reload
# (which needs CAP_NET_ADMIN for routes) still works, and SIGTERM still removes the
# routes. The test creates its own system user and deletes it.
# A user that does not exist is refused at start (exit 1, the message names the user
# and --user root), before any device or socket exists; --user root stays root, on
# purpose, and says so.
. "$(dirname "$0")/lib.sh" "$@"

user="dtlsgwt$$"
if ! useradd --system --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin "$user"; then
	echo "SKIP: cannot create a system user"
	exit 77
fi
trap_user() { userdel "$user" 2>/dev/null || true; }
NET_CLEANUP+=(trap_user)

pair_setup || { fail setup; finish; }

# refused DESC USER-ARGS...: dtlsgwd started as root in a's namespace with a user that
# does not exist exits 1 at once, says why and how to stay root, and leaves nothing.
refused() {
	local d=$1 st=0
	shift
	timeout 10 ip netns exec "$(ns a)" "$DTLSGWD" -c "$NET_WORK/a.conf" --foreground "$@" \
		>"$NET_WORK/refused.out" 2>&1 || st=$?
	sed 's/^/  | /' "$NET_WORK/refused.out"
	check "$d: exit 1" test "$st" -eq 1
	check "$d: names the user" grep -q "user $want does not exist" "$NET_WORK/refused.out"
	check "$d: says how to stay root on purpose" grep -q -- "--user root" "$NET_WORK/refused.out"
	check "$d: no TUN device was made" bash -c "! ip -n $(ns a) link show dtlsgw0 >/dev/null 2>&1"
	check "$d: no control socket" test ! -e "$NET_WORK/a.sock"
}
want="nosuch$$"
refused "--user $want" --user "$want"
if getent passwd dtlsgw >/dev/null; then
	echo "  (user dtlsgw exists here: the default user is not tried)"
else
	want=dtlsgw
	refused "no --user, and no user dtlsgw"
fi
# The daemon reads its configuration again on reload, as that user; a's key is in a
# file of its own, owned by that user and readable by nobody else.
key=$(sed -n 's/^psk = //p' "$NET_WORK/a.conf" | head -1)
printf '%s\n' "$key" >"$NET_WORK/a.psk"
chmod 600 "$NET_WORK/a.psk"
sed -i "s|^psk = .*|psk_file = $NET_WORK/a.psk|" "$NET_WORK/a.conf"
chown "$user" "$NET_WORK/a.conf" "$NET_WORK/b.conf" "$NET_WORK/a.psk"
chmod 711 "$NET_WORK"
GW_USER=$user
gw_start b "$NET_WORK/b.conf"
gw_start a "$NET_WORK/a.conf"
check "handshake done" wait_log a "peer b: handshake done" 10
check "the drop is logged" log_has a "running as $user"

uid=$(id -u "$user")
status() { cat "/proc/${GW_PID[a]}/status"; }
field() { status | awk -v f="$1:" '$1 == f { print $2 }'; }
all_uids=$(status | awk '$1 == "Uid:" { print $2, $3, $4, $5 }')
check "real, effective, saved and fs uid are $user's ($uid)" test "$all_uids" = "$uid $uid $uid $uid"
gid=$(id -g "$user")
all_gids=$(status | awk '$1 == "Gid:" { print $2, $3, $4, $5 }')
check "and the gids ($gid)" test "$all_gids" = "$gid $gid $gid $gid"
echo "  CapEff $(field CapEff) CapPrm $(field CapPrm) CapBnd $(field CapBnd) CapAmb $(field CapAmb) NoNewPrivs $(field NoNewPrivs)"
check "effective: cap_net_admin only" test "$(field CapEff)" = 0000000000001000
check "permitted: cap_net_admin only" test "$(field CapPrm)" = 0000000000001000
check "bounding: cap_net_admin only" test "$(field CapBnd)" = 0000000000001000
check "ambient: none" test "$(field CapAmb)" = 0000000000000000
check "no_new_privs" test "$(field NoNewPrivs)" = 1
# Every thread, not only the main one.
threads_ok=1
for t in /proc/"${GW_PID[a]}"/task/*; do
	grep -q "^CapEff:[[:space:]]*0000000000001000" "$t/status" || threads_ok=0
	awk '$1 == "Uid:" { exit !($3 != 0) }' "$t/status" || threads_ok=0
done
check "every thread ($(ls /proc/"${GW_PID[a]}"/task | wc -l)) runs unprivileged" test "$threads_ok" = 1

check "ping a -> b" wait_for 5 ping_ok a 10.10.2.1 2
check "ping b -> a over IPv6" ping_ok b fd00:10:1::1 2

# A reload that adds a prefix needs CAP_NET_ADMIN for the route.
sed -i 's|^allowed_ips = 10.10.2.0/24, fd00:10:2::/64|allowed_ips = 10.10.2.0/24, 10.10.22.0/24, fd00:10:2::/64|' "$NET_WORK/a.conf"
kill -HUP "${GW_PID[a]}"
check "reload as $user adds the new route" wait_for 5 bash -c "ip -n $(ns a) route show 10.10.22.0/24 | grep -q dtlsgw0"
check "and keeps the tunnel" ping_ok a 10.10.2.1 2

gw_stop a
check "a exits 0" test $? -eq 0
check "its routes are gone" bash -c "! ip -n $(ns a) route show 10.10.2.0/24 | grep -q ."

# --user root: root on purpose, every capability, and the log says so. The key file
# goes back to root: a root daemon accepts no other owner.
chown root "$NET_WORK/a.psk"
GW_USER=root
n=$(log_count a "peer b: handshake done")
gw_start a "$NET_WORK/a.conf"
check "--user root: handshake done" wait_for 10 log_more a "peer b: handshake done" "$n"
check "--user root: the log says root on purpose" log_has a "running as root with every capability \(--user root\)"
check "--user root: uid 0" test "$(status | awk '$1 == "Uid:" { print $3 }')" = 0
check "--user root: no drop was tried" bash -c "! grep -q 'dropping privileges' '${GW_LOG[a]}'"
gw_stop a
gw_stop b
finish
