/*
 * Files that hold secrets (PSK files, private keys). Like ssh with its keys, they
 * are refused unless they are regular files that only their owner may access, and
 * that owner is root, the daemon's own user, or the user it drops to.
 */
#ifndef DTLSGW_DAEMON_SECRET_FILE_H
#define DTLSGW_DAEMON_SECRET_FILE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define SECRET_FILE_MUST_CHECK __attribute__((warn_unused_result))

/* The largest private key file secret_file_load() is asked to read: libdtls's limit. */
#define SECRET_FILE_KEY_MAX (1u << 20)

/* Also accept files owned by uid: the user a daemon started as root drops to (it reads
 * the files again on reload, as that user). Set once, before any file is read. */
void secret_file_set_owner(uid_t uid);

/* Open path read-only after checking it (on the open descriptor, so no race).
 * Returns the fd, or -errno / -EPERM with why set, e.g. "is readable by others;
 * chmod 600". */
int secret_file_open(const char *path, char *why, size_t whylen) SECRET_FILE_MUST_CHECK;

/* secret_file_open() and close: just the check. Returns 0 or as above. */
int secret_file_check(const char *path, char *why, size_t whylen) SECRET_FILE_MUST_CHECK;

/*
 * Read the whole (checked) file into buf[0..cap) and NUL-terminate it; *len gets
 * its length. -EFBIG if it does not fit. On error buf is wiped.
 */
int secret_file_read(const char *path, char *buf, size_t cap, size_t *len, char *why,
		     size_t whylen) SECRET_FILE_MUST_CHECK;

/*
 * Open path, check it (as secret_file_open()) and read it whole into a new buffer,
 * all through the one descriptor: what is read is the file that was checked, even if
 * the path is made to point elsewhere in between. For a file another library loads
 * (the gateway's private key: dtls_config_add_local_cert_mem()) instead of a path.
 * *out gets len bytes and a NUL after them; -EFBIG if the file holds more than max
 * bytes. The caller wipes and frees *out with secret_file_free(*out, *len).
 */
int secret_file_load(const char *path, size_t max, uint8_t **out, size_t *len, char *why,
		     size_t whylen) SECRET_FILE_MUST_CHECK;

/* Wipe buf[0..len) and free it. NULL is fine. */
void secret_file_free(uint8_t *buf, size_t len);

#endif
