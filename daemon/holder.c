/* Who already holds a UDP port or a TUN device. See holder.h. */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "daemon/holder.h"

static unsigned port_of(const struct sockaddr *addr, socklen_t len)
{
	if (addr->sa_family == AF_INET && len >= sizeof(struct sockaddr_in))
		return ntohs(((const struct sockaddr_in *)addr)->sin_port);
	if (addr->sa_family == AF_INET6 && len >= sizeof(struct sockaddr_in6))
		return ntohs(((const struct sockaddr_in6 *)addr)->sin6_port);
	return 0;
}

/* Up to cap inodes of the UDP sockets bound to port, from /proc/net/udp and udp6. */
static size_t udp_inodes(unsigned port, unsigned long *ino, size_t cap)
{
	static const char *const files[] = { "/proc/net/udp", "/proc/net/udp6" };
	size_t n = 0;
	char line[512];

	for (size_t f = 0; f < 2; f++) {
		FILE *fp = fopen(files[f], "re");
		if (!fp)
			continue;
		if (!fgets(line, sizeof(line), fp)) { /* the header */
			fclose(fp);
			continue;
		}
		while (n < cap && fgets(line, sizeof(line), fp)) {
			char local[80];
			unsigned p;
			unsigned long inode;
			/* sl local rem st tx:rx tr:when retr uid timeout inode */
			if (sscanf(line, " %*s %79s %*s %*s %*s %*s %*s %*s %*s %lu", local, &inode) != 2)
				continue;
			char *colon = strrchr(local, ':');
			if (!colon || sscanf(colon + 1, "%x", &p) != 1 || p != port || !inode)
				continue;
			ino[n++] = inode;
		}
		fclose(fp);
	}
	return n;
}

/* The first process with an open file matching want (called with the link text of each
 * /proc/PID/fd/N, and its fdinfo path), or 0. */
static pid_t scan_fds(bool (*want)(const char *link, const char *fdinfo, const void *arg),
		      const void *arg)
{
	DIR *proc = opendir("/proc");
	struct dirent *p;
	pid_t found = 0, self = getpid();

	if (!proc)
		return 0;
	while (!found && (p = readdir(proc))) {
		char path[300];
		DIR *fds;
		struct dirent *f;
		if (!isdigit((unsigned char)p->d_name[0]) || atoi(p->d_name) == self)
			continue;
		snprintf(path, sizeof(path), "/proc/%s/fd", p->d_name);
		if (!(fds = opendir(path)))
			continue;
		while (!found && (f = readdir(fds))) {
			char fd_path[600], info[600], link[128];
			ssize_t n;
			if (f->d_name[0] == '.')
				continue;
			snprintf(fd_path, sizeof(fd_path), "%s/%s", path, f->d_name);
			snprintf(info, sizeof(info), "/proc/%s/fdinfo/%s", p->d_name, f->d_name);
			if ((n = readlink(fd_path, link, sizeof(link) - 1)) < 0)
				continue;
			link[n] = '\0';
			if (want(link, info, arg))
				found = (pid_t)atoi(p->d_name);
		}
		closedir(fds);
	}
	closedir(proc);
	return found;
}

struct inodes {
	const unsigned long *v;
	size_t n;
};

static bool is_socket_of(const char *link, const char *fdinfo, const void *arg)
{
	const struct inodes *in = arg;
	unsigned long ino;

	(void)fdinfo;
	if (sscanf(link, "socket:[%lu]", &ino) != 1)
		return false;
	for (size_t i = 0; i < in->n; i++)
		if (in->v[i] == ino)
			return true;
	return false;
}

pid_t holder_of_udp_port(const struct sockaddr *addr, socklen_t len)
{
	unsigned long ino[64];
	unsigned port = port_of(addr, len);
	struct inodes in = { ino, port ? udp_inodes(port, ino, 64) : 0 };

	return in.n ? scan_fds(is_socket_of, &in) : 0;
}

/* A TUN queue's fdinfo says "iff:\tNAME". */
static bool is_tun_of(const char *link, const char *fdinfo, const void *arg)
{
	const char *name = arg;
	char line[128];
	bool yes = false;
	FILE *fp;

	if (strcmp(link, "/dev/net/tun") || !(fp = fopen(fdinfo, "re")))
		return false;
	while (!yes && fgets(line, sizeof(line), fp)) {
		char iff[64];
		yes = sscanf(line, "iff: %63s", iff) == 1 && !strcmp(iff, name);
	}
	fclose(fp);
	return yes;
}

pid_t holder_of_tun(const char *name)
{
	return scan_fds(is_tun_of, name);
}

const char *holder_describe(pid_t pid, char *buf, size_t cap)
{
	char path[64], comm[64] = "";
	FILE *fp;

	snprintf(path, sizeof(path), "/proc/%d/comm", (int)pid);
	if ((fp = fopen(path, "re"))) {
		if (fgets(comm, sizeof(comm), fp))
			comm[strcspn(comm, "\n")] = '\0';
		fclose(fp);
	}
	if (comm[0])
		snprintf(buf, cap, "%s pid %d", comm, (int)pid);
	else
		snprintf(buf, cap, "pid %d", (int)pid);
	return buf;
}
