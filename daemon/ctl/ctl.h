/*
 * dtlsgwctl: talks to dtlsgwd over its control socket (daemon/control/protocol.h).
 * One file per subcommand; this header is what they share: the options, the
 * request/reply call, JSON getters, human units and the table printer.
 * Single-threaded, short-lived: errors are printed where they happen.
 */
#ifndef DTLSGW_CTL_H
#define DTLSGW_CTL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <json-c/json.h>

#include "daemon/control/protocol.h"

/* Exit codes. */
#define EXIT_OK 0
#define EXIT_DAEMON 1 /* the daemon answered with an error */
#define EXIT_USAGE 2  /* bad command line */
#define EXIT_CONN 3   /* no answer: cannot connect, timeout, broken reply */

#define CTL_DEFAULT_TIMEOUT_S 15
/* Longest reply line read from the daemon. */
#define CTL_REPLY_MAX (64u * 1024 * 1024 + 4096)

struct ctl {
	const char *socket;  /* control socket path */
	bool json;           /* print the daemon's result as JSON */
	bool pretty;         /* ... indented */
	unsigned timeout_s;  /* for the whole exchange */
};

/*
 * Send {"version":1,"command":command,"args":args} and wait for the reply.
 * args may be NULL and is consumed. On success *result holds the result (a
 * reference the caller puts; NULL for a JSON null) and the return is EXIT_OK.
 * Otherwise the problem has been printed to stderr and the return is
 * EXIT_DAEMON or EXIT_CONN.
 */
int ctl_call(const struct ctl *ctl, const char *command, struct json_object *args,
	     struct json_object **result);

/* Print result as JSON on stdout (compact, or indented with --pretty). */
void ctl_print_json(const struct ctl *ctl, const struct json_object *result);

/* Usage message of a subcommand: "usage: dtlsgwctl [options] <usage>", exit code 2. */
int ctl_usage(const char *usage);

/* A subcommand: argv[0] is its name. */
typedef int (*ctl_cmd_fn)(const struct ctl *ctl, int argc, char **argv);

int cmd_status(const struct ctl *ctl, int argc, char **argv);
int cmd_peers(const struct ctl *ctl, int argc, char **argv);
int cmd_peer(const struct ctl *ctl, int argc, char **argv);
int cmd_add_peer(const struct ctl *ctl, int argc, char **argv);
int cmd_remove_peer(const struct ctl *ctl, int argc, char **argv);
int cmd_disconnect(const struct ctl *ctl, int argc, char **argv);
int cmd_reload(const struct ctl *ctl, int argc, char **argv);
int cmd_stats(const struct ctl *ctl, int argc, char **argv);
int cmd_log_level(const struct ctl *ctl, int argc, char **argv);

/* Print a peer object as "key: value" lines (peer.c; add-peer uses it too). */
void print_peer(const struct json_object *peer);

/* ---- JSON getters (format.c): NULL/false when missing or of another type ---- */

const char *jstr(const struct json_object *o, const char *key);
bool jnum(const struct json_object *o, const char *key, uint64_t *out);
const struct json_object *jobj(const struct json_object *o, const char *key);
const struct json_object *jarr(const struct json_object *o, const char *key);

/* ---- human units (format.c): each writes into buf and returns it ---------- */

#define FMT_MAX 64
/* 0 B, 999 B, 1.2 KiB, 34 MiB, 5.0 GiB */
const char *fmt_bytes(uint64_t n, char buf[static FMT_MAX]);
/* 42 s, 3 min 5 s, 2 h 5 min, 3 d 4 h */
const char *fmt_duration(uint64_t seconds, char buf[static FMT_MAX]);
/* The unix time member key of o relative to now: "never" (missing or null),
 * "just now", "5 s ago", "3 min ago", "2 h ago", "4 d ago". */
const char *fmt_ago(const struct json_object *o, const char *key, uint64_t now,
		    char buf[static FMT_MAX]);
/* "policy 1, replay 2" for a drops object, "-" if none; total in *sum if not NULL. */
const char *fmt_drops(const struct json_object *drops, char *buf, size_t len, uint64_t *sum);
/* The members of an array of strings joined by ", ", "-" if empty. */
const char *fmt_list(const struct json_object *arr, char *buf, size_t len);

/* ---- aligned tables (table.c) -------------------------------------------- */

struct table {
	size_t ncols, nrows, cap;
	char **cells;     /* nrows * ncols owned strings */
	bool right[16];   /* right-align column i */
	bool header;      /* the first row is a header */
};

void table_init(struct table *t, size_t ncols);
/* Append a row of ncols strings (copied). Exits on out of memory. */
void table_add(struct table *t, const char *const *cells);
/* Columns separated by two spaces, padded to their widest cell (UTF-8 aware);
 * the last column is not padded. */
void table_print(const struct table *t, FILE *f);
void table_free(struct table *t);

/* "key:" / value rows, keys aligned: a table of 2 columns without header. */
void kv_row(struct table *t, const char *key, const char *value);

#endif
