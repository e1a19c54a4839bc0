/* Permission-checked reading of secret files. */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "daemon/secret_file.h"

/* The user the daemon runs as after dropping root, set once at start-up. */
static uid_t drop_owner = (uid_t)-1;

void secret_file_set_owner(uid_t uid)
{
	drop_owner = uid;
}

static int fail(int err, char *why, size_t whylen, const char *msg)
{
	if (why && whylen)
		snprintf(why, whylen, "%s", msg);
	return err;
}

int secret_file_open(const char *path, char *why, size_t whylen)
{
	struct stat st;
	char msg[96];
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);

	if (fd < 0) {
		int err = errno;
		snprintf(msg, sizeof(msg), "cannot open: %s", strerror(err));
		return fail(-err, why, whylen, msg);
	}
	if (fstat(fd, &st) < 0) {
		int err = errno;
		close(fd);
		snprintf(msg, sizeof(msg), "cannot stat: %s", strerror(err));
		return fail(-err, why, whylen, msg);
	}
	const char *bad = NULL;
	if (!S_ISREG(st.st_mode))
		bad = "is not a regular file";
	else if (st.st_mode & (S_IRGRP | S_IROTH))
		bad = "is readable by others; chmod 600";
	else if (st.st_mode & (S_IWGRP | S_IWOTH))
		bad = "is writable by others; chmod 600";
	else if (st.st_mode & (S_IXGRP | S_IXOTH))
		bad = "is accessible by others; chmod 600";
	else if (st.st_uid != 0 && st.st_uid != geteuid() && st.st_uid != drop_owner)
		bad = "is not owned by root or the daemon's user";
	if (bad) {
		close(fd);
		return fail(-EPERM, why, whylen, bad);
	}
	return fd;
}

int secret_file_check(const char *path, char *why, size_t whylen)
{
	int fd = secret_file_open(path, why, whylen);

	if (fd < 0)
		return fd;
	close(fd);
	return 0;
}

/* Reads fd to its end into buf[0..cap) and NUL-terminates it; -EFBIG if it does not
 * fit. On error buf is wiped. */
static int read_all(int fd, char *buf, size_t cap, size_t *len, char *why, size_t whylen)
{
	size_t n = 0;
	int rc = 0;

	if (cap == 0)
		return fail(-EFBIG, why, whylen, "is too large");
	for (;;) {
		ssize_t r = read(fd, buf + n, cap - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			int err = errno;
			char msg[96];
			snprintf(msg, sizeof(msg), "cannot read: %s", strerror(err));
			rc = fail(-err, why, whylen, msg);
			break;
		}
		if (r == 0)
			break;
		n += (size_t)r;
		if (n == cap) {
			rc = fail(-EFBIG, why, whylen, "is too large");
			break;
		}
	}
	if (rc < 0) {
		explicit_bzero(buf, cap);
		return rc;
	}
	buf[n] = '\0';
	*len = n;
	return 0;
}

int secret_file_read(const char *path, char *buf, size_t cap, size_t *len, char *why,
		     size_t whylen)
{
	int fd = secret_file_open(path, why, whylen);

	if (fd < 0)
		return fd;
	int rc = read_all(fd, buf, cap, len, why, whylen);
	close(fd);
	return rc;
}

int secret_file_load(const char *path, size_t max, uint8_t **out, size_t *len, char *why,
		     size_t whylen)
{
	struct stat st;
	int fd = secret_file_open(path, why, whylen), rc;

	*out = NULL;
	*len = 0;
	if (fd < 0)
		return fd;
	if (fstat(fd, &st) < 0) {
		rc = -errno;
		close(fd);
		return fail(rc, why, whylen, "cannot stat");
	}
	if (st.st_size < 0 || (uint64_t)st.st_size > max) {
		close(fd);
		return fail(-EFBIG, why, whylen, "is too large");
	}
	/* room for one byte more than fstat saw, to tell a file that grew since */
	size_t cap = (size_t)st.st_size + 2;
	char *buf = malloc(cap);
	if (!buf) {
		close(fd);
		return fail(-ENOMEM, why, whylen, "out of memory");
	}
	rc = read_all(fd, buf, cap, len, why, whylen);
	close(fd);
	if (rc == 0 && *len > max)
		rc = fail(-EFBIG, why, whylen, "is too large");
	if (rc < 0) {
		secret_file_free((uint8_t *)buf, cap);
		*len = 0;
		return rc;
	}
	*out = (uint8_t *)buf;
	return 0;
}

void secret_file_free(uint8_t *buf, size_t len)
{
	if (buf) {
		explicit_bzero(buf, len);
		free(buf);
	}
}
