/*
 * dtlsgw.conf(5): the gateway configuration, parsed with inih and validated as a
 * whole. Every problem is reported (not only the first), each as one line
 * "FILE:LINE: [section] key: why", in file order.
 *
 * Ownership: config_load()/config_parse_buffer() give the caller a gw_config it
 * frees with config_free() (which also wipes the PSKs). The diagnostics belong to
 * the caller's struct config_diags, freed with config_diags_free().
 * Nothing here is thread-safe or needs to be: the main thread loads a config, then
 * hands read-only copies of what the workers need (for example a policy_set).
 */
#ifndef DTLSGW_DAEMON_CONFIG_H
#define DTLSGW_DAEMON_CONFIG_H

#include <net/if.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <sys/socket.h>

#include "policy/peer.h"
#include "policy/prefix.h"

#define CONFIG_MUST_CHECK __attribute__((warn_unused_result))

#define CONFIG_DEFAULT_PATH "/etc/dtlsgw/dtlsgw.conf"
#define CONFIG_DEFAULT_LISTEN "[::]:4433"
#define CONFIG_DEFAULT_TUN_NAME "dtlsgw0"
#define CONFIG_DEFAULT_MTU 1400
#define CONFIG_DEFAULT_KEEPALIVE 10
#define CONFIG_DEFAULT_MAX_SESSIONS 4096
#define CONFIG_DEFAULT_MAX_HALFOPEN 2048
#define CONFIG_DEFAULT_MAX_HALFOPEN_ADDR 64
#define CONFIG_DEFAULT_HALFOPEN_TIMEOUT 10
#define CONFIG_DEFAULT_CONTROL_SOCKET "/run/dtlsgw/control.sock"
#define CONFIG_MAX_PEERS 65536

enum gw_log_level {
	GW_LOG_ERROR,
	GW_LOG_WARNING,
	GW_LOG_NOTICE,
	GW_LOG_INFO,
	GW_LOG_DEBUG,
};

struct gw_config {
	struct sockaddr_storage listen; /* UDP address:port to serve on */
	socklen_t listen_len;
	char tun_name[IFNAMSIZ];        /* may hold a "%d" for the kernel to fill */
	struct ip_prefix *tun_addrs;    /* owned; host bits kept ("10.0.0.1/24") */
	size_t n_tun_addrs;             /* at least one */
	unsigned mtu;                   /* underlay path MTU as UDP payload bytes */
	unsigned workers;               /* 0: one per online CPU */
	char **ciphers;                 /* owned suite names in preference order; */
	size_t n_ciphers;               /* none: the library's default order */
	unsigned keepalive;             /* seconds; 0: none */
	unsigned dead_after;            /* seconds of silence before a session is dropped; 0: never */
	unsigned max_sessions;
	/* Server handshakes past the cookie exchange but not yet authorized (the client's
	 * Finished): at most this many (the oldest goes for a new one), this many per
	 * source address (more are refused), and none older than the timeout (s). */
	unsigned max_halfopen, max_halfopen_per_address, halfopen_timeout;
	char *control_socket;           /* owned path */
	enum gw_log_level log_level;
	bool offload;                   /* TUN/UDP segmentation offloads */
	char *cert, *key, *ca;          /* owned paths of the gateway's X.509 identity and
					 * trust anchors, or NULL; relative paths are
					 * resolved against the config file's directory */
	struct peer_policy *peers;      /* owned, n_peers, configuration order */
	size_t n_peers;
};

struct config_diag {
	unsigned line;  /* 0: about the file as a whole */
	bool warning;   /* a warning does not fail the load */
	char *text;     /* owned: "FILE:LINE: [section] key: why" */
};

/* Diagnostics of one load, sorted by line. At most CONFIG_DIAGS_MAX are kept;
 * n_errors and n_warnings count all of them, dropped counts the ones not kept. */
#define CONFIG_DIAGS_MAX 200
struct config_diags {
	struct config_diag *v;
	size_t n;
	size_t n_errors, n_warnings, dropped;
};

/* Empty diagnostics (all zero is also empty). */
void config_diags_init(struct config_diags *d);
void config_diags_free(struct config_diags *d);

/* Print one diagnostic per line to f, then "... and N more" if some were dropped. */
void config_diags_print(const struct config_diags *d, FILE *f);

/*
 * Read and validate the configuration file at path. On success *out is a new
 * config and the return is 0 (diags may still hold warnings). Otherwise *out is
 * NULL and the return is -EINVAL (the config is invalid: diags says why), -errno
 * if the file cannot be read (also in diags), or -ENOMEM.
 * diags must be initialized; new diagnostics are added to it.
 */
int config_load(const char *path, struct gw_config **out,
		struct config_diags *diags) CONFIG_MUST_CHECK;

/*
 * The same for the text buf[0..len) (NUL bytes in it are errors, not the end).
 * name is the file name used in messages; relative paths in the config are
 * resolved against its directory.
 */
int config_parse_buffer(const char *name, const char *buf, size_t len, struct gw_config **out,
			struct config_diags *diags) CONFIG_MUST_CHECK;

/*
 * A configuration file with the changes made to it at run time (dtlsgwctl add-peer and
 * remove-peer): the buffer holds the file (its first head_lines lines), then [peer NAME]
 * sections added at run time.
 *
 * Removed peers: a [peer NAME] section that starts within the head and whose NAME is
 * one of drop[0..n_drop) is skipped as if it were not there (its keys are neither read
 * nor checked). The whole-set checks (names, identities, overlapping prefixes) then see
 * only the peers that stay, so a section after the head may take a left-out peer's
 * name, identity or prefixes. NAME is the parser's own reading of the header line
 * (after it trims blanks, \v, \f and a UTF-8 byte order mark): a peer left out here is
 * exactly the one of that name that config_parse_buffer() would return.
 *
 * Added sections: lines first..last of origins[i] came from the change origins[i].what
 * ("add-peer s4"), not from the file. A diagnostic about such a line cites the change
 * instead of the file ("add-peer s4: allowed_ips: ...", without the [peer s4] label its
 * section would add), and so does a reference to such a line in a message ("overlaps
 * 10.1.2.0/24 of peer s3 (add-peer s3)"): no line past the end of the file is cited.
 */
struct config_origin {
	unsigned first, last;
	const char *what;
};

struct config_overlay {
	unsigned head_lines;
	const char *const *drop;
	size_t n_drop;
	const struct config_origin *origins;
	size_t n_origins;
};

/* config_parse_buffer() of a file with its run-time changes (struct config_overlay). */
int config_parse_overlay(const char *name, const char *buf, size_t len,
			 const struct config_overlay *ov, struct gw_config **out,
			 struct config_diags *diags) CONFIG_MUST_CHECK;

/* Free a config and wipe its keys. NULL is fine. */
void config_free(struct gw_config *cfg);

/* "error", "warning", ... */
const char *config_log_level_name(enum gw_log_level level);

#endif
