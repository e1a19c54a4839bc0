/*
 * The control server: a listening Unix socket, up to max_conns nonblocking
 * connections, a timerfd for idle deadlines, all behind one epoll descriptor
 * that the daemon's control thread polls (see control.h).
 *
 * Per connection: an input buffer of CONTROL_LINE_MAX bytes and at most one
 * reply in flight. While a reply is being written the connection is not read,
 * so a client that pipelines requests without reading replies stalls only
 * itself, and memory stays bounded by max_conns * (CONTROL_LINE_MAX + max_reply).
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/fsuid.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <sys/un.h>
#include <unistd.h>

#include <json-c/json.h>

#include "daemon/control/control.h"
#include "daemon/control/cred.h"

#define TAG_LISTENER 0
#define TAG_TIMER 1
#define ACCEPTS_PER_CALL 32
#define EVENTS_PER_CALL 64
#define ACCEPT_PAUSE_MS 1000   /* after EMFILE/ENFILE */
#define REFUSAL_LOG_MS 1000    /* at most one "too many connections" line per second */
#define LOG_LINE_MAX 512
#define GW_UNUSED_RESULT(expr) do { if (expr) {} } while (0)

struct conn {
	int fd;                 /* -1: free slot */
	uint32_t gen;           /* part of the epoll tag, so stale events are ignored */
	uint32_t events;        /* current epoll interest */
	struct control_cred cred;
	int may_change;         /* -1 not checked yet, 0 no, 1 yes */
	char *in;               /* CONTROL_LINE_MAX bytes */
	size_t in_len;
	char *out;              /* the reply being written, or NULL */
	size_t out_len, out_off;
	bool closing;           /* close once out is written */
	bool eof;               /* the client will send no more */
	uint64_t deadline;      /* CLOCK_MONOTONIC ms */
};

struct control {
	int epfd, lfd, tfd;
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	dev_t dev;
	ino_t ino;
	struct control_ops ops;
	void *arg;
	unsigned max_conns, idle_ms;
	size_t max_reply;
	bool has_group;
	gid_t gid;
	char group[64];
	struct conn *conns; /* max_conns slots */
	unsigned n_conns;
	uint32_t next_gen;
	bool accept_paused;
	uint64_t accept_resume;
	uint64_t armed;        /* deadline the timer is set to; 0: none */
	uint64_t refusal_logged;
};

__attribute__((format(printf, 3, 4))) static void
ctl_log(struct control *ctl, enum gw_log_level level, const char *fmt, ...)
{
	char line[LOG_LINE_MAX];
	va_list ap;

	if (!ctl->ops.log)
		return;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	ctl->ops.log(ctl->arg, level, line);
}

static uint64_t conn_tag(const struct control *ctl, const struct conn *c)
{
	return ((uint64_t)c->gen << 32) | (uint64_t)(c - ctl->conns);
}

static void conn_close(struct control *ctl, struct conn *c)
{
	if (c->fd < 0)
		return;
	epoll_ctl(ctl->epfd, EPOLL_CTL_DEL, c->fd, NULL);
	close(c->fd);
	c->fd = -1;
	if (c->in) {
		explicit_bzero(c->in, c->in_len); /* add-peer lines may hold a PSK */
		free(c->in);
	}
	free(c->out);
	c->in = c->out = NULL;
	c->in_len = c->out_len = c->out_off = 0;
	ctl->n_conns--;
}

static void conn_want(struct control *ctl, struct conn *c, uint32_t events)
{
	if (c->events == events)
		return;
	struct epoll_event ev = { .events = events, .data.u64 = conn_tag(ctl, c) };
	if (epoll_ctl(ctl->epfd, EPOLL_CTL_MOD, c->fd, &ev) < 0) {
		ctl_log(ctl, GW_LOG_WARNING, "control: epoll_ctl: %s", strerror(errno));
		conn_close(ctl, c);
		return;
	}
	c->events = events;
}

/* ---- answering one request ------------------------------------------------- */

/* The peer named name out of the peers result (for a daemon without ops.peer). */
static int peer_from_peers(struct control *ctl, const char *name, struct json_object **result,
			   char *err, size_t errlen)
{
	struct json_object *all = NULL;
	int rc = ctl->ops.peers(ctl->arg, &all, err, errlen);
	if (rc < 0)
		return rc;
	if (json_object_is_type(all, json_type_array)) {
		size_t n = json_object_array_length(all);
		for (size_t i = 0; i < n; i++) {
			struct json_object *p = json_object_array_get_idx(all, i), *v;
			if (json_object_object_get_ex(p, "name", &v) &&
			    json_object_is_type(v, json_type_string) &&
			    strcmp(json_object_get_string(v), name) == 0) {
				*result = json_object_get(p);
				json_object_put(all);
				return 0;
			}
		}
	}
	json_object_put(all);
	snprintf(err, errlen, "peer %s: no such peer", name);
	return -1;
}

static int stats(struct control *ctl, struct json_object **result, char *err, size_t errlen)
{
	char *text = NULL;
	int rc;

	if (ctl->ops.stats_prometheus) {
		rc = ctl->ops.stats_prometheus(ctl->arg, &text, err, errlen);
		if (rc < 0)
			return rc;
	} else {
		struct json_object *status = NULL, *peers = NULL;
		if (!ctl->ops.status || !ctl->ops.peers) {
			snprintf(err, errlen, "stats: not supported by this daemon");
			return -1;
		}
		rc = ctl->ops.status(ctl->arg, &status, err, errlen);
		if (rc == 0)
			rc = ctl->ops.peers(ctl->arg, &peers, err, errlen);
		if (rc == 0 && control_prometheus_render(status, peers, &text) < 0) {
			snprintf(err, errlen, "stats: out of memory");
			rc = -1;
		}
		json_object_put(status);
		json_object_put(peers);
		if (rc < 0)
			return rc;
	}
	struct json_object *o = json_object_new_object();
	if (o && json_object_object_add(o, CONTROL_ARG_FORMAT,
					json_object_new_string(CONTROL_STATS_FORMAT_PROMETHEUS)) == 0 &&
	    json_object_object_add(o, "text", json_object_new_string(text ? text : "")) == 0) {
		free(text);
		*result = o;
		return 0;
	}
	free(text);
	json_object_put(o);
	snprintf(err, errlen, "stats: out of memory");
	return -1;
}

/* Run the request; 0 and *result, or negative with err. */
static int dispatch(struct control *ctl, const struct control_request *req,
		    struct json_object **result, char *err, size_t errlen)
{
	const struct control_ops *o = &ctl->ops;
	void *a = ctl->arg;

	switch (req->command) {
	case CONTROL_STATUS:
		if (o->status)
			return o->status(a, result, err, errlen);
		break;
	case CONTROL_PEERS:
		if (o->peers)
			return o->peers(a, result, err, errlen);
		break;
	case CONTROL_PEER:
		if (o->peer)
			return o->peer(a, req->name, result, err, errlen);
		if (o->peers)
			return peer_from_peers(ctl, req->name, result, err, errlen);
		break;
	case CONTROL_ADD_PEER:
		if (o->add_peer)
			return o->add_peer(a, req->name, req->kv, req->n_kv, result, err, errlen);
		break;
	case CONTROL_REMOVE_PEER:
		if (o->remove_peer)
			return o->remove_peer(a, req->name, result, err, errlen);
		break;
	case CONTROL_DISCONNECT:
		if (o->disconnect)
			return o->disconnect(a, req->name, result, err, errlen);
		break;
	case CONTROL_RELOAD:
		if (o->reload)
			return o->reload(a, result, err, errlen);
		break;
	case CONTROL_STATS:
		return stats(ctl, result, err, errlen);
	case CONTROL_LOG_LEVEL:
		if (o->log_level)
			return o->log_level(a, req->level, result, err, errlen);
		break;
	}
	snprintf(err, errlen, "%s: not supported by this daemon", control_command_name(req->command));
	return -1;
}

/* What a request is about, for log lines: "add-peer b", "reload". */
static void describe(const struct control_request *req, char *buf, size_t len)
{
	switch (req->command) {
	case CONTROL_PEER:
	case CONTROL_ADD_PEER:
	case CONTROL_REMOVE_PEER:
	case CONTROL_DISCONNECT:
		snprintf(buf, len, "%s %s", control_command_name(req->command), req->name);
		break;
	case CONTROL_LOG_LEVEL:
		snprintf(buf, len, "%s %s", control_command_name(req->command),
			 control_log_level_name(req->level));
		break;
	case CONTROL_STATUS:
	case CONTROL_PEERS:
	case CONTROL_RELOAD:
	case CONTROL_STATS:
		snprintf(buf, len, "%s", control_command_name(req->command));
		break;
	}
}

/* Set c->out to the reply of one request line. */
static void answer(struct control *ctl, struct conn *c, const char *line, size_t len)
{
	struct control_request req;
	struct json_object *result = NULL;
	char err[CONTROL_ERR_MAX] = "";
	char what[64];
	int rc;

	rc = control_parse_request(line, len, &req, err, sizeof(err));
	if (rc == 0 && control_command_mutates(req.command)) {
		describe(&req, what, sizeof(what));
		char why[128] = "";
		if (c->may_change < 0)
			c->may_change = cred_may_change(c->fd, &c->cred, ctl->has_group, ctl->gid,
							ctl->group, why, sizeof(why));
		if (!c->may_change) {
			if (!why[0])
				snprintf(why, sizeof(why), "needs root or group %s", ctl->group);
			ctl_log(ctl, GW_LOG_WARNING, "control: refused %s from uid %u pid %d: %s", what,
			     (unsigned)c->cred.uid, (int)c->cred.pid, why);
			snprintf(err, sizeof(err), "permission denied: %s %s",
				 control_command_name(req.command), why);
			rc = -EPERM;
		} else {
			rc = dispatch(ctl, &req, &result, err, sizeof(err));
			if (rc < 0)
				ctl_log(ctl, GW_LOG_NOTICE, "control: %s by uid %u pid %d failed: %s",
				     what, (unsigned)c->cred.uid, (int)c->cred.pid, err);
			else
				ctl_log(ctl, GW_LOG_INFO, "control: %s by uid %u pid %d", what,
				     (unsigned)c->cred.uid, (int)c->cred.pid);
		}
	} else if (rc == 0) {
		rc = dispatch(ctl, &req, &result, err, sizeof(err));
	} else {
		ctl_log(ctl, GW_LOG_DEBUG, "control: bad request from uid %u pid %d: %s",
		     (unsigned)c->cred.uid, (int)c->cred.pid, err);
	}
	control_request_clear(&req);

	if (rc < 0) {
		json_object_put(result);
		result = NULL;
		if (!err[0])
			snprintf(err, sizeof(err), "failed");
		rc = control_reply_error(err, &c->out, &c->out_len);
	} else {
		rc = control_reply_ok(result, &c->out, &c->out_len);
		json_object_put(result);
		if (rc == 0 && c->out_len > ctl->max_reply) {
			free(c->out);
			c->out = NULL;
			snprintf(err, sizeof(err), "reply too large (%zu bytes, at most %zu)",
				 c->out_len, ctl->max_reply);
			ctl_log(ctl, GW_LOG_WARNING, "control: %s", err);
			rc = control_reply_error(err, &c->out, &c->out_len);
		}
	}
	if (rc < 0) {
		ctl_log(ctl, GW_LOG_WARNING, "control: out of memory for a reply");
		c->out = NULL;
		c->closing = true;
	}
	c->out_off = 0;
}

/* ---- connection I/O ---------------------------------------------------------- */

/* Write what the socket takes; false if the connection was closed. */
static bool conn_flush(struct control *ctl, struct conn *c, uint64_t now)
{
	while (c->out && c->out_off < c->out_len) {
		ssize_t n = send(c->fd, c->out + c->out_off, c->out_len - c->out_off,
				 MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return true;
		if (n <= 0) {
			conn_close(ctl, c);
			return false;
		}
		c->out_off += (size_t)n;
	}
	if (c->out) {
		free(c->out);
		c->out = NULL;
		c->out_len = c->out_off = 0;
		c->deadline = now + ctl->idle_ms;
	}
	return true;
}

/* Answer the complete lines in c->in, one reply at a time; then set what to
 * wait for: the socket writable (a reply in flight), readable, or close. */
static void conn_progress(struct control *ctl, struct conn *c, uint64_t now)
{
	while (!c->out && !c->closing) {
		char *nl = memchr(c->in, '\n', c->in_len);
		if (!nl) {
			if (c->in_len < CONTROL_LINE_MAX)
				break;
			char err[96];
			snprintf(err, sizeof(err), "request longer than %d bytes", CONTROL_LINE_MAX);
			ctl_log(ctl, GW_LOG_NOTICE, "control: uid %u pid %d: %s; closing",
			     (unsigned)c->cred.uid, (int)c->cred.pid, err);
			if (control_reply_error(err, &c->out, &c->out_len) < 0)
				c->out = NULL;
			c->out_off = 0;
			c->closing = true;
			c->in_len = 0;
		} else {
			size_t len = (size_t)(nl - c->in) + 1;
			answer(ctl, c, c->in, len);
			explicit_bzero(c->in, len);
			memmove(c->in, c->in + len, c->in_len - len);
			c->in_len -= len;
			c->deadline = now + ctl->idle_ms;
		}
		if (!conn_flush(ctl, c, now))
			return;
	}
	if (c->out)
		conn_want(ctl, c, EPOLLOUT);
	else if (c->closing || c->eof)
		conn_close(ctl, c);
	else
		conn_want(ctl, c, EPOLLIN);
}

static void conn_read(struct control *ctl, struct conn *c, uint64_t now)
{
	ssize_t n;

	do
		n = read(c->fd, c->in + c->in_len, CONTROL_LINE_MAX - c->in_len);
	while (n < 0 && errno == EINTR);
	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
		return;
	if (n < 0) {
		conn_close(ctl, c);
		return;
	}
	if (n == 0) {
		/* End of input (maybe only shutdown(SHUT_WR)): a last line without
		 * its newline still counts; answer what is there, then close. */
		c->eof = true;
		if (c->in_len > 0 && c->in_len < CONTROL_LINE_MAX && c->in[c->in_len - 1] != '\n')
			c->in[c->in_len++] = '\n';
	}
	c->in_len += (size_t)n;
	conn_progress(ctl, c, now);
}

/* ---- accepting --------------------------------------------------------------- */

static void refuse(struct control *ctl, int fd, uint64_t now)
{
	char *line;
	size_t len;

	if (control_reply_error("too many connections", &line, &len) == 0) {
		ssize_t n = send(fd, line, len, MSG_NOSIGNAL | MSG_DONTWAIT);
		(void)n; /* best effort */
		free(line);
	}
	close(fd);
	if (now >= ctl->refusal_logged + REFUSAL_LOG_MS || ctl->refusal_logged == 0) {
		ctl->refusal_logged = now;
		ctl_log(ctl, GW_LOG_WARNING, "control: too many connections (%u); refusing new ones",
		     ctl->max_conns);
	}
}

static void accept_pause(struct control *ctl, uint64_t now)
{
	if (ctl->accept_paused)
		return;
	epoll_ctl(ctl->epfd, EPOLL_CTL_DEL, ctl->lfd, NULL);
	ctl->accept_paused = true;
	ctl->accept_resume = now + ACCEPT_PAUSE_MS;
}

static void accept_resume(struct control *ctl)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.u64 = TAG_LISTENER };
	if (epoll_ctl(ctl->epfd, EPOLL_CTL_ADD, ctl->lfd, &ev) == 0 || errno == EEXIST)
		ctl->accept_paused = false;
}

static void accept_some(struct control *ctl, uint64_t now)
{
	for (int i = 0; i < ACCEPTS_PER_CALL; i++) {
		int fd = accept4(ctl->lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0) {
			if (errno == EINTR || errno == ECONNABORTED || errno == EPROTO)
				continue;
			if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS ||
			    errno == ENOMEM) {
				ctl_log(ctl, GW_LOG_WARNING, "control: accept: %s; pausing 1 s",
				     strerror(errno));
				accept_pause(ctl, now);
			} else if (errno != EAGAIN && errno != EWOULDBLOCK) {
				ctl_log(ctl, GW_LOG_WARNING, "control: accept: %s", strerror(errno));
			}
			return;
		}
		if (ctl->n_conns >= ctl->max_conns) {
			refuse(ctl, fd, now);
			continue;
		}
		struct conn *c = NULL;
		for (unsigned s = 0; s < ctl->max_conns; s++) {
			if (ctl->conns[s].fd < 0) {
				c = &ctl->conns[s];
				break;
			}
		}
		struct control_cred cred;
		int rc = cred_get(fd, &cred);
		if (rc < 0) {
			ctl_log(ctl, GW_LOG_WARNING, "control: SO_PEERCRED: %s", strerror(-rc));
			close(fd);
			continue;
		}
		char *in = malloc(CONTROL_LINE_MAX);
		if (!in) {
			close(fd);
			continue;
		}
		if (++ctl->next_gen == 0)
			ctl->next_gen = 1; /* 0 would make tag 0 or 1 possible */
		*c = (struct conn){ .fd = fd, .gen = ctl->next_gen,
				    .events = EPOLLIN, .cred = cred, .may_change = -1, .in = in,
				    .deadline = now + ctl->idle_ms };
		struct epoll_event ev = { .events = EPOLLIN, .data.u64 = conn_tag(ctl, c) };
		if (epoll_ctl(ctl->epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
			ctl_log(ctl, GW_LOG_WARNING, "control: epoll_ctl: %s", strerror(errno));
			close(fd);
			free(in);
			c->fd = -1;
			continue;
		}
		ctl->n_conns++;
		ctl_log(ctl, GW_LOG_DEBUG, "control: connection from uid %u pid %d", (unsigned)cred.uid,
		     (int)cred.pid);
	}
}

/* ---- timers ------------------------------------------------------------------ */

static void expire(struct control *ctl, uint64_t now)
{
	for (unsigned s = 0; s < ctl->max_conns; s++) {
		struct conn *c = &ctl->conns[s];
		if (c->fd >= 0 && now >= c->deadline) {
			ctl_log(ctl, GW_LOG_DEBUG, "control: uid %u pid %d idle for %u ms; closing",
			     (unsigned)c->cred.uid, (int)c->cred.pid, ctl->idle_ms);
			conn_close(ctl, c);
		}
	}
	if (ctl->accept_paused && now >= ctl->accept_resume)
		accept_resume(ctl);
}

static void arm(struct control *ctl)
{
	uint64_t next = 0;

	for (unsigned s = 0; s < ctl->max_conns; s++) {
		const struct conn *c = &ctl->conns[s];
		if (c->fd >= 0 && (next == 0 || c->deadline < next))
			next = c->deadline;
	}
	if (ctl->accept_paused && (next == 0 || ctl->accept_resume < next))
		next = ctl->accept_resume;
	if (next == ctl->armed)
		return;
	struct itimerspec its = { 0 };
	if (next) {
		its.it_value.tv_sec = (time_t)(next / 1000);
		its.it_value.tv_nsec = (long)(next % 1000) * 1000000;
	}
	if (timerfd_settime(ctl->tfd, TFD_TIMER_ABSTIME, &its, NULL) == 0)
		ctl->armed = next;
}

void control_handle(struct control *ctl, uint64_t now)
{
	struct epoll_event ev[EVENTS_PER_CALL];
	int n;

	do
		n = epoll_wait(ctl->epfd, ev, EVENTS_PER_CALL, 0);
	while (n < 0 && errno == EINTR);
	for (int i = 0; i < n; i++) {
		uint64_t tag = ev[i].data.u64;
		if (tag == TAG_LISTENER) {
			accept_some(ctl, now);
			continue;
		}
		if (tag == TAG_TIMER) {
			uint64_t ticks;
			ssize_t r = read(ctl->tfd, &ticks, sizeof(ticks));
			(void)r;
			ctl->armed = 0; /* expired: set it again below */
			continue;
		}
		uint32_t slot = (uint32_t)tag;
		if (slot >= ctl->max_conns)
			continue;
		struct conn *c = &ctl->conns[slot];
		if (c->fd < 0 || c->gen != (uint32_t)(tag >> 32))
			continue; /* closed (and maybe reused) earlier in this batch */
		if (c->out && (ev[i].events & (EPOLLOUT | EPOLLERR | EPOLLHUP))) {
			if (conn_flush(ctl, c, now))
				conn_progress(ctl, c, now);
		} else if (!c->out && (ev[i].events & (EPOLLIN | EPOLLERR | EPOLLHUP))) {
			conn_read(ctl, c, now);
		}
	}
	expire(ctl, now);
	arm(ctl);
}

/* ---- open and close ---------------------------------------------------------- */

int control_fd(const struct control *ctl)
{
	return ctl->epfd;
}

unsigned control_connections(const struct control *ctl)
{
	return ctl->n_conns;
}

__attribute__((format(printf, 4, 5))) static int open_fail(int rc, char *err, size_t errlen,
							   const char *fmt, ...)
{
	if (errlen > 0) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return rc;
}

/* Whether a server answers on the socket at path: 1 yes, 0 no (stale), <0 error. */
static int socket_alive(const struct sockaddr_un *sun)
{
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	int rc = connect(fd, (const struct sockaddr *)sun, sizeof(*sun));
	int e = errno;
	close(fd);
	if (rc == 0 || e == EAGAIN || e == EINPROGRESS)
		return 1;
	if (e == ECONNREFUSED)
		return 0;
	return -e;
}

/* Make the parent directory of path if it is missing (one level, 0755). */
static void make_parent(const char *path)
{
	char dir[sizeof(((struct sockaddr_un *)0)->sun_path)];
	snprintf(dir, sizeof(dir), "%s", path);
	char *slash = strrchr(dir, '/');
	if (!slash || slash == dir)
		return;
	*slash = '\0';
	/* 0755 whatever the umask, as mkdir(2) makes it (no chmod of a path afterwards):
	 * members of the control group must reach the socket */
	mode_t old = umask(022);
	GW_UNUSED_RESULT(mkdir(dir, 0755)); /* failed: bind(2) will say why */
	umask(old);
}

static int listen_at(struct control *ctl, const char *path, mode_t mode, char *err, size_t errlen)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	struct stat st;
	int rc;

	if (strlen(path) >= sizeof(sun.sun_path))
		return open_fail(-ENAMETOOLONG, err, errlen, "%s: path longer than %zu bytes",
				 path, sizeof(sun.sun_path) - 1);
	memcpy(sun.sun_path, path, strlen(path) + 1);
	snprintf(ctl->path, sizeof(ctl->path), "%s", path);
	make_parent(path);

	if (lstat(path, &st) == 0) {
		if (!S_ISSOCK(st.st_mode))
			return open_fail(-EEXIST, err, errlen,
					 "%s: exists and is not a socket; not removing it", path);
		rc = socket_alive(&sun);
		if (rc > 0)
			return open_fail(-EADDRINUSE, err, errlen,
					 "%s: another dtlsgwd answers on this socket", path);
		if (rc < 0)
			return open_fail(rc, err, errlen, "%s: %s", path, strerror(-rc));
		if (unlink(path) < 0 && errno != ENOENT)
			return open_fail(-errno, err, errlen, "%s: cannot remove stale socket: %s",
					 path, strerror(errno));
	} else if (errno != ENOENT) {
		return open_fail(-errno, err, errlen, "%s: %s", path, strerror(errno));
	}

	ctl->lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (ctl->lfd < 0)
		return open_fail(-errno, err, errlen, "socket: %s", strerror(errno));
	/* The file gets its mode and group as bind(2) creates it: the mode from the
	 * socket's own (fchmod) under a umask that lets exactly that through, the group
	 * from the filesystem gid. Nothing is done to the path afterwards, so a symlink or
	 * another file put there after bind() gets no chmod or chown. */
	mode &= 0777;
	if (fchmod(ctl->lfd, mode) < 0)
		return open_fail(-errno, err, errlen, "socket: fchmod: %s", strerror(errno));
	mode_t old = umask(~mode & 0777);
	int old_fsgid = ctl->has_group ? setfsgid(ctl->gid) : -1;
	rc = bind(ctl->lfd, (const struct sockaddr *)&sun, sizeof(sun));
	int e = errno;
	if (ctl->has_group)
		setfsgid((gid_t)old_fsgid);
	umask(old);
	if (rc < 0)
		return open_fail(-e, err, errlen, "%s: bind: %s", path, strerror(e));
	/* What is at the path now must be a socket of ours, as bind() made it. */
	if (lstat(path, &st) < 0) {
		e = errno;
		return open_fail(-e, err, errlen, "%s: %s", path, strerror(e));
	}
	if (!S_ISSOCK(st.st_mode) || st.st_uid != geteuid())
		return open_fail(-EEXIST, err, errlen,
				 "%s: replaced right after bind (now %s of uid %u); not touching it",
				 path, S_ISLNK(st.st_mode) ? "a symlink" : "not our socket",
				 (unsigned)st.st_uid);
	ctl->dev = st.st_dev;
	ctl->ino = st.st_ino;
	if ((st.st_mode & 0777) != mode) {
		unlink(path);
		return open_fail(-EPERM, err, errlen, "%s: mode %03o, not %03o", path,
				 (unsigned)(st.st_mode & 0777), (unsigned)mode);
	}
	if (ctl->has_group && st.st_gid != ctl->gid)
		ctl_log(ctl, GW_LOG_WARNING,
			"control: %s: cannot give the socket to group %s (it has gid %u)", path,
			ctl->group, (unsigned)st.st_gid);
	if (listen(ctl->lfd, 64) < 0) {
		e = errno;
		unlink(path);
		return open_fail(-e, err, errlen, "%s: listen: %s", path, strerror(e));
	}
	return 0;
}

int control_open(const char *path, const struct control_options *opt,
		 const struct control_ops *ops, void *ops_arg, struct control **out, char *err,
		 size_t errlen)
{
	static const struct control_options defaults;
	struct control *ctl;
	int rc;

	*out = NULL;
	if (errlen > 0)
		err[0] = '\0';
	if (!opt)
		opt = &defaults;
	ctl = calloc(1, sizeof(*ctl));
	if (!ctl)
		return open_fail(-ENOMEM, err, errlen, "out of memory");
	ctl->epfd = ctl->lfd = ctl->tfd = -1;
	if (ops)
		ctl->ops = *ops;
	ctl->arg = ops_arg;
	ctl->max_conns = opt->max_conns ? opt->max_conns : CONTROL_DEFAULT_MAX_CONNS;
	ctl->idle_ms = opt->idle_timeout_ms ? opt->idle_timeout_ms : CONTROL_DEFAULT_IDLE_TIMEOUT_MS;
	ctl->max_reply = opt->max_reply ? opt->max_reply : CONTROL_DEFAULT_MAX_REPLY;
	const char *group = opt->group ? opt->group : CONTROL_DEFAULT_GROUP;
	snprintf(ctl->group, sizeof(ctl->group), "%s", group);
	if (group[0]) {
		struct group gr, *res = NULL;
		char buf[4096];
		if (getgrnam_r(group, &gr, buf, sizeof(buf), &res) == 0 && res) {
			ctl->has_group = true;
			ctl->gid = gr.gr_gid;
		}
	}

	ctl->conns = calloc(ctl->max_conns, sizeof(*ctl->conns));
	if (!ctl->conns) {
		rc = open_fail(-ENOMEM, err, errlen, "out of memory");
		goto fail;
	}
	for (unsigned s = 0; s < ctl->max_conns; s++)
		ctl->conns[s].fd = -1;

	rc = listen_at(ctl, path, opt->mode ? opt->mode : CONTROL_DEFAULT_MODE, err, errlen);
	if (rc < 0)
		goto fail;

	ctl->epfd = epoll_create1(EPOLL_CLOEXEC);
	ctl->tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	if (ctl->epfd < 0 || ctl->tfd < 0) {
		rc = open_fail(-errno, err, errlen, "epoll/timerfd: %s", strerror(errno));
		goto fail_unlink;
	}
	struct epoll_event ev = { .events = EPOLLIN, .data.u64 = TAG_LISTENER };
	struct epoll_event tev = { .events = EPOLLIN, .data.u64 = TAG_TIMER };
	if (epoll_ctl(ctl->epfd, EPOLL_CTL_ADD, ctl->lfd, &ev) < 0 ||
	    epoll_ctl(ctl->epfd, EPOLL_CTL_ADD, ctl->tfd, &tev) < 0) {
		rc = open_fail(-errno, err, errlen, "epoll_ctl: %s", strerror(errno));
		goto fail_unlink;
	}
	*out = ctl;
	return 0;

fail_unlink:
	unlink(ctl->path);
fail:
	if (ctl->lfd >= 0)
		close(ctl->lfd);
	if (ctl->tfd >= 0)
		close(ctl->tfd);
	if (ctl->epfd >= 0)
		close(ctl->epfd);
	free(ctl->conns);
	free(ctl);
	return rc;
}

void control_close(struct control *ctl)
{
	struct stat st;

	if (!ctl)
		return;
	for (unsigned s = 0; s < ctl->max_conns; s++)
		conn_close(ctl, &ctl->conns[s]);
	if (lstat(ctl->path, &st) == 0 && st.st_dev == ctl->dev && st.st_ino == ctl->ino)
		unlink(ctl->path);
	close(ctl->lfd);
	close(ctl->tfd);
	close(ctl->epfd);
	free(ctl->conns);
	free(ctl);
}
