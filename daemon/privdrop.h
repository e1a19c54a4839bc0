/*
 * Dropping root: after dtlsgwd has opened its TUN queues, UDP sockets and control
 * socket it needs no privilege but CAP_NET_ADMIN (addresses and routes on reload
 * and at shutdown). priv_drop() makes that so, with plain syscalls (no libcap).
 *
 * Call it from the main thread BEFORE any other thread exists: capability sets,
 * the bounding set and no_new_privs are per thread, and a thread started earlier
 * would keep root's. priv_drop() refuses to run when the process has more than
 * one thread.
 *
 * Started as root (euid 0), and the user exists:
 *   supplementary groups := the user's groups; real/effective/saved gid := the
 *   user's group; every capability but CAP_NET_ADMIN (or all, without
 *   keep_net_admin) leaves the bounding set; the ambient set is cleared;
 *   real/effective/saved uid := the user's uid, with PR_SET_KEEPCAPS so that
 *   CAP_NET_ADMIN survives; permitted = effective := {CAP_NET_ADMIN} (or {}),
 *   inheritable := {}; no_new_privs := 1.
 * Started as root and the user does not exist: nothing changes; -ENOENT, and err
 *   names the user. The caller must then refuse to start: staying root is never
 *   a fallback, only a choice (dtlsgwd's --user root, which does not call this).
 * Started as another user (systemd's User= with AmbientCapabilities=, or setpriv):
 *   the ambient and inheritable sets are cleared and permitted/effective reduced
 *   to CAP_NET_ADMIN if it is held (or to nothing, without keep_net_admin);
 *   no_new_privs := 1; the bounding set stays (dropping from it needs
 *   CAP_SETPCAP); PRIV_NOT_ROOT.
 *
 * Every step is read back (getresuid/getresgid, getgroups, capget,
 * PR_CAPBSET_READ, PR_CAP_AMBIENT_IS_SET, PR_GET_NO_NEW_PRIVS, and setuid(0)
 * must fail). On any failure the result is negative (-errno) and err says which
 * step failed and why; the caller must then exit, since the process may be
 * half-way.
 */
#ifndef DTLSGW_DAEMON_PRIVDROP_H
#define DTLSGW_DAEMON_PRIVDROP_H

#include <stdbool.h>
#include <stddef.h>

#define PRIV_DTLSGW_USER "dtlsgw"

enum {
	PRIV_DROPPED = 0,  /* was root; now the user, with at most CAP_NET_ADMIN */
	PRIV_NOT_ROOT = 1, /* was not root; capabilities reduced (err says to what) */
};

/* Returns PRIV_DROPPED, PRIV_NOT_ROOT or -errno (-ENOENT: no such user). err (may be NULL
 * when errlen is 0) always gets one line for the log: what failed, or what the
 * process now runs as ("running as dtlsgw (uid 103, gid 106), capabilities:
 * cap_net_admin"). */
int priv_drop(const char *user, bool keep_net_admin, char *err, size_t errlen)
	__attribute__((warn_unused_result));

#endif
