/* Dropping root to the daemon's user, keeping only CAP_NET_ADMIN. See privdrop.h. */
#include <errno.h>
#include <grp.h>
#include <linux/capability.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "daemon/privdrop.h"

#ifndef PR_CAP_AMBIENT
#define PR_CAP_AMBIENT 47
#define PR_CAP_AMBIENT_IS_SET 1
#define PR_CAP_AMBIENT_CLEAR_ALL 4
#endif

#define GROUPS_MAX_DROP 65536

__attribute__((format(printf, 4, 5))) static int say(int rc, char *err, size_t errlen,
						     const char *fmt, ...)
{
	if (err && errlen) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return rc;
}

/* ---- capability sets as 64-bit masks ---- */

struct capsets {
	uint64_t eff, prm, inh;
};

static int caps_get(struct capsets *c)
{
	struct __user_cap_header_struct h = { .version = _LINUX_CAPABILITY_VERSION_3, .pid = 0 };
	struct __user_cap_data_struct d[_LINUX_CAPABILITY_U32S_3];

	memset(d, 0, sizeof(d));
	if (syscall(SYS_capget, &h, d) < 0)
		return -errno;
	c->eff = (uint64_t)d[1].effective << 32 | d[0].effective;
	c->prm = (uint64_t)d[1].permitted << 32 | d[0].permitted;
	c->inh = (uint64_t)d[1].inheritable << 32 | d[0].inheritable;
	return 0;
}

static int caps_set(const struct capsets *c)
{
	struct __user_cap_header_struct h = { .version = _LINUX_CAPABILITY_VERSION_3, .pid = 0 };
	struct __user_cap_data_struct d[_LINUX_CAPABILITY_U32S_3];

	memset(d, 0, sizeof(d));
	d[0].effective = (uint32_t)c->eff;
	d[1].effective = (uint32_t)(c->eff >> 32);
	d[0].permitted = (uint32_t)c->prm;
	d[1].permitted = (uint32_t)(c->prm >> 32);
	d[0].inheritable = (uint32_t)c->inh;
	d[1].inheritable = (uint32_t)(c->inh >> 32);
	if (syscall(SYS_capset, &h, d) < 0)
		return -errno;
	return 0;
}

/* The highest capability this kernel knows. */
static int cap_last(void)
{
	FILE *f = fopen("/proc/sys/kernel/cap_last_cap", "re");
	int last = -1;

	if (f) {
		if (fscanf(f, "%d", &last) != 1)
			last = -1;
		fclose(f);
	}
	if (last < 0 || last > 63) {
		/* no /proc: probe the bounding set (EINVAL past the last one) */
		for (last = 0; last < 63 && prctl(PR_CAPBSET_READ, last + 1, 0, 0, 0) >= 0; last++)
			;
	}
	return last;
}

static uint64_t bset_read(int last)
{
	uint64_t m = 0;

	for (int c = 0; c <= last; c++)
		if (prctl(PR_CAPBSET_READ, c, 0, 0, 0) == 1)
			m |= UINT64_C(1) << c;
	return m;
}

static uint64_t ambient_read(int last)
{
	uint64_t m = 0;

	for (int c = 0; c <= last; c++)
		if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_IS_SET, c, 0, 0) == 1)
			m |= UINT64_C(1) << c;
	return m;
}

/* Number of threads of this process, from /proc/self/status; -1 if unknown. */
static int thread_count(void)
{
	FILE *f = fopen("/proc/self/status", "re");
	char line[256];
	int n = -1;

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "Threads: %d", &n) == 1)
			break;
	fclose(f);
	return n;
}

static const char *cap_desc(uint64_t m)
{
	if (m == 0)
		return "none";
	if (m == UINT64_C(1) << CAP_NET_ADMIN)
		return "cap_net_admin";
	return "more than cap_net_admin";
}

/* Whether g is one of the process's supplementary groups. */
static bool in_groups(gid_t g)
{
	int n = getgroups(0, NULL);
	bool found = false;

	if (n <= 0)
		return false;
	gid_t *v = calloc((size_t)n, sizeof(gid_t));
	if (!v)
		return true; /* cannot tell: say yes, the caller refuses */
	n = getgroups(n, v);
	for (int i = 0; i < n; i++)
		if (v[i] == g)
			found = true;
	free(v);
	return found;
}

static bool member_of_root_group(const char *name)
{
	struct group gr, *res = NULL;
	char buf[4096];

	if (getgrgid_r(0, &gr, buf, sizeof(buf), &res) != 0 || !res)
		return false;
	for (char **m = gr.gr_mem; m && *m; m++)
		if (!strcmp(*m, name))
			return true;
	return false;
}

/* ---- the two ways ---- */

/* The capabilities to keep: CAP_NET_ADMIN or nothing. */
static uint64_t wanted(bool keep_net_admin)
{
	return keep_net_admin ? UINT64_C(1) << CAP_NET_ADMIN : 0;
}

/* Common end: ambient and inheritable cleared, permitted/effective := keep,
 * no_new_privs, then everything read back. */
static int reduce_and_verify(uint64_t keep, int last, bool check_bset, char *err, size_t errlen)
{
	struct capsets c;
	int rc;

	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 && errno != EINVAL)
		return say(-errno, err, errlen, "cannot clear the ambient capabilities: %s",
			   strerror(errno));
	c = (struct capsets){ .eff = keep, .prm = keep, .inh = 0 };
	if ((rc = caps_set(&c)) < 0)
		return say(rc, err, errlen, "capset(%s): %s", cap_desc(keep), strerror(-rc));
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		return say(-errno, err, errlen, "PR_SET_NO_NEW_PRIVS: %s", strerror(errno));

	/* read back */
	if ((rc = caps_get(&c)) < 0)
		return say(rc, err, errlen, "capget: %s", strerror(-rc));
	if (c.eff != keep || c.prm != keep || c.inh != 0)
		return say(-EPERM, err, errlen,
			   "capabilities not as set: effective %#llx permitted %#llx "
			   "inheritable %#llx, wanted %#llx",
			   (unsigned long long)c.eff, (unsigned long long)c.prm,
			   (unsigned long long)c.inh, (unsigned long long)keep);
	uint64_t amb = ambient_read(last);
	if (amb)
		return say(-EPERM, err, errlen, "ambient capabilities left: %#llx",
			   (unsigned long long)amb);
	if (check_bset) {
		uint64_t b = bset_read(last);
		if (b & ~keep)
			return say(-EPERM, err, errlen, "bounding set not cleared: %#llx",
				   (unsigned long long)b);
	}
	if (prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) != 1)
		return say(-EPERM, err, errlen, "no_new_privs is not set");
	return 0;
}

static int from_root(const struct passwd *pw, bool keep_net_admin, char *err, size_t errlen)
{
	const uint64_t keep = wanted(keep_net_admin);
	const int last = cap_last();
	uid_t ru, eu, su;
	gid_t rg, eg, sg;
	gid_t small[64], *groups = small;
	int n = (int)(sizeof(small) / sizeof(small[0]));
	int rc;

	if (pw->pw_uid == 0)
		return say(-EINVAL, err, errlen, "user %s has uid 0; refusing to \"drop\" to root",
			   pw->pw_name);
	if (last < CAP_NET_ADMIN)
		return say(-ENOSYS, err, errlen, "cannot tell the capabilities of this kernel");
	if (keep_net_admin && prctl(PR_CAPBSET_READ, CAP_NET_ADMIN, 0, 0, 0) != 1)
		return say(-EPERM, err, errlen, "CAP_NET_ADMIN is not in the bounding set");

	/* groups: the user's, from the group database */
	if (getgrouplist(pw->pw_name, pw->pw_gid, groups, &n) < 0) {
		if (n <= 0 || n > GROUPS_MAX_DROP)
			return say(-E2BIG, err, errlen, "user %s: too many groups", pw->pw_name);
		groups = calloc((size_t)n, sizeof(gid_t));
		if (!groups)
			return say(-ENOMEM, err, errlen, "out of memory");
		if (getgrouplist(pw->pw_name, pw->pw_gid, groups, &n) < 0) {
			free(groups);
			return say(-EAGAIN, err, errlen, "user %s: groups changed while read",
				   pw->pw_name);
		}
	}
	rc = setgroups((size_t)n, groups) < 0 ? -errno : 0;
	if (groups != small)
		free(groups);
	if (rc < 0)
		return say(rc, err, errlen, "setgroups: %s", strerror(-rc));
	if (setresgid(pw->pw_gid, pw->pw_gid, pw->pw_gid) < 0)
		return say(-errno, err, errlen, "setresgid(%u): %s", (unsigned)pw->pw_gid,
			   strerror(errno));

	/* the bounding set, while CAP_SETPCAP is still held */
	for (int c = 0; c <= last; c++) {
		if (keep & (UINT64_C(1) << c) || prctl(PR_CAPBSET_READ, c, 0, 0, 0) != 1)
			continue;
		if (prctl(PR_CAPBSET_DROP, c, 0, 0, 0) < 0)
			return say(-errno, err, errlen,
				   "cannot drop capability %d from the bounding set: %s%s", c,
				   strerror(errno),
				   errno == EPERM ? " (needs CAP_SETPCAP)" : "");
	}

	/* uid, keeping the permitted set across the change */
	if (prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0)
		return say(-errno, err, errlen, "PR_SET_KEEPCAPS: %s", strerror(errno));
	if (setresuid(pw->pw_uid, pw->pw_uid, pw->pw_uid) < 0)
		return say(-errno, err, errlen, "setresuid(%u): %s", (unsigned)pw->pw_uid,
			   strerror(errno));
	if (prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0) < 0)
		return say(-errno, err, errlen, "PR_SET_KEEPCAPS off: %s", strerror(errno));

	if ((rc = reduce_and_verify(keep, last, true, err, errlen)) < 0)
		return rc;

	/* ids read back, and no way back to root */
	if (getresuid(&ru, &eu, &su) < 0 || ru != pw->pw_uid || eu != pw->pw_uid ||
	    su != pw->pw_uid)
		return say(-EPERM, err, errlen, "uids are not all %u", (unsigned)pw->pw_uid);
	if (getresgid(&rg, &eg, &sg) < 0 || rg != pw->pw_gid || eg != pw->pw_gid ||
	    sg != pw->pw_gid)
		return say(-EPERM, err, errlen, "gids are not all %u", (unsigned)pw->pw_gid);
	if (setuid(0) == 0 || seteuid(0) == 0)
		return say(-EPERM, err, errlen, "could become root again");
	/* root's group (0) may stay only if the user is a member of it */
	if (pw->pw_gid != 0 && in_groups(0) && !member_of_root_group(pw->pw_name))
		return say(-EPERM, err, errlen, "group 0 is still a supplementary group");
	return say(PRIV_DROPPED, err, errlen, "running as %s (uid %u, gid %u), capabilities: %s",
		   pw->pw_name, (unsigned)pw->pw_uid, (unsigned)pw->pw_gid, cap_desc(keep));
}

static int not_root(bool keep_net_admin, char *err, size_t errlen)
{
	const int last = cap_last();
	struct capsets c;
	int rc;

	if (last < 0)
		return say(-ENOSYS, err, errlen, "cannot tell the capabilities of this kernel");
	if ((rc = caps_get(&c)) < 0)
		return say(rc, err, errlen, "capget: %s", strerror(-rc));
	/* keep CAP_NET_ADMIN only if it is there (systemd's AmbientCapabilities=) */
	uint64_t keep = wanted(keep_net_admin) & c.prm;
	if ((rc = reduce_and_verify(keep, last, false, err, errlen)) < 0)
		return rc;
	return say(PRIV_NOT_ROOT, err, errlen,
		   "not started as root: staying uid %u, capabilities: %s", (unsigned)geteuid(),
		   cap_desc(keep));
}

int priv_drop(const char *user, bool keep_net_admin, char *err, size_t errlen)
{
	struct passwd pw, *res = NULL;
	char buf[4096];
	int threads = thread_count(), rc;

	if (errlen)
		err[0] = '\0';
	if (threads < 0)
		return say(-ENOENT, err, errlen, "cannot count the threads (is /proc mounted?)");
	if (threads != 1)
		return say(-EBUSY, err, errlen,
			   "called with %d threads; must run before any other thread starts",
			   threads);
	if (geteuid() != 0)
		return not_root(keep_net_admin, err, errlen);
	if (!user || !user[0])
		return say(-EINVAL, err, errlen, "no user given");
	errno = 0;
	rc = getpwnam_r(user, &pw, buf, sizeof(buf), &res);
	if (rc != 0)
		return say(-rc, err, errlen, "looking up user %s: %s", user, strerror(rc));
	if (!res)
		return say(-ENOENT, err, errlen, "user %s does not exist", user);
	return from_root(&pw, keep_net_admin, err, errlen);
}
