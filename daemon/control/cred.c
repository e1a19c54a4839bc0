/* Peer credentials of control connections and the privilege check. */
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "daemon/control/cred.h"

#ifndef SO_PEERGROUPS
#define SO_PEERGROUPS 59 /* Linux 4.13 */
#endif

/* Bound on the groups looked at, against absurd group databases. */
#define GROUPS_MAX 65536

int cred_get(int fd, struct control_cred *out)
{
	struct ucred uc;
	socklen_t len = sizeof(uc);

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &uc, &len) < 0)
		return -errno;
	if (len != sizeof(uc))
		return -EPROTO;
	out->pid = uc.pid;
	out->uid = uc.uid;
	out->gid = uc.gid;
	return 0;
}

static bool in_list(const gid_t *v, size_t n, gid_t g)
{
	for (size_t i = 0; i < n; i++)
		if (v[i] == g)
			return true;
	return false;
}

/* The supplementary groups of the process at the other end (SO_PEERGROUPS). */
static bool peer_groups_contain(int fd, gid_t group)
{
	gid_t small[64];
	gid_t *v = small;
	socklen_t len = sizeof(small);
	bool found = false;

	if (getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, v, &len) < 0) {
		if (errno != ERANGE || len == 0 || len > GROUPS_MAX * sizeof(gid_t))
			return false;
		v = malloc(len);
		if (!v)
			return false;
		if (getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, v, &len) < 0) {
			free(v);
			return false;
		}
	}
	found = in_list(v, len / sizeof(gid_t), group);
	if (v != small)
		free(v);
	return found;
}

/* Membership by the group database, for the user name of uid. */
static bool db_groups_contain(uid_t uid, gid_t group)
{
	struct passwd pw, *res = NULL;
	char pwbuf[4096];
	gid_t small[64];
	gid_t *v = small;
	int n = 64;
	bool found = false;

	if (getpwuid_r(uid, &pw, pwbuf, sizeof(pwbuf), &res) != 0 || !res)
		return false;
	if (pw.pw_gid == group)
		return true;
	if (getgrouplist(pw.pw_name, pw.pw_gid, v, &n) < 0) {
		if (n <= 0 || n > GROUPS_MAX)
			return false;
		v = calloc((size_t)n, sizeof(gid_t));
		if (!v)
			return false;
		if (getgrouplist(pw.pw_name, pw.pw_gid, v, &n) < 0)
			n = 0;
	}
	found = in_list(v, (size_t)n, group);
	if (v != small)
		free(v);
	return found;
}

bool cred_may_change(int fd, const struct control_cred *c, bool has_group, gid_t group,
		     const char *group_name, char *why, size_t whylen)
{
	if (c->uid == 0 || c->uid == geteuid())
		return true;
	if (has_group &&
	    (c->gid == group || peer_groups_contain(fd, group) || db_groups_contain(c->uid, group)))
		return true;
	if (has_group)
		snprintf(why, whylen, "needs root or group %s", group_name);
	else
		snprintf(why, whylen, "needs root");
	return false;
}
