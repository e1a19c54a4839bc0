/*
 * daemon/privdrop: each case forks a child that calls priv_drop() and checks its
 * own /proc/self/status (Uid, Gid, Groups, CapInh/CapPrm/CapEff/CapBnd/CapAmb,
 * NoNewPrivs) and what it can still do: CAP_NET_ADMIN (a TUN device), no raw
 * sockets, no way back to root. The child reports a failure through a pipe.
 * Cases that start as root are skipped when the test does not run as root.
 *
 * The test uses "nobody" (uid 65534 on Debian), which exists everywhere.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <pthread.h>
#include <pwd.h>
#include <grp.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <netinet/in.h>
#include <unistd.h>

#include "daemon/privdrop.h"
#include "harness.h"

/* capset(2) of effective = permitted = inheritable = m, for the test's own setup */
static int set_caps(uint64_t m)
{
	struct __user_cap_header_struct h = { .version = _LINUX_CAPABILITY_VERSION_3, .pid = 0 };
	struct __user_cap_data_struct d[_LINUX_CAPABILITY_U32S_3];

	memset(d, 0, sizeof(d));
	d[0].effective = d[0].permitted = d[0].inheritable = (uint32_t)m;
	d[1].effective = d[1].permitted = d[1].inheritable = (uint32_t)(m >> 32);
	return (int)syscall(SYS_capset, &h, d);
}

#define NET_ADMIN_MASK (UINT64_C(1) << CAP_NET_ADMIN)
#define NET_BIND_MASK (UINT64_C(1) << CAP_NET_BIND_SERVICE)

static int report_fd = -1;

static void ignore(ssize_t r)
{
	(void)r;
}

/* In the child: record why it failed and return 1. */
__attribute__((format(printf, 1, 2))) static int child_fail(const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	int n = vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (n > 0 && report_fd >= 0)
		ignore(write(report_fd, msg, (size_t)n < sizeof(msg) ? (size_t)n : sizeof(msg) - 1));
	return 1;
}

/* Runs fn(arg) in a forked child; returns its verdict, printing the failure. */
static bool in_child(int (*fn)(void *), void *arg)
{
	int p[2];
	char msg[512] = "";
	int status = 0;

	if (pipe(p) < 0)
		return false;
	fflush(stdout);
	pid_t pid = fork();
	if (pid < 0)
		return false;
	if (pid == 0) {
		close(p[0]);
		report_fd = p[1];
		_exit(fn(arg));
	}
	close(p[1]);
	ssize_t n = read(p[0], msg, sizeof(msg) - 1);
	msg[n > 0 ? n : 0] = '\0';
	close(p[0]);
	if (waitpid(pid, &status, 0) != pid)
		return false;
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		printf("\n    child: %s (status %#x) ", msg[0] ? msg : "failed", status);
		return false;
	}
	return true;
}

/* ---- /proc/self/status ---- */

struct status {
	unsigned uid[4], gid[4];
	char groups[256];
	uint64_t inh, prm, eff, bnd, amb;
	int nnp;
};

static int read_status(struct status *st)
{
	FILE *f = fopen("/proc/self/status", "re");
	char line[512];
	int found = 0;

	if (!f)
		return -1;
	memset(st, 0, sizeof(*st));
	st->nnp = -1;
	while (fgets(line, sizeof(line), f)) {
		unsigned long long v;
		if (sscanf(line, "Uid: %u %u %u %u", &st->uid[0], &st->uid[1], &st->uid[2],
			   &st->uid[3]) == 4)
			found++;
		else if (sscanf(line, "Gid: %u %u %u %u", &st->gid[0], &st->gid[1], &st->gid[2],
				&st->gid[3]) == 4)
			found++;
		else if (!strncmp(line, "Groups:", 7)) {
			size_t n = strcspn(line + 7, "\n");
			if (n >= sizeof(st->groups))
				n = sizeof(st->groups) - 1; /* enough to see a 0 among the first */
			memcpy(st->groups, line + 7, n);
			st->groups[n] = '\0';
			found++;
		} else if (sscanf(line, "CapInh: %llx", &v) == 1)
			st->inh = v, found++;
		else if (sscanf(line, "CapPrm: %llx", &v) == 1)
			st->prm = v, found++;
		else if (sscanf(line, "CapEff: %llx", &v) == 1)
			st->eff = v, found++;
		else if (sscanf(line, "CapBnd: %llx", &v) == 1)
			st->bnd = v, found++;
		else if (sscanf(line, "CapAmb: %llx", &v) == 1)
			st->amb = v, found++;
		else if (sscanf(line, "NoNewPrivs: %d", &st->nnp) == 1)
			found++;
	}
	fclose(f);
	return found == 9 ? 0 : -1;
}

static int check_ids(const struct status *st, unsigned uid, unsigned gid)
{
	for (int i = 0; i < 4; i++) {
		if (st->uid[i] != uid)
			return child_fail("Uid[%d] is %u, want %u", i, st->uid[i], uid);
		if (st->gid[i] != gid)
			return child_fail("Gid[%d] is %u, want %u", i, st->gid[i], gid);
	}
	return 0;
}

static int check_caps(const struct status *st, uint64_t eff_prm, uint64_t bnd)
{
	if (st->eff != eff_prm || st->prm != eff_prm)
		return child_fail("CapEff %#llx CapPrm %#llx, want %#llx", (unsigned long long)st->eff,
				  (unsigned long long)st->prm, (unsigned long long)eff_prm);
	if (st->inh != 0 || st->amb != 0)
		return child_fail("CapInh %#llx CapAmb %#llx, want 0", (unsigned long long)st->inh,
				  (unsigned long long)st->amb);
	if (st->bnd != bnd)
		return child_fail("CapBnd %#llx, want %#llx", (unsigned long long)st->bnd,
				  (unsigned long long)bnd);
	if (st->nnp != 1)
		return child_fail("NoNewPrivs %d, want 1", st->nnp);
	return 0;
}

/* Whether the groups line names gid 0. */
static bool groups_have_root(const char *groups)
{
	const char *s = groups;

	while (*s) {
		char *end;
		unsigned long g = strtoul(s, &end, 10);
		if (end == s)
			break;
		if (g == 0)
			return true;
		s = end;
	}
	return false;
}

/* 1: a TUN device could be made (CAP_NET_ADMIN), 0: EPERM, -1: no /dev/net/tun. */
static int can_make_tun(void)
{
	struct ifreq ifr;
	int fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC);

	if (fd < 0)
		return -1;
	memset(&ifr, 0, sizeof(ifr));
	ifr.ifr_flags = IFF_TUN | IFF_NO_PI;
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "pdtest%%d");
	int rc = ioctl(fd, TUNSETIFF, &ifr);
	int e = errno;
	close(fd); /* not persistent: the device goes with the fd */
	if (rc == 0)
		return 1;
	return e == EPERM ? 0 : -1;
}

static int nobody(uid_t *uid, gid_t *gid)
{
	struct passwd *pw = getpwnam("nobody");

	if (!pw)
		return -1;
	*uid = pw->pw_uid;
	*gid = pw->pw_gid;
	return 0;
}

#define SKIP_UNLESS_ROOT()                                                                   \
	do {                                                                                 \
		uid_t u_;                                                                    \
		gid_t g_;                                                                    \
		if (geteuid() != 0 || nobody(&u_, &g_) < 0) {                                \
			printf("(skipped: needs root and user nobody) ");                   \
			CU_PASS("skipped");                                                  \
			return;                                                              \
		}                                                                            \
	} while (0)

/* ---- the cases (child bodies) ---- */

static int child_drop(void *arg)
{
	const bool keep = *(const bool *)arg;
	struct status st;
	char err[256];
	uid_t uid;
	gid_t gid;

	if (nobody(&uid, &gid) < 0)
		return child_fail("no user nobody");
	int rc = priv_drop("nobody", keep, err, sizeof(err));
	if (rc != PRIV_DROPPED)
		return child_fail("priv_drop: %d: %s", rc, err);
	if (!strstr(err, "running as nobody"))
		return child_fail("message: \"%s\"", err);
	if (read_status(&st) < 0)
		return child_fail("cannot read /proc/self/status");
	if (check_ids(&st, uid, gid) || check_caps(&st, keep ? NET_ADMIN_MASK : 0,
						   keep ? NET_ADMIN_MASK : 0))
		return 1;
	if (groups_have_root(st.groups))
		return child_fail("Groups: %s still has 0", st.groups);
	/* no way back */
	if (setuid(0) == 0 || setresuid(0, 0, 0) == 0 || setgid(0) == 0)
		return child_fail("became root again");
	if (setgroups(0, NULL) == 0)
		return child_fail("setgroups still allowed");
	/* no other privilege: a raw socket needs CAP_NET_RAW */
	int fd = socket(AF_INET, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_ICMP);
	if (fd >= 0)
		return child_fail("raw socket allowed");
	if (errno != EPERM && errno != EACCES)
		return child_fail("raw socket: %s", strerror(errno));
	/* a root-only file stays closed */
	if (access("/etc/shadow", F_OK) == 0 && open("/etc/shadow", O_RDONLY) >= 0)
		return child_fail("/etc/shadow readable");
	/* CAP_NET_ADMIN works (or is gone) */
	int tun = can_make_tun();
	if (tun >= 0 && tun != (keep ? 1 : 0))
		return child_fail("TUNSETIFF %s", tun ? "allowed" : "refused");
	/* a second call is harmless: the not-root way, nothing more to give up */
	rc = priv_drop("nobody", keep, err, sizeof(err));
	if (rc != PRIV_NOT_ROOT)
		return child_fail("second priv_drop: %d: %s", rc, err);
	if (read_status(&st) < 0 || check_caps(&st, keep ? NET_ADMIN_MASK : 0,
					       keep ? NET_ADMIN_MASK : 0))
		return 1;
	return 0;
}

static void test_root_keep_net_admin(void)
{
	bool keep = true;

	SKIP_UNLESS_ROOT();
	CU_ASSERT(in_child(child_drop, &keep));
}

static void test_root_keep_nothing(void)
{
	bool keep = false;

	SKIP_UNLESS_ROOT();
	CU_ASSERT(in_child(child_drop, &keep));
}

static int child_no_user(void *arg)
{
	struct status before, after;
	char err[256];

	(void)arg;
	if (read_status(&before) < 0)
		return child_fail("cannot read /proc/self/status");
	int rc = priv_drop("dtlsgw-no-such-user-x", true, err, sizeof(err));
	if (rc != -ENOENT)
		return child_fail("priv_drop: %d, want -ENOENT (a failure): %s", rc, err);
	if (!strstr(err, "user dtlsgw-no-such-user-x does not exist"))
		return child_fail("message: \"%s\"", err);
	if (read_status(&after) < 0)
		return child_fail("cannot read /proc/self/status");
	if (memcmp(before.uid, after.uid, sizeof(before.uid)) || before.eff != after.eff ||
	    before.bnd != after.bnd || before.nnp != after.nnp)
		return child_fail("something changed");
	return 0;
}

static void test_root_no_such_user(void)
{
	SKIP_UNLESS_ROOT();
	CU_ASSERT(in_child(child_no_user, NULL));
}

static int child_to_root(void *arg)
{
	char err[256];

	(void)arg;
	int rc = priv_drop("root", true, err, sizeof(err));
	if (rc != -EINVAL)
		return child_fail("priv_drop(root): %d: %s", rc, err);
	return geteuid() == 0 ? 0 : child_fail("uid changed");
}

static void test_root_to_root(void)
{
	SKIP_UNLESS_ROOT();
	CU_ASSERT(in_child(child_to_root, NULL));
}

/* systemd's User=dtlsgw with AmbientCapabilities=CAP_NET_ADMIN CAP_NET_BIND_SERVICE,
 * emulated: the child becomes nobody with both capabilities in every set. */
static int child_ambient(void *arg)
{
	struct status st;
	char err[256];
	uid_t uid;
	gid_t gid;
	const uint64_t both = NET_ADMIN_MASK | NET_BIND_MASK;

	(void)arg;
	if (nobody(&uid, &gid) < 0)
		return child_fail("no user nobody");
	if (setgroups(1, &gid) < 0 || setresgid(gid, gid, gid) < 0 ||
	    prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0 || setresuid(uid, uid, uid) < 0)
		return child_fail("becoming nobody: %s", strerror(errno));
	if (set_caps(both) < 0)
		return child_fail("capset: %s", strerror(errno));
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, CAP_NET_ADMIN, 0, 0) < 0 ||
	    prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, CAP_NET_BIND_SERVICE, 0, 0) < 0)
		return child_fail("ambient: %s", strerror(errno));
	if (read_status(&st) < 0 || st.amb != both)
		return child_fail("setup: CapAmb %#llx", (unsigned long long)st.amb);
	uint64_t bnd = st.bnd;

	int rc = priv_drop("nobody", true, err, sizeof(err));
	if (rc != PRIV_NOT_ROOT)
		return child_fail("priv_drop: %d: %s", rc, err);
	if (!strstr(err, "cap_net_admin"))
		return child_fail("message: \"%s\"", err);
	if (read_status(&st) < 0)
		return child_fail("cannot read /proc/self/status");
	if (check_ids(&st, uid, gid) || check_caps(&st, NET_ADMIN_MASK, bnd))
		return 1;
	int tun = can_make_tun();
	if (tun == 0)
		return child_fail("TUNSETIFF refused after the drop");
	return 0;
}

static void test_not_root_ambient(void)
{
	SKIP_UNLESS_ROOT();
	CU_ASSERT(in_child(child_ambient, NULL));
}

static void *sleeper(void *arg)
{
	char c;

	ignore(read(*(int *)arg, &c, 1));
	return NULL;
}

static int child_threads(void *arg)
{
	char err[256];
	int p[2];
	pthread_t t;

	(void)arg;
	if (pipe(p) < 0 || pthread_create(&t, NULL, sleeper, &p[0]) != 0)
		return child_fail("setup: %s", strerror(errno));
	int rc = priv_drop("nobody", true, err, sizeof(err));
	ignore(write(p[1], "x", 1));
	pthread_join(t, NULL);
	if (rc != -EBUSY)
		return child_fail("priv_drop with 2 threads: %d: %s", rc, err);
	if (!strstr(err, "2 threads"))
		return child_fail("message: \"%s\"", err);
	if (geteuid() != 0 && getuid() != 0)
		return child_fail("uid changed");
	return 0;
}

static void test_threads_refused(void)
{
	SKIP_UNLESS_ROOT();
	CU_ASSERT(in_child(child_threads, NULL));
}

/* Runs as anyone: a process without capabilities stays without, with no_new_privs. */
static int child_unprivileged(void *arg)
{
	struct status st;
	char err[256];

	(void)arg;
	if (geteuid() == 0) {
		uid_t uid;
		gid_t gid;
		if (nobody(&uid, &gid) < 0)
			return child_fail("no user nobody");
		if (setgroups(1, &gid) < 0 || setresgid(gid, gid, gid) < 0 ||
		    setresuid(uid, uid, uid) < 0)
			return child_fail("becoming nobody: %s", strerror(errno));
	}
	int rc = priv_drop("nobody", true, err, sizeof(err));
	if (rc != PRIV_NOT_ROOT)
		return child_fail("priv_drop: %d: %s", rc, err);
	if (!strstr(err, "capabilities: none"))
		return child_fail("message: \"%s\"", err);
	if (read_status(&st) < 0)
		return child_fail("cannot read /proc/self/status");
	if (st.eff || st.prm || st.inh || st.amb || st.nnp != 1)
		return child_fail("CapEff %#llx CapPrm %#llx NoNewPrivs %d",
				  (unsigned long long)st.eff, (unsigned long long)st.prm, st.nnp);
	return 0;
}

static void test_unprivileged(void)
{
	CU_ASSERT(in_child(child_unprivileged, NULL));
}

static CU_TestInfo tests[] = {
	{ "root -> nobody keeping CAP_NET_ADMIN: ids, groups, caps, bounding set, nnp",
	  test_root_keep_net_admin },
	{ "root -> nobody keeping nothing", test_root_keep_nothing },
	{ "root, user missing: a failure, and nothing changes", test_root_no_such_user },
	{ "a user with uid 0 is refused", test_root_to_root },
	{ "not root, ambient caps (systemd User=): only CAP_NET_ADMIN stays",
	  test_not_root_ambient },
	{ "a second thread: refused before anything changes", test_threads_refused },
	{ "unprivileged: no caps, nnp set", test_unprivileged },
	CU_TEST_INFO_NULL,
};

const struct unit_suite unit_suite = { "privdrop", NULL, NULL, tests };
