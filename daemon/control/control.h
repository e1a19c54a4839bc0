/*
 * The control server of dtlsgwd: a Unix stream socket speaking one JSON
 * request per line and one JSON reply per line (daemon/control/protocol.h,
 * docs/control-protocol.md), for dtlsgwctl(8) and scripts.
 *
 * Threads: none of its own. The daemon creates the server on its control
 * thread, adds control_fd() to that thread's epoll set (EPOLLIN, level
 * triggered) and calls control_handle() whenever it is readable. Everything
 * else (accepting, reading, writing, idle timeouts) happens inside
 * control_handle(), nonblocking: a slow, silent or hostile client never blocks
 * the caller. The ops callbacks run on that same thread, inside
 * control_handle(), one at a time; other clients wait while one runs, so they
 * should return promptly. A struct control is not thread-safe: use it from one
 * thread only.
 *
 * Who may do what (SO_PEERCRED on each connection):
 *  - status, peers, peer, stats: anyone who can connect. The socket's mode and
 *    group (0660 root:dtlsgw by default) already decide who can connect.
 *  - add-peer, remove-peer, disconnect, reload, log-level: root, the daemon's
 *    own effective uid, and members of the control group (the group of
 *    struct control_options; "dtlsgw" by default), as primary group, as a
 *    supplementary group of the connecting process (SO_PEERGROUPS) or as a
 *    member in the group database (getgrouplist() of the peer's user).
 *    Others get "permission denied" and the refusal is logged through
 *    ops->log at warning level.
 *
 * Limits (struct control_options): at most max_conns connections at a time
 * (the next one gets an error reply and is closed); a request line is at most
 * CONTROL_LINE_MAX bytes (a longer one gets an error reply and the connection
 * is closed); a connection that goes idle_timeout_ms without completing a
 * request (or without reading its reply) is closed. Replies are written in
 * full before the next request of that connection is read.
 */
#ifndef DTLSGW_CONTROL_CONTROL_H
#define DTLSGW_CONTROL_CONTROL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include <json-c/json_object.h>

#include "daemon/config.h" /* enum gw_log_level */
#include "daemon/control/protocol.h"
#include "policy/peer.h"   /* PEER_NAME_MAX, peer_name_valid() */

#define CONTROL_MUST_CHECK __attribute__((warn_unused_result))

/* Room for an error message of an op, NUL included; longer ones are cut. */
#define CONTROL_ERR_MAX 256

#define CONTROL_DEFAULT_MODE 0660
#define CONTROL_DEFAULT_MAX_CONNS 32
#define CONTROL_DEFAULT_IDLE_TIMEOUT_MS 10000
#define CONTROL_DEFAULT_MAX_REPLY (64u * 1024 * 1024)

/* ---- Requests ------------------------------------------------------------ */

enum control_command {
	CONTROL_STATUS,
	CONTROL_PEERS,
	CONTROL_PEER,
	CONTROL_ADD_PEER,
	CONTROL_REMOVE_PEER,
	CONTROL_DISCONNECT,
	CONTROL_RELOAD,
	CONTROL_STATS,
	CONTROL_LOG_LEVEL,
};
#define CONTROL_N_COMMANDS 9

/* The wire name of a command ("add-peer"), or "?" for a value out of range. */
const char *control_command_name(enum control_command cmd);

/* Whether a command changes the gateway (and so needs privileges, see above). */
bool control_command_mutates(enum control_command cmd);

/* One add-peer setting, as a line "key = value" of a [peer NAME] section of
 * dtlsgw.conf(5). key is 1..CONTROL_KEY_MAX of [a-z0-9_]; value is
 * 0..CONTROL_VALUE_MAX bytes with no control characters (so no newline). */
struct control_kv {
	char *key;   /* owned by the request */
	char *value; /* owned by the request */
};

/* A request, validated: every field meaningful for its command holds a value
 * that passed the checks below; the others are zero. */
struct control_request {
	enum control_command command;
	char name[PEER_NAME_MAX + 1]; /* peer, add-peer, remove-peer, disconnect:
				       * a valid peer name (peer_name_valid()) */
	struct control_kv *kv;        /* add-peer: owned array of n_kv settings, */
	size_t n_kv;                  /* in request order, keys may repeat */
	enum gw_log_level level;      /* log-level */
};

/*
 * Parse one request line line[0..len) (a trailing "\n" or "\r\n" is allowed,
 * nothing else after the object). A pure function: no I/O, no globals, safe on
 * any bytes (NUL bytes included) and any len; suitable for fuzzing.
 *
 * Checks: len <= CONTROL_LINE_MAX; strict JSON of at most CONTROL_JSON_DEPTH
 * levels, valid UTF-8; a top-level object with exactly the members "version"
 * (the integer CONTROL_PROTOCOL_VERSION), "command" (a known command name) and
 * optionally "args" (an object whose members are exactly the arguments of the
 * command, each of the right type and valid).
 *
 * Returns 0 with *out filled (the caller clears it with control_request_clear()),
 * or -EINVAL with *out empty and a one-line message in err[0..errlen) (always
 * NUL-terminated when errlen > 0) meant for the client, or -ENOMEM.
 */
int control_parse_request(const char *line, size_t len, struct control_request *out, char *err,
			  size_t errlen) CONTROL_MUST_CHECK;

/* Free what req owns and zero it. An all-zero request is fine to clear. */
void control_request_clear(struct control_request *req);

/*
 * The add-peer settings as dtlsgw.conf(5) text, for the daemon to validate
 * with its config parser: "[peer NAME]\nkey = value\n..." in request order.
 * Sets *out to a malloc'd NUL-terminated string the caller frees. 0 or -ENOMEM.
 */
int control_settings_ini(const char *name, const struct control_kv *kv, size_t n_kv,
			 char **out) CONTROL_MUST_CHECK;

/* The log level of a name ("error", "warning", "notice", "info", "debug");
 * -EINVAL for anything else. */
int control_log_level_parse(const char *name, enum gw_log_level *out) CONTROL_MUST_CHECK;
const char *control_log_level_name(enum gw_log_level level);

/* ---- Replies (pure; the server uses them, tests may too) ------------------- */

/*
 * The reply line for a success, "{"version":1,"ok":true,"result":...}\n";
 * result may be NULL (JSON null) and is not consumed. Sets *line (malloc'd,
 * NUL-terminated, the caller frees) and *len (bytes, newline included).
 * 0 or -ENOMEM.
 */
int control_reply_ok(const struct json_object *result, char **line, size_t *len) CONTROL_MUST_CHECK;

/* The reply line for a failure, "{"version":1,"ok":false,"error":"..."}\n". */
int control_reply_error(const char *message, char **line, size_t *len) CONTROL_MUST_CHECK;

/* ---- What the daemon provides --------------------------------------------- */

/*
 * The daemon's side. Every command op returns 0 and may set *result to a new
 * json_object whose reference passes to the control server (leaving it NULL
 * replies with a JSON null), or returns a negative value with a one-line
 * message in err[0..errlen) (errlen is CONTROL_ERR_MAX), which becomes the
 * error reply; a failing op must not set *result.
 * The JSON shape of each result is in docs/control-protocol.md.
 *
 * An op left NULL makes its command reply "not supported by this daemon",
 * except:
 *  - peer: NULL means the server calls peers and picks the element whose
 *    "name" matches ("peer NAME: no such peer" if none);
 *  - stats_prometheus: NULL means the server calls status and peers and
 *    renders them with control_prometheus_render();
 *  - log: NULL means nothing is logged.
 * Every op runs on the thread that called control_handle().
 */
struct control_ops {
	int (*status)(void *arg, struct json_object **result, char *err, size_t errlen);
	int (*peers)(void *arg, struct json_object **result, char *err, size_t errlen);
	int (*peer)(void *arg, const char *name, struct json_object **result, char *err,
		    size_t errlen);
	/* kv: the settings of a [peer NAME] section (see control_settings_ini()).
	 * The strings live until the op returns. */
	int (*add_peer)(void *arg, const char *name, const struct control_kv *kv, size_t n_kv,
			struct json_object **result, char *err, size_t errlen);
	/* Remove the peer; its session ends with close_notify. */
	int (*remove_peer)(void *arg, const char *name, struct json_object **result, char *err,
			   size_t errlen);
	/* End the peer's session; an initiator dials again. */
	int (*disconnect)(void *arg, const char *name, struct json_object **result, char *err,
			  size_t errlen);
	/* As SIGHUP. */
	int (*reload)(void *arg, struct json_object **result, char *err, size_t errlen);
	/* Set *text to a malloc'd NUL-terminated Prometheus exposition the server frees. */
	int (*stats_prometheus)(void *arg, char **text, char *err, size_t errlen);
	int (*log_level)(void *arg, enum gw_log_level level, struct json_object **result,
			 char *err, size_t errlen);
	/* One line (no newline) about the control socket: refusals, errors, and an
	 * info line per command that changes something. */
	void (*log)(void *arg, enum gw_log_level level, const char *msg);
};

/* ---- The server ------------------------------------------------------------ */

/* Zero in any field means its default. */
struct control_options {
	mode_t mode;              /* socket file mode; default CONTROL_DEFAULT_MODE (0660) */
	const char *group;        /* group owning the socket and allowed to change things;
				   * NULL: CONTROL_DEFAULT_GROUP; "": none. A group that does
				   * not exist is not an error: the socket keeps the
				   * daemon's group and only root (and the daemon's uid)
				   * may change things. */
	unsigned max_conns;       /* default CONTROL_DEFAULT_MAX_CONNS */
	unsigned idle_timeout_ms; /* default CONTROL_DEFAULT_IDLE_TIMEOUT_MS */
	size_t max_reply;         /* bytes of one reply line; a bigger result becomes an
				   * error reply. Default CONTROL_DEFAULT_MAX_REPLY */
};

struct control;

/*
 * Create the control socket at path (at most 107 bytes) and start listening.
 * If the parent directory is missing it is created (mode 0755, one level).
 * If path exists: a socket that a running server answers on is left alone
 * (-EADDRINUSE, "another dtlsgwd is running"); a stale socket is removed;
 * anything else is refused (-EEXIST). The socket file gets opt->mode and the
 * control group; umask is changed around bind(2) so the file is never more
 * open than that (call this at startup, before threads that create files).
 * ops is copied; ops_arg is passed to every op.
 *
 * Returns 0 and *out, or a negative errno with a message in err[0..errlen).
 */
int control_open(const char *path, const struct control_options *opt,
		 const struct control_ops *ops, void *ops_arg, struct control **out, char *err,
		 size_t errlen) CONTROL_MUST_CHECK;

/* The one descriptor the caller polls for EPOLLIN. It becomes readable when a
 * client connects, sends, can take more of its reply, or a timeout is due. */
int control_fd(const struct control *ctl);

/*
 * Do all pending work: accept, read, answer, write, drop idle connections.
 * now is CLOCK_MONOTONIC in milliseconds (now_ms() of daemon/log.h). Never
 * blocks; the ops it calls are the only things that take time.
 */
void control_handle(struct control *ctl, uint64_t now);

/* Connections currently open. */
unsigned control_connections(const struct control *ctl);

/* Close every connection and the socket, and remove the socket file if it is
 * still the one this server created. NULL is fine. */
void control_close(struct control *ctl);

/* ---- Prometheus text exposition (format 0.0.4) ----------------------------- */

/*
 * Write the metrics of a status result (docs/control-protocol.md) to out:
 * dtlsgw_info, dtlsgw_uptime_seconds, dtlsgw_workers, dtlsgw_peers,
 * dtlsgw_sessions, dtlsgw_{rx,tx}_{bytes,packets}_total and
 * dtlsgw_drops_total{reason}. Members that are missing or of the wrong type
 * are skipped. 0, or -EIO if writing to out failed.
 */
int control_prometheus_status(FILE *out, const struct json_object *status) CONTROL_MUST_CHECK;

/*
 * Write the per-peer metrics of a peers result (an array of peer objects):
 * dtlsgw_peer_up, dtlsgw_peer_state{state}, dtlsgw_peer_{rx,tx}_{bytes,packets}_total,
 * dtlsgw_peer_drops_total{reason}, dtlsgw_peer_last_handshake_seconds,
 * dtlsgw_peer_last_rx_seconds, each family under one # HELP and # TYPE.
 * 0 or -EIO.
 */
int control_prometheus_peers(FILE *out, const struct json_object *peers) CONTROL_MUST_CHECK;

/* Both into a malloc'd NUL-terminated string the caller frees; status or peers
 * may be NULL. 0, -ENOMEM or -EIO. */
int control_prometheus_render(const struct json_object *status, const struct json_object *peers,
			      char **text) CONTROL_MUST_CHECK;

#endif
