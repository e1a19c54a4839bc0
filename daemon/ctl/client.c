/* dtlsgwctl: one request and one reply over the control socket, with a deadline. */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "daemon/ctl/ctl.h"

static uint64_t mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static int connect_to(const char *path)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };

	if (strlen(path) >= sizeof(sun.sun_path)) {
		fprintf(stderr, "dtlsgwctl: %s: socket path too long\n", path);
		return -1;
	}
	memcpy(sun.sun_path, path, strlen(path) + 1);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0) {
		fprintf(stderr, "dtlsgwctl: socket: %s\n", strerror(errno));
		return -1;
	}
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == 0 || errno == EINPROGRESS ||
	    errno == EAGAIN)
		return fd;
	int e = errno;
	close(fd);
	const char *hint = "";
	if (e == ENOENT || e == ECONNREFUSED)
		hint = " (is dtlsgwd running?)";
	else if (e == EACCES || e == EPERM)
		hint = " (root or group " CONTROL_DEFAULT_GROUP " needed)";
	fprintf(stderr, "dtlsgwctl: cannot connect to %s: %s%s\n", path, strerror(e), hint);
	return -1;
}

/* Wait for events on fd until the deadline; 1 ready, 0 timeout, -1 error. */
static int wait_for(int fd, short events, uint64_t deadline)
{
	for (;;) {
		uint64_t now = mono_ms();
		if (now >= deadline)
			return 0;
		struct pollfd p = { .fd = fd, .events = events };
		int n = poll(&p, 1, (int)(deadline - now));
		if (n < 0 && errno == EINTR)
			continue;
		return n < 0 ? -1 : n > 0;
	}
}

static int send_all(int fd, const char *buf, size_t len, uint64_t deadline)
{
	size_t off = 0;
	while (off < len) {
		ssize_t n = send(fd, buf + off, len - off, MSG_NOSIGNAL);
		if (n > 0) {
			off += (size_t)n;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN) {
			int w = wait_for(fd, POLLOUT, deadline);
			if (w > 0)
				continue;
			if (w == 0)
				errno = ETIMEDOUT;
		}
		return -1;
	}
	return 0;
}

/* Read one line into *line (malloc'd, NUL-terminated, newline removed). */
static int read_line(int fd, char **line, uint64_t deadline, unsigned timeout_s)
{
	size_t cap = 4096, len = 0;
	char *buf = malloc(cap);

	if (!buf) {
		fprintf(stderr, "dtlsgwctl: out of memory\n");
		return -1;
	}
	for (;;) {
		if (len > 0 && memchr(buf + len - 1, '\n', 1))
			break;
		if (len + 1 >= cap) {
			if (cap >= CTL_REPLY_MAX) {
				fprintf(stderr, "dtlsgwctl: reply longer than %u bytes\n",
					CTL_REPLY_MAX);
				goto fail;
			}
			char *nb = realloc(buf, cap * 2);
			if (!nb) {
				fprintf(stderr, "dtlsgwctl: out of memory\n");
				goto fail;
			}
			buf = nb;
			cap *= 2;
		}
		ssize_t n = recv(fd, buf + len, cap - 1 - len, 0);
		if (n > 0) {
			/* stop at the first newline: one request, one reply */
			char *nl = memchr(buf + len, '\n', (size_t)n);
			len = nl ? (size_t)(nl - buf) + 1 : len + (size_t)n;
			continue;
		}
		if (n == 0) {
			fprintf(stderr, "dtlsgwctl: dtlsgwd closed the connection without a reply\n");
			goto fail;
		}
		if (errno == EINTR)
			continue;
		if (errno == EAGAIN) {
			int w = wait_for(fd, POLLIN, deadline);
			if (w > 0)
				continue;
			if (w == 0) {
				fprintf(stderr, "dtlsgwctl: no reply from dtlsgwd within %u s\n",
					timeout_s);
				goto fail;
			}
		}
		fprintf(stderr, "dtlsgwctl: reading the reply: %s\n", strerror(errno));
		goto fail;
	}
	buf[len - 1] = '\0';
	*line = buf;
	return 0;
fail:
	free(buf);
	return -1;
}

static struct json_object *build_request(const char *command, struct json_object *args)
{
	struct json_object *req = json_object_new_object();
	if (!req) {
		json_object_put(args);
		return NULL;
	}
	json_object_object_add(req, CONTROL_F_VERSION, json_object_new_int(CONTROL_PROTOCOL_VERSION));
	json_object_object_add(req, CONTROL_F_COMMAND, json_object_new_string(command));
	if (args)
		json_object_object_add(req, CONTROL_F_ARGS, args);
	return req;
}

/* Check the envelope of a reply; EXIT_OK with *result, or a printed error. */
static int unwrap(const char *line, struct json_object **result)
{
	struct json_tokener *tok = json_tokener_new();
	struct json_object *reply = tok ? json_tokener_parse_ex(tok, line, (int)strlen(line)) : NULL;
	bool complete = tok && json_tokener_get_error(tok) == json_tokener_success;
	struct json_object *v;
	int rc = EXIT_CONN;

	json_tokener_free(tok);
	if (!complete || !json_object_is_type(reply, json_type_object)) {
		fprintf(stderr, "dtlsgwctl: malformed reply from dtlsgwd\n");
		goto out;
	}
	if (!json_object_object_get_ex(reply, CONTROL_F_VERSION, &v) ||
	    json_object_get_int(v) != CONTROL_PROTOCOL_VERSION) {
		fprintf(stderr, "dtlsgwctl: reply of an unknown protocol version\n");
		goto out;
	}
	if (!json_object_object_get_ex(reply, CONTROL_F_OK, &v) ||
	    !json_object_is_type(v, json_type_boolean)) {
		fprintf(stderr, "dtlsgwctl: malformed reply from dtlsgwd\n");
		goto out;
	}
	if (!json_object_get_boolean(v)) {
		const char *msg = jstr(reply, CONTROL_F_ERROR);
		fprintf(stderr, "dtlsgwctl: %s\n", msg ? msg : "the daemon reported an error");
		rc = EXIT_DAEMON;
		goto out;
	}
	*result = NULL;
	if (json_object_object_get_ex(reply, CONTROL_F_RESULT, &v))
		*result = json_object_get(v);
	rc = EXIT_OK;
out:
	json_object_put(reply);
	return rc;
}

int ctl_call(const struct ctl *ctl, const char *command, struct json_object *args,
	     struct json_object **result)
{
	uint64_t deadline = mono_ms() + (uint64_t)ctl->timeout_s * 1000;
	char *line = NULL;
	int rc = EXIT_CONN;

	*result = NULL;
	struct json_object *req = build_request(command, args);
	if (!req) {
		fprintf(stderr, "dtlsgwctl: out of memory\n");
		return EXIT_CONN;
	}
	int fd = connect_to(ctl->socket);
	if (fd < 0)
		goto out;
	/* A nonblocking connect to a Unix socket completes at once or is refused
	 * with EAGAIN when the backlog is full: then wait to be able to write. */
	size_t len;
	const char *text = json_object_to_json_string_length(
		req, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE, &len);
	if (send_all(fd, text, len, deadline) < 0 || send_all(fd, "\n", 1, deadline) < 0) {
		if (errno == ETIMEDOUT)
			fprintf(stderr, "dtlsgwctl: dtlsgwd did not take the request within %u s\n",
				ctl->timeout_s);
		else
			fprintf(stderr, "dtlsgwctl: sending to %s: %s\n", ctl->socket,
				strerror(errno));
		goto out;
	}
	if (read_line(fd, &line, deadline, ctl->timeout_s) < 0)
		goto out;
	rc = unwrap(line, result);
out:
	if (fd >= 0)
		close(fd);
	free(line);
	json_object_put(req);
	return rc;
}

void ctl_print_json(const struct ctl *ctl, const struct json_object *result)
{
	int flags = JSON_C_TO_STRING_NOSLASHESCAPE |
		    (ctl->pretty ? JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED
				 : JSON_C_TO_STRING_PLAIN);
	/* json-c takes a non-const object to cache the text; result is not changed */
	puts(json_object_to_json_string_ext((struct json_object *)result, flags));
}
