/* Private to daemon/control: who is on the other end of a control connection. */
#ifndef DTLSGW_CONTROL_CRED_H
#define DTLSGW_CONTROL_CRED_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

struct control_cred {
	pid_t pid;
	uid_t uid;
	gid_t gid;
};

/* SO_PEERCRED of a connected Unix socket: the credentials at connect(2) time.
 * 0 or -errno. */
int cred_get(int fd, struct control_cred *out) __attribute__((warn_unused_result));

/*
 * Whether the peer of fd may run commands that change the gateway: uid 0, the
 * daemon's effective uid, or (when has_group) a member of group: its primary
 * gid, a supplementary group of the connecting process (SO_PEERGROUPS), or a
 * member by the group database (getgrouplist() of its user name).
 * On refusal, why[0..whylen) says which of these was missing.
 * May consult NSS (getpwuid_r, getgrouplist) and so take a moment.
 */
bool cred_may_change(int fd, const struct control_cred *c, bool has_group, gid_t group,
		     const char *group_name, char *why, size_t whylen);

#endif
