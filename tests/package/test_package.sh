#!/usr/bin/env bash
# tests/package/test_package.sh: the Debian package end to end, on this machine.
#
#   1. builds the .deb (scripts/package: dpkg-buildpackage in a temporary copy,
#      lintian; an E: tag fails) - or takes it from $DTLSGW_DEB_DIR;
#   2. looks at the .deb: Depends, conffiles, contents;
#   3. installs it with apt-get install ./dtlsgw_*.deb and checks the dtlsgw
#      user and group, /etc/dtlsgw and the configuration's owners and modes
#      (statoverrides), the unit (systemd-analyze verify and security);
#   4. dtlsgwctl --help, dtlsgwd --version, dtlsgwd --check on the installed
#      example (refused until its key exists; then accepted, as root and as
#      dtlsgw; a key readable by others refused);
#   5. two gateways in network namespaces run the installed dtlsgwd with the
#      unit's privileges (user dtlsgw, ambient CAP_NET_ADMIN CAP_NET_BIND_SERVICE,
#      that bounding set, no_new_privs; emulated with setpriv, as this machine has
#      no systemd): /proc/PID/status, ping through the tunnel, SIGHUP reload,
#      SIGTERM removes the TUN device;
#   6. once dtlsgwd calls priv_drop() (and in 5. the unit's extra capabilities go
#      after start-up): a gateway started as root drops to dtlsgw
#      with CAP_NET_ADMIN alone, and the tunnel still works;
#   7. purges the package and checks that the user, group, /etc/dtlsgw,
#      statoverrides, binaries and unit are gone.
#
# Needs root (exit 77 otherwise) and the packages of scripts/setup. Refuses to
# touch a machine where dtlsgw is installed or its user, group or /etc/dtlsgw
# already exist (exit 77). Everything it makes goes in the EXIT trap.
set -u

SRC=$(cd "$(dirname "$0")/../.." && pwd)
PFX="dtp$$"
PASSED=0
FAILED=0
PIDS=()
NSS=()
INSTALLED=0

if [ "$(id -u)" -ne 0 ]; then
	echo "SKIP: needs root (installs a package)"
	exit 77
fi
for tool in dpkg-buildpackage dh lintian apt-get setpriv ip ping systemd-analyze; do
	if ! command -v "$tool" >/dev/null; then
		echo "SKIP: $tool missing (run scripts/setup)"
		exit 77
	fi
done
if dpkg-query -W -f='${Status}' dtlsgw 2>/dev/null | grep -q 'ok installed'; then
	echo "SKIP: dtlsgw is installed on this machine; not touching it"
	exit 77
fi
if [ -e /etc/dtlsgw ] || getent passwd dtlsgw >/dev/null || getent group dtlsgw >/dev/null; then
	echo "SKIP: /etc/dtlsgw or the user/group dtlsgw exists without the package;" \
		"remove them first (deluser --system dtlsgw; delgroup --system dtlsgw; rm -r /etc/dtlsgw)"
	exit 77
fi

WORK=$(mktemp -d /tmp/dtlsgw-pkgtest.XXXXXX)
chmod 0755 "$WORK" # apt's _apt user reads the .deb; dtlsgw reaches its socket dir

cleanup() {
	local pid ns
	for pid in "${PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null; done
	for pid in "${PIDS[@]}"; do
		for _ in $(seq 30); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
		kill -KILL "$pid" 2>/dev/null
	done
	wait 2>/dev/null
	for ns in "${NSS[@]}"; do ip netns del "$ns" 2>/dev/null; done
	if [ $INSTALLED = 1 ]; then
		DEBIAN_FRONTEND=noninteractive apt-get purge -y -q -o DPkg::Lock::Timeout=300 \
			dtlsgw >/dev/null 2>&1
	fi
	rm -rf "$WORK" "/run/dtlsgw-pkgtest.$$"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

ok() { echo "ok: $*"; PASSED=$((PASSED + 1)); }
fail() { echo "FAIL: $*"; FAILED=$((FAILED + 1)); }
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
# is WHAT GOT WANT: equality check with both values in the message on failure.
is() {
	if [ "$2" = "$3" ]; then ok "$1: $2"; else fail "$1: got '$2', want '$3'"; fi
}
wait_for() {
	local t=$1
	shift
	for _ in $(seq $((t * 10))); do
		"$@" >/dev/null 2>&1 && return 0
		sleep 0.1
	done
	return 1
}

# ---- 1. build ----

if [ -n "${DTLSGW_DEB_DIR:-}" ]; then
	DEBDIR=$WORK/deb
	mkdir -p "$DEBDIR"
	cp "$DTLSGW_DEB_DIR"/dtlsgw_*.deb "$DEBDIR"/ || { fail "no .deb in $DTLSGW_DEB_DIR"; finish; }
	echo "using $(ls "$DEBDIR"/dtlsgw_*.deb)"
else
	DEBDIR=$WORK/deb
	if "$SRC/scripts/package" --out "$DEBDIR"; then
		ok "scripts/package: built, lintian without errors"
	else
		fail "scripts/package (see above)"
		[ -f "$DEBDIR/build.log" ] && cp "$DEBDIR/build.log" "/tmp/dtlsgw-package-failed.log" &&
			echo "  build log kept in /tmp/dtlsgw-package-failed.log"
		finish
	fi
	if grep -q '^W: ' "$DEBDIR/lintian.txt"; then
		echo "  lintian warnings:"
		grep '^W: ' "$DEBDIR/lintian.txt" | sed 's/^/    /'
	fi
fi
chmod 0644 "$DEBDIR"/*.deb
DEB=$(ls "$DEBDIR"/dtlsgw_*.deb | head -1)
VERSION=$(dpkg-deb -f "$DEB" Version)

# ---- 2. the .deb ----

depends=$(dpkg-deb -f "$DEB" Depends)
check "Depends has adduser and the shared libraries" \
	bash -c "grep -q 'adduser' <<<'$depends' && grep -q 'libgnutls30' <<<'$depends' &&
		grep -q 'libnl-route-3-200' <<<'$depends' && grep -q 'libsodium23' <<<'$depends'"
is "conffiles" "$(dpkg-deb --ctrl-tarfile "$DEB" | tar -xO ./conffiles 2>/dev/null)" \
	"/etc/dtlsgw/dtlsgw.conf"
contents=$(dpkg-deb -c "$DEB" | awk '{print $6}' | sed 's#^\./#/#')
missing=""
for f in /usr/sbin/dtlsgwd /usr/sbin/dtlsgwctl /usr/bin/dtlscat /etc/dtlsgw/dtlsgw.conf \
	/lib/systemd/system/dtlsgw@.service /usr/share/man/man8/dtlsgwd.8.gz \
	/usr/share/man/man8/dtlsgwctl.8.gz /usr/share/man/man1/dtlscat.1.gz \
	/usr/share/man/man5/dtlsgw.conf.5.gz /usr/share/doc/dtlsgw/copyright \
	/usr/share/doc/dtlsgw/README.Debian.gz; do
	grep -qx "$f" <<<"$contents" || missing="$missing $f"
done
is "files in the .deb (missing:)" "${missing:- none}" " none"
check "no static library or headers in the .deb (no -dev content)" \
	bash -c "! grep -Eq '\.a$|/include/' <<<'$contents'"

# ---- 3. install ----

if (cd "$DEBDIR" && DEBIAN_FRONTEND=noninteractive apt-get install -y -q \
	-o DPkg::Lock::Timeout=300 "./$(basename "$DEB")") >"$WORK/install.log" 2>&1; then
	INSTALLED=1
	ok "apt-get install ./$(basename "$DEB")"
else
	INSTALLED=1 # whatever got in goes in the trap
	fail "apt-get install"
	tail -20 "$WORK/install.log"
	finish
fi

IFS=: read -r _ _ uid gid _ home shell < <(getent passwd dtlsgw)
check "user dtlsgw exists, a system user (uid $uid < 1000)" test -n "$uid" -a "${uid:-9999}" -lt 1000
is "dtlsgw's home" "$home" "/nonexistent"
check "no home directory made" test ! -e /nonexistent
is "dtlsgw's shell" "$shell" "/usr/sbin/nologin"
is "dtlsgw's primary group" "$(getent group "$gid" | cut -d: -f1)" "dtlsgw"
is "/etc/dtlsgw" "$(stat -c '%U:%G %a' /etc/dtlsgw)" "root:dtlsgw 750"
is "/etc/dtlsgw/dtlsgw.conf" "$(stat -c '%U:%G %a' /etc/dtlsgw/dtlsgw.conf)" "root:dtlsgw 640"
is "statoverrides" "$(dpkg-statoverride --list '/etc/dtlsgw*' | sort | tr '\n' ';')" \
	"root dtlsgw 640 /etc/dtlsgw/dtlsgw.conf;root dtlsgw 750 /etc/dtlsgw;"
check "the example config is the conffile, unmodified" \
	cmp -s /etc/dtlsgw/dtlsgw.conf /usr/share/doc/dtlsgw/examples/dtlsgw.conf.example
# (other tests may run their own dtlsgwd builds: only the installed binary counts)
running_installed() {
	local p
	for p in $(pgrep -x dtlsgwd); do
		[ "$(readlink "/proc/$p/exe")" = /usr/sbin/dtlsgwd ] && return 0
	done
	return 1
}
nothing_enabled() {
	! ls /etc/systemd/system/*.wants/dtlsgw@* >/dev/null 2>&1 && ! running_installed
}
check "nothing enabled or running" nothing_enabled
cp /lib/systemd/system/dtlsgw@.service "$WORK/dtlsgw@pkgtest.service"
if out=$(cd "$WORK" && systemd-analyze verify --man=no "$WORK/dtlsgw@pkgtest.service" 2>&1); then
	ok "systemd-analyze verify dtlsgw@pkgtest.service"
else
	fail "systemd-analyze verify: $out"
fi
score=$(cd "$WORK" && systemd-analyze security --offline=yes dtlsgw@pkgtest.service 2>/dev/null |
	sed -n 's/.*Overall exposure level for [^:]*: \([0-9.]*\).*/\1/p')
check "systemd-analyze security exposure ${score:-?} (at most 2.5)" \
	awk -v s="${score:-99}" 'BEGIN { exit !(s <= 2.5) }'
for m in man8/dtlsgwd.8.gz man8/dtlsgwctl.8.gz man1/dtlscat.1.gz man5/dtlsgw.conf.5.gz; do
	[ -f "/usr/share/man/$m" ] || fail "man page $m missing"
done

# ---- 4. the commands ----

check "dtlsgwctl --help" bash -c "/usr/sbin/dtlsgwctl --help | grep -q '^usage: dtlsgwctl'"
is "dtlsgwd --version" "$(/usr/sbin/dtlsgwd --version)" "dtlsgwd ${VERSION%%-*}"
check "dtlscat answers with its usage" bash -c "/usr/bin/dtlscat --help 2>&1 | grep -q '^usage: dtlscat'"

CONF=/etc/dtlsgw/dtlsgw.conf
out=$(/usr/sbin/dtlsgwd --check -c $CONF 2>&1)
st=$?
echo "$out" | sed 's/^/  --check (as installed): /'
check "--check refuses the example until its key exists (one error: site-b.psk)" \
	test $st -eq 1 -a "$(grep -c 'site-b.psk cannot open' <<<"$out")" -eq 1 \
	-a -n "$(grep -F '1 error' <<<"$out")"
(umask 077; od -An -tx1 -N32 /dev/urandom | tr -d ' \n' >/etc/dtlsgw/site-b.psk)
out=$(/usr/sbin/dtlsgwd --check -c $CONF 2>&1)
st=$?
echo "$out" | sed 's/^/  --check (root key): /'
check "--check accepts the example once the key exists (root, key root:root 600)" test $st -eq 0
chmod 0640 /etc/dtlsgw/site-b.psk
out=$(/usr/sbin/dtlsgwd --check -c $CONF 2>&1)
st=$?
echo "$out" | sed 's/^/  --check (key 640): /'
check "--check refuses a key readable by others" \
	test $st -eq 1 -a -n "$(grep -F 'readable by others' <<<"$out")"
chmod 0600 /etc/dtlsgw/site-b.psk
chown dtlsgw:dtlsgw /etc/dtlsgw/site-b.psk
AS_DTLSGW=(setpriv --reuid dtlsgw --regid dtlsgw --init-groups)
out=$("${AS_DTLSGW[@]}" /usr/sbin/dtlsgwd --check -c $CONF 2>&1)
st=$?
echo "$out" | sed 's/^/  --check (as dtlsgw): /'
check "--check as user dtlsgw reads the 0640 configuration and its dtlsgw:dtlsgw 600 key" \
	test $st -eq 0
rm -f /etc/dtlsgw/site-b.psk

# ---- 5. two gateways with the unit's privileges ----

# The unit: User=dtlsgw, AmbientCapabilities= and CapabilityBoundingSet=CAP_NET_ADMIN
# CAP_NET_BIND_SERVICE, NoNewPrivileges=yes; RuntimeDirectory=dtlsgw owned by dtlsgw.
AS_UNIT=(setpriv --reuid dtlsgw --regid dtlsgw --init-groups
	--inh-caps=-all,+net_admin,+net_bind_service
	--ambient-caps=-all,+net_admin,+net_bind_service
	--bounding-set=-all,+net_admin,+net_bind_service --no-new-privs)
# RuntimeDirectory=dtlsgw: a directory of dtlsgw's for the control sockets (not
# /run/dtlsgw itself, which belongs to the machine's own gateways)
RUN=/run/dtlsgw-pkgtest.$$
# udev makes /dev/net/tun 0666 (50-udev-default.rules, static_node=tun), so a user
# with CAP_NET_ADMIN can open it. Where there is no udev (containers, this CI
# machine) the kernel's node is 0600; the gateways get a 0666 node of their own,
# bind-mounted over /dev/net/tun in their private mount namespace only.
# PrivateTmp=yes: a /tmp of their own.
TUN_0666=""
PRIVATE_TMP="mount -t tmpfs -o mode=1777 dtlsgw-tmp /tmp || exit 1;"
if [ "$(stat -c %a /dev/net/tun)" != 666 ]; then
	echo "  /dev/net/tun is $(stat -c %a /dev/net/tun) (no udev here): the gateways as dtlsgw get a 0666 node"
	mkdir -p "$WORK/dev"
	TUN_0666="mount -t tmpfs -o mode=0755 dtlsgw-dev $WORK/dev && mknod -m 0666 $WORK/dev/tun c 10 200 &&
		mount --bind $WORK/dev/tun /dev/net/tun || exit 1;"
fi
install -d -o dtlsgw -g dtlsgw -m 0755 "$RUN"
# Whether the packaged dtlsgwd calls priv_drop(): its messages are in the binary.
WIRED=0
grep -aq 'not started as root: staying uid' /usr/sbin/dtlsgwd && WIRED=1

ns() { echo "$PFX-$1"; }
nsx() {
	local n=$1
	shift
	ip netns exec "$(ns "$n")" "$@"
}
for n in a b; do
	ip netns add "$(ns $n)" && NSS+=("$(ns $n)") && ip -n "$(ns $n)" link set lo up
done
ip link add va netns "$(ns a)" type veth peer name vb netns "$(ns b)"
ip -n "$(ns a)" addr add 192.0.2.1/24 dev va
ip -n "$(ns b)" addr add 192.0.2.2/24 dev vb
ip -n "$(ns a)" link set va up
ip -n "$(ns b)" link set vb up

(umask 077; od -An -tx1 -N32 /dev/urandom | tr -d ' \n' >/etc/dtlsgw/pkgtest.psk)
chown dtlsgw:dtlsgw /etc/dtlsgw/pkgtest.psk
# gw_conf NAME TUN_ADDR PEER PEER_PREFIX [ENDPOINT]
gw_conf() {
	local f=/etc/dtlsgw/pkgtest-$1.conf
	{
		printf '[gateway]\nlisten = [::]:443\ntun_name = pkgt0\ntun_address = %s\n' "$2"
		printf 'keepalive = 1\nlog_level = info\ncontrol_socket = %s/pkgtest-%s.sock\n\n' "$RUN" "$1"
		printf '[peer %s]\npsk_identity = pkgtest\npsk_file = /etc/dtlsgw/pkgtest.psk\n' "$3"
		printf 'allowed_ips = %s\n' "$4"
		[ -n "${5:-}" ] && printf 'endpoint = %s\n' "$5"
	} >"$f"
	chown root:dtlsgw "$f"
	chmod 0640 "$f"
}
# listen on 443: a port below 1024 needs the unit's CAP_NET_BIND_SERVICE
gw_conf a 10.77.1.1/24 b 10.77.2.0/24 192.0.2.2:443
gw_conf b 10.77.2.1/24 a 10.77.1.0/24

declare -A PID=()
# start NAME MODE(unit|root): the gateway in namespace NAME, log in $WORK/NAME.log
start() {
	local n=$1 how=$2
	echo "--- start $how $(date +%T.%N)" >>"$WORK/$n.log"
	if [ "$how" = unit ]; then
		# ip netns exec runs this in a mount namespace of its own (a slave of
		# the host's): the 0666 TUN node and the private /tmp stay there.
		ip netns exec "$(ns "$n")" bash -c "$TUN_0666$PRIVATE_TMP"' exec "$@"' unit \
			"${AS_UNIT[@]}" /usr/sbin/dtlsgwd --foreground \
			-c "/etc/dtlsgw/pkgtest-$n.conf" 2>>"$WORK/$n.log" &
	else
		ip netns exec "$(ns "$n")" /usr/sbin/dtlsgwd --foreground \
			-c "/etc/dtlsgw/pkgtest-$n.conf" 2>>"$WORK/$n.log" &
	fi
	PID[$n]=$!
	PIDS+=("$!")
}
stop() {
	local pid=${PID[$1]} st=0
	kill -TERM "$pid" 2>/dev/null
	for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
	kill -KILL "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null || st=$?
	return $st
}
log_has() { grep -Eq -- "$2" "$WORK/$1.log"; }
log_count() { grep -cE -- "$2" "$WORK/$1.log"; }
log_more() { test "$(log_count "$1" "$2")" -gt "$3"; }
status_of() { grep -E "^$2:" "/proc/${PID[$1]}/status" | cut -f2- | tr '\t' ' '; }
show_status() {
	grep -E '^(Uid|Gid|Groups|CapInh|CapPrm|CapEff|CapBnd|CapAmb|NoNewPrivs):' \
		"/proc/${PID[$1]}/status" | sed "s/^/  $1 ($2): /"
}
tunnel_works() {
	local what=$1
	if out=$(nsx a ping -c 3 -i 0.2 -W 2 10.77.2.1 2>&1); then
		ok "ping a -> b through the tunnel ($what): $(tail -1 <<<"$out")"
	else
		fail "ping a -> b ($what)"
		tail -3 <<<"$out"
		sed 's/^/  a: /' "$WORK/a.log" | tail -8
		sed 's/^/  b: /' "$WORK/b.log" | tail -8
	fi
}
hex() { printf '%016x' "$1"; }
NET_ADMIN=$(hex $((1 << 12)))
NET_BOTH=$(hex $(((1 << 12) | (1 << 10))))
RELOADED='reloaded .*: [0-9]+ peers? \('
DUID=$(id -u dtlsgw)
DGID=$(id -g dtlsgw)

start b unit
start a unit
if wait_for 15 log_has a "peer b: handshake done"; then
	ok "gateways as user dtlsgw: handshake done"
else
	fail "no handshake between the gateways run as dtlsgw"
	sed 's/^/  a: /' "$WORK/a.log" | tail -10
	sed 's/^/  b: /' "$WORK/b.log" | tail -10
fi
tunnel_works "unit privileges"
# the control socket, made by dtlsgw in its runtime directory
sock=$RUN/pkgtest-b.sock
if [ -S "$sock" ]; then
	is "b's control socket" "$(stat -c '%U:%G %a' "$sock")" "dtlsgw:dtlsgw 660"
	check "dtlsgwctl status through it (root)" /usr/sbin/dtlsgwctl -s "$sock" -t 5 status
	check "dtlsgwctl status through it (user dtlsgw)" \
		"${AS_DTLSGW[@]}" /usr/sbin/dtlsgwctl -s "$sock" -t 5 status
	check "dtlsgwctl refused to nobody" bash -c "! setpriv --reuid nobody --regid nogroup \
		--clear-groups /usr/sbin/dtlsgwctl -s '$sock' -t 5 status >/dev/null 2>&1"
else
	echo "skip: no control socket at $sock (dtlsgwd does not serve one yet)"
fi
for n in a b; do
	show_status $n unit
	is "$n: Uid (unit)" "$(status_of $n Uid)" "$DUID $DUID $DUID $DUID"
	is "$n: Gid (unit)" "$(status_of $n Gid)" "$DGID $DGID $DGID $DGID"
	is "$n: CapBnd (unit)" "$(status_of $n CapBnd)" "$NET_BOTH"
	is "$n: NoNewPrivs (unit)" "$(status_of $n NoNewPrivs)" "1"
	if [ $WIRED = 1 ]; then
		# priv_drop(): ambient, inheritable and CAP_NET_BIND_SERVICE gone after bind
		is "$n: CapEff (unit, after priv_drop)" "$(status_of $n CapEff)" "$NET_ADMIN"
		is "$n: CapPrm (unit, after priv_drop)" "$(status_of $n CapPrm)" "$NET_ADMIN"
		is "$n: CapAmb (unit, after priv_drop)" "$(status_of $n CapAmb)" "0000000000000000"
		is "$n: CapInh (unit, after priv_drop)" "$(status_of $n CapInh)" "0000000000000000"
	else
		is "$n: CapEff (unit; dtlsgwd does not call priv_drop yet)" \
			"$(status_of $n CapEff)" "$NET_BOTH"
	fi
done
# reload as dtlsgw: the configuration (root:dtlsgw 640) and key (dtlsgw 600) are read again
before=$(log_count a "$RELOADED")
kill -HUP "${PID[a]}"
if wait_for 5 log_more a "$RELOADED" "$before"; then
	ok "SIGHUP reload as dtlsgw: $(grep -E 'reloaded ' "$WORK/a.log" | tail -1 | sed 's/.*reloaded/reloaded/')"
else
	fail "SIGHUP reload as dtlsgw"
	tail -5 "$WORK/a.log" | sed 's/^/  a: /'
fi
tunnel_works "after reload"
stop a
check "a (dtlsgw) exits 0 on SIGTERM" test $? -eq 0
check "a removed its TUN device and routes (CAP_NET_ADMIN as dtlsgw)" \
	bash -c "! ip -n $(ns a) link show pkgt0 >/dev/null 2>&1"

# ---- 6. started as root: the daemon's own drop ----

if [ $WIRED = 1 ]; then
	start a root
	if wait_for 15 log_more a "peer b: handshake done" 1; then
		ok "gateway started as root: handshake done"
	else
		fail "gateway started as root: no handshake"
		tail -10 "$WORK/a.log" | sed 's/^/  a: /'
	fi
	show_status a root
	is "a: Uid (root start, dropped)" "$(status_of a Uid)" "$DUID $DUID $DUID $DUID"
	is "a: Gid (root start, dropped)" "$(status_of a Gid)" "$DGID $DGID $DGID $DGID"
	is "a: CapEff (root start, dropped)" "$(status_of a CapEff)" "$NET_ADMIN"
	is "a: CapPrm (root start, dropped)" "$(status_of a CapPrm)" "$NET_ADMIN"
	is "a: CapBnd (root start, dropped)" "$(status_of a CapBnd)" "$NET_ADMIN"
	is "a: CapAmb (root start, dropped)" "$(status_of a CapAmb)" "0000000000000000"
	is "a: NoNewPrivs (root start, dropped)" "$(status_of a NoNewPrivs)" "1"
	tunnel_works "root start, dropped to dtlsgw"
	before=$(log_count a "$RELOADED")
	kill -HUP "${PID[a]}"
	if wait_for 5 log_more a "$RELOADED" "$before"; then
		ok "SIGHUP reload after the drop"
	else
		fail "SIGHUP reload after the drop"
		tail -5 "$WORK/a.log" | sed 's/^/  a: /'
	fi
	stop a
	check "a (dropped) exits 0 on SIGTERM" test $? -eq 0
	check "a (dropped) removed its TUN device" \
		bash -c "! ip -n $(ns a) link show pkgt0 >/dev/null 2>&1"
else
	echo "skip: root start with the daemon's own drop (dtlsgwd does not call priv_drop yet)"
fi
stop b

# ---- 7. purge ----

if DEBIAN_FRONTEND=noninteractive apt-get purge -y -q -o DPkg::Lock::Timeout=300 dtlsgw \
	>"$WORK/purge.log" 2>&1; then
	INSTALLED=0
	ok "apt-get purge dtlsgw"
else
	fail "apt-get purge"
	tail -20 "$WORK/purge.log"
fi
check "package gone" bash -c "! dpkg-query -W -f='\${Status}' dtlsgw 2>/dev/null | grep -q installed"
check "user dtlsgw gone" bash -c "! getent passwd dtlsgw >/dev/null"
check "group dtlsgw gone" bash -c "! getent group dtlsgw >/dev/null"
check "/etc/dtlsgw gone (configurations and keys too)" test ! -e /etc/dtlsgw
check "statoverrides gone" bash -c "! dpkg-statoverride --list '/etc/dtlsgw*' | grep -q ."
check "binaries, unit and man pages gone" bash -c "! ls /usr/sbin/dtlsgwd /usr/sbin/dtlsgwctl \
	/usr/bin/dtlscat /lib/systemd/system/dtlsgw@.service /usr/share/man/man8/dtlsgwd.8.gz 2>/dev/null | grep -q ."
finish
