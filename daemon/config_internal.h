/* Private to the config parser: the parse state shared by config.c (reading,
 * sections, keys) and config_check.c (whole-file validation). */
#ifndef DTLSGW_DAEMON_CONFIG_INTERNAL_H
#define DTLSGW_DAEMON_CONFIG_INTERNAL_H

#include <stdarg.h>
#include <stdint.h>

#include "daemon/config.h"

#define CONFIG_LINE_CAP 4096 /* our line buffer; inih's own limit is usually lower */

enum gw_key {
	GK_LISTEN,
	GK_TUN_NAME,
	GK_TUN_ADDRESS,
	GK_MTU,
	GK_WORKERS,
	GK_CIPHERS,
	GK_KEEPALIVE,
	GK_DEAD_AFTER,
	GK_MAX_SESSIONS,
	GK_CONTROL_SOCKET,
	GK_LOG_LEVEL,
	GK_OFFLOAD,
	GK_CERT,
	GK_KEY,
	GK_CA,
	GK_MAX_HALFOPEN,
	GK_MAX_HALFOPEN_ADDR,
	GK_HALFOPEN_TIMEOUT,
	GK_COUNT,
};

enum peer_key {
	PK_PSK_IDENTITY,
	PK_PSK,
	PK_PSK_FILE,
	PK_CERT_CN,
	PK_CERT_SAN,
	PK_CERT_PIN,
	PK_CA,
	PK_ALLOWED_IPS,
	PK_ENDPOINT,
	PK_KEEPALIVE,
	PK_CIPHERS,
	PK_COUNT,
};

/* What the parser remembers about a peer section beyond the peer itself. */
struct peer_meta {
	unsigned section_line;
	unsigned key_line[PK_COUNT]; /* line of each key's first use; 0: absent */
	bool invalid;                /* some key had a bad value */
	unsigned *prefix_line;       /* line of each peer.allowed[] entry */
	uint8_t identity[PEER_PSK_IDENTITY_MAX];
	size_t identity_len;         /* 0: no valid psk_identity */
	uint8_t key[PEER_PSK_KEY_MAX]; /* secret, wiped with the meta */
	size_t key_len;              /* 0: no valid psk / psk_file */
};

enum section_kind {
	SEC_NONE,    /* before the first section */
	SEC_GATEWAY,
	SEC_PEER,
	SEC_BAD,     /* a section in error: its keys are skipped */
};

struct parser {
	const char *name;         /* the file name in messages */
	char *base_dir;           /* owned; relative paths are resolved against it */
	/* The source: a stdio file or a buffer. */
	FILE *fp;
	const char *buf;
	size_t len, pos;
	unsigned line;            /* of the line inih is looking at */
	char lbuf[CONFIG_LINE_CAP + 1];

	enum section_kind sec;
	char label[64];           /* "gateway" or "peer NAME" */
	unsigned gateway_line;    /* 0: no [gateway] yet */
	unsigned gw_key_line[GK_COUNT];
	bool gw_invalid;
	bool inline_psk;          /* some psk = ... sits in the file itself */

	struct gw_config *cfg;
	struct peer_meta *meta;   /* owned, parallel to cfg->peers */
	size_t peers_cap;

	struct config_diags *diags;
	size_t errors_at_start;
	bool oom;

	/* config_parse_overlay(): the run-time changes, or NULL */
	const struct config_overlay *overlay;
};

/* Add "NAME:LINE: [label] key: why" (line 0: no line; label/key NULL: left out). */
void config_report(struct parser *p, bool warning, unsigned line, const char *label,
		   const char *key, const char *fmt, ...) __attribute__((format(printf, 6, 7)));
void config_vreport(struct parser *p, bool warning, unsigned line, const char *label,
		    const char *key, const char *fmt, va_list ap) __attribute__((format(printf, 6, 0)));

/* Diagnostics storage (config_diag.c). */
int config_diags_add(struct config_diags *d, unsigned line, bool warning,
		     char *text) CONFIG_MUST_CHECK; /* takes text */
void config_diags_sort(struct config_diags *d);

/* Whether the section [peer name] starting at the current line is left out
 * (config_parse_overlay()). */
bool config_peer_dropped(const struct parser *p, const char *name);

/* Whole-file checks and defaults after the last line (config_check.c). */
void config_check(struct parser *p);

/* Copy s into buf for a message: non-printable bytes as \xHH, cut after 64 chars. */
const char *config_quote(char *buf, size_t len, const char *s);

#endif
