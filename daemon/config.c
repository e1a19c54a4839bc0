/*
 * dtlsgw.conf parsing: inih splits the lines into sections and key = value pairs;
 * this file feeds it the lines (counting them, refusing NUL bytes and overlong
 * lines, and spotting section headers so that every section is seen, even an
 * empty one) and checks each value as it comes. Whole-file checks are in
 * config_check.c.
 */
#include <errno.h>
#include <ini.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <dtls/dtls.h>

#include "daemon/config_internal.h"
#include "daemon/suites.h"
#include "daemon/secret_file.h"
#include "policy/endpoint.h"
#include "policy/hex.h"

#define PATH_VALUE_MAX 1024
#define TEXT_VALUE_MAX 255
#define MAX_LIST_ITEMS 1024
#define PSK_FILE_MAX 4096

/* ---- messages ---- */

const char *config_quote(char *buf, size_t len, const char *s)
{
	static const char hex[] = "0123456789abcdef";
	size_t o = 0, shown = 0;

	for (; *s && o + 5 < len; s++, shown++) {
		unsigned char c = (unsigned char)*s;
		if (shown == 64) {
			memcpy(buf + o, "...", 3);
			o += 3;
			break;
		}
		if (c >= 0x20 && c < 0x7f) {
			buf[o++] = (char)c;
		} else {
			buf[o++] = '\\';
			buf[o++] = 'x';
			buf[o++] = hex[c >> 4];
			buf[o++] = hex[c & 15];
		}
	}
	buf[o] = '\0';
	return buf;
}

/* The run-time change that line of the buffer came from, or NULL for the file's own. */
static const struct config_origin *origin_of(const struct parser *p, unsigned long line)
{
	const struct config_overlay *ov = p->overlay;

	for (size_t i = 0; ov && line > ov->head_lines && i < ov->n_origins; i++)
		if (line >= ov->origins[i].first && line <= ov->origins[i].last)
			return &ov->origins[i];
	return NULL;
}

/* msg into out, each "line N" of it that is a line of a run-time change as that change. */
static void cite_origins(const struct parser *p, const char *msg, char *out, size_t len)
{
	size_t o = 0;

	while (*msg && o + 1 < len) {
		const struct config_origin *src = NULL;
		char *end = NULL;
		if (!strncmp(msg, "line ", 5) && msg[5] >= '0' && msg[5] <= '9')
			src = origin_of(p, strtoul(msg + 5, &end, 10));
		if (!src) {
			out[o++] = *msg++;
			continue;
		}
		int w = snprintf(out + o, len - o, "%s", src->what);
		o = w < 0 ? o : (size_t)w >= len - o ? len - 1 : o + (size_t)w;
		msg = end;
	}
	out[o] = '\0';
}

void config_vreport(struct parser *p, bool warning, unsigned line, const char *label,
		    const char *key, const char *fmt, va_list ap)
{
	char where[128], what[160] = "", msg[512], why[512], *text = NULL;
	const struct config_origin *src = origin_of(p, line);

	if (src) {
		snprintf(where, sizeof(where), "%s:", src->what);
		label = NULL; /* the change added this one section: "add-peer s4" names it */
	} else if (line) {
		snprintf(where, sizeof(where), "%s:%u:", p->name, line);
	} else {
		snprintf(where, sizeof(where), "%s:", p->name);
	}
	/* " [label] key:", " [label]:", " key:" or nothing */
	snprintf(what, sizeof(what), "%s%s%s%s%s%s", label ? " [" : "", label ? label : "",
		 label ? "]" : "", key ? " " : "", key ? key : "", label || key ? ":" : "");
	vsnprintf(msg, sizeof(msg), fmt, ap);
	cite_origins(p, msg, why, sizeof(why));
	if (asprintf(&text, "%s%s %s%s", where, what, warning ? "warning: " : "", why) < 0)
		text = NULL;
	if (config_diags_add(p->diags, line, warning, text) < 0)
		p->oom = true;
}

void config_report(struct parser *p, bool warning, unsigned line, const char *label,
		   const char *key, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	config_vreport(p, warning, line, label, key, fmt, ap);
	va_end(ap);
}

/* An error about the current line, outside of any key. */
static void __attribute__((format(printf, 2, 3))) line_error(struct parser *p, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	config_vreport(p, false, p->line, NULL, NULL, fmt, ap);
	va_end(ap);
}

struct key_def;
typedef void key_fn(struct parser *p, const struct key_def *k, const char *value);

struct key_def {
	const char *name;
	unsigned id;
	bool repeatable;
	key_fn *fn;
};

/* An error about the key on the current line. */
static void __attribute__((format(printf, 3, 4)))
bad(struct parser *p, const struct key_def *k, const char *fmt, ...)
{
	va_list ap;

	if (p->sec == SEC_PEER)
		p->meta[p->cfg->n_peers - 1].invalid = true;
	else
		p->gw_invalid = true;
	va_start(ap, fmt);
	config_vreport(p, false, p->line, p->label, k->name, fmt, ap);
	va_end(ap);
}

static void __attribute__((format(printf, 3, 4)))
warn(struct parser *p, const struct key_def *k, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	config_vreport(p, true, p->line, p->label, k->name, fmt, ap);
	va_end(ap);
}

/* ---- value syntax ---- */

static bool is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

static char *trim(char *s)
{
	size_t n;

	while (is_space(*s))
		s++;
	n = strlen(s);
	while (n && is_space(s[n - 1]))
		s[--n] = '\0';
	return s;
}

static int parse_uint(const char *s, unsigned min, unsigned max, unsigned *out)
{
	unsigned long long v = 0;
	size_t n = 0;

	for (; s[n]; n++) {
		if (s[n] < '0' || s[n] > '9' || n == 10)
			return -EINVAL;
		v = v * 10 + (unsigned)(s[n] - '0');
	}
	if (n == 0)
		return -EINVAL;
	if (v < min || v > max)
		return -ERANGE;
	*out = (unsigned)v;
	return 0;
}

static void set_uint(struct parser *p, const struct key_def *k, const char *v, unsigned min,
		     unsigned max, unsigned *out)
{
	int rc = parse_uint(v, min, max, out);

	if (rc == -EINVAL)
		bad(p, k, "not a number");
	else if (rc < 0)
		bad(p, k, "must be between %u and %u", min, max);
}

/* Whether s is well-formed UTF-8 (no overlong forms, surrogates or values above
 * U+10FFFF) without control characters. */
static bool text_ok(const char *s)
{
	const unsigned char *u = (const unsigned char *)s;

	while (*u) {
		unsigned c = *u, need, cp;
		if (c < 0x80) {
			if (c < 0x20 || c == 0x7f)
				return false;
			u++;
			continue;
		}
		if (c >= 0xc2 && c <= 0xdf)
			need = 1, cp = c & 0x1f;
		else if (c >= 0xe0 && c <= 0xef)
			need = 2, cp = c & 0x0f;
		else if (c >= 0xf0 && c <= 0xf4)
			need = 3, cp = c & 0x07;
		else
			return false;
		for (unsigned i = 1; i <= need; i++) {
			if ((u[i] & 0xc0) != 0x80)
				return false;
			cp = cp << 6 | (u[i] & 0x3f);
		}
		if ((need == 2 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
		    (need == 3 && (cp < 0x10000 || cp > 0x10ffff)) || (cp >= 0x80 && cp < 0xa0))
			return false;
		u += need + 1;
	}
	return true;
}

/* A text value such as a CN: 1..TEXT_VALUE_MAX bytes of printable UTF-8. */
static bool text_value(struct parser *p, const struct key_def *k, const char *v)
{
	size_t n = strlen(v);

	if (n == 0)
		bad(p, k, "empty value");
	else if (n > TEXT_VALUE_MAX)
		bad(p, k, "longer than %d bytes", TEXT_VALUE_MAX);
	else if (!text_ok(v))
		bad(p, k, "not printable UTF-8");
	else
		return true;
	return false;
}

/* A path: relative ones are taken from the config file's directory. Returns an
 * owned string, or NULL after reporting. */
static char *path_value(struct parser *p, const struct key_def *k, const char *v)
{
	char *out = NULL;

	if (!*v) {
		bad(p, k, "empty path");
		return NULL;
	}
	if (strlen(v) > PATH_VALUE_MAX || !text_ok(v)) {
		bad(p, k, "not a usable path");
		return NULL;
	}
	if (v[0] == '/' || !p->base_dir)
		out = strdup(v);
	else if (asprintf(&out, "%s/%s", p->base_dir, v) < 0)
		out = NULL;
	if (!out)
		p->oom = true;
	return out;
}

/* A path that must name a readable file. */
static char *readable_path(struct parser *p, const struct key_def *k, const char *v)
{
	char q[300];
	char *path = path_value(p, k, v);

	if (path && access(path, R_OK) < 0) {
		bad(p, k, "%s: %s", config_quote(q, sizeof(q), path), strerror(errno));
		free(path);
		return NULL;
	}
	return path;
}

/*
 * Call item(p, k, text) for each comma-separated item of v, trimmed. Empty items
 * are errors. v is copied; the copy is what the items point into.
 */
static void for_each_item(struct parser *p, const struct key_def *k, const char *v,
			  void (*item)(struct parser *, const struct key_def *, const char *))
{
	char *copy = strdup(v), *s, *next;
	unsigned count = 0;

	if (!copy) {
		p->oom = true;
		return;
	}
	for (s = copy; s; s = next) {
		next = strchr(s, ',');
		if (next)
			*next++ = '\0';
		s = trim(s);
		if (!*s) {
			bad(p, k, "empty item in the list");
			continue;
		}
		if (++count > MAX_LIST_ITEMS) {
			bad(p, k, "more than %d items", MAX_LIST_ITEMS);
			break;
		}
		item(p, k, s);
	}
	free(copy);
}

/* ---- [gateway] keys ---- */

static void gk_listen(struct parser *p, const struct key_def *k, const char *v)
{
	char q[100];

	if (endpoint_parse(v, &p->cfg->listen, &p->cfg->listen_len) < 0)
		bad(p, k, "\"%s\" is not ADDRESS:PORT or [IPV6]:PORT (numeric, port 1-65535)",
		    config_quote(q, sizeof(q), v));
}

static void gk_tun_name(struct parser *p, const struct key_def *k, const char *v)
{
	size_t n = strlen(v);
	const char *pct = strchr(v, '%');
	bool ok = n > 0 && n < IFNAMSIZ && strcmp(v, ".") && strcmp(v, "..");

	for (size_t i = 0; ok && i < n; i++)
		ok = v[i] > 0x20 && v[i] < 0x7f && v[i] != '/' && v[i] != ':';
	if (ok && pct)
		ok = pct[1] == 'd' && !strchr(pct + 1, '%');
	if (!ok) {
		bad(p, k, "not an interface name (1-%d printable characters, no '/' or ':', "
			  "at most one %%d)", IFNAMSIZ - 1);
		return;
	}
	memcpy(p->cfg->tun_name, v, n + 1);
}

static void tun_address_item(struct parser *p, const struct key_def *k, const char *s)
{
	struct gw_config *cfg = p->cfg;
	struct ip_prefix pfx, *v;
	char q[100];

	if (prefix_parse(s, PREFIX_KEEP_HOST_BITS, &pfx) < 0) {
		bad(p, k, "\"%s\" is not an address with a prefix length (10.0.0.1/24, fd00::1/64)",
		    config_quote(q, sizeof(q), s));
		return;
	}
	if (!(v = reallocarray(cfg->tun_addrs, cfg->n_tun_addrs + 1, sizeof(*v)))) {
		p->oom = true;
		return;
	}
	cfg->tun_addrs = v;
	v[cfg->n_tun_addrs++] = pfx;
}

static void gk_tun_address(struct parser *p, const struct key_def *k, const char *v)
{
	for_each_item(p, k, v, tun_address_item);
}

static void gk_mtu(struct parser *p, const struct key_def *k, const char *v)
{
	set_uint(p, k, v, 576, 65507, &p->cfg->mtu);
}

static void gk_workers(struct parser *p, const struct key_def *k, const char *v)
{
	set_uint(p, k, v, 0, 256, &p->cfg->workers);
}

/* Whether s names a cipher suite libdtls knows (else reported). */
static bool suite_name_ok(struct parser *p, const struct key_def *k, const char *s)
{
	size_t n = strlen(s);
	char q[100];

	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		      c == '_' || c == '-') || n > 64) {
			bad(p, k, "\"%s\" is not a cipher suite name", config_quote(q, sizeof(q), s));
			return false;
		}
	}
	if (dtls_suite_id(s) < 0) {
		bad(p, k, "unknown cipher suite %s (dtlsgw.conf(5) lists them)", s);
		return false;
	}
	return true;
}

static void cipher_item(struct parser *p, const struct key_def *k, const char *s)
{
	struct gw_config *cfg = p->cfg;
	char **v;

	if (!suite_name_ok(p, k, s))
		return;
	for (size_t i = 0; i < cfg->n_ciphers; i++) {
		if (dtls_suite_id(cfg->ciphers[i]) == dtls_suite_id(s)) {
			bad(p, k, "%s is listed twice", s);
			return;
		}
	}
	if (!(v = reallocarray(cfg->ciphers, cfg->n_ciphers + 1, sizeof(*v))) ||
	    !(v[cfg->n_ciphers] = strdup(s))) {
		if (v)
			cfg->ciphers = v;
		p->oom = true;
		return;
	}
	cfg->ciphers = v;
	cfg->n_ciphers++;
}

static void gk_ciphers(struct parser *p, const struct key_def *k, const char *v)
{
	for_each_item(p, k, v, cipher_item);
}

static void gk_keepalive(struct parser *p, const struct key_def *k, const char *v)
{
	set_uint(p, k, v, 0, 3600, &p->cfg->keepalive);
}

static void gk_dead_after(struct parser *p, const struct key_def *k, const char *v)
{
	set_uint(p, k, v, 1, 86400, &p->cfg->dead_after);
}

static void gk_max_sessions(struct parser *p, const struct key_def *k, const char *v)
{
	set_uint(p, k, v, 1, 1048576, &p->cfg->max_sessions);
}

static void gk_max_halfopen(struct parser *p, const struct key_def *k, const char *v)
{
	set_uint(p, k, v, 1, 1048576, &p->cfg->max_halfopen);
}

static void gk_max_halfopen_addr(struct parser *p, const struct key_def *k, const char *v)
{
	set_uint(p, k, v, 1, 65535, &p->cfg->max_halfopen_per_address);
}

static void gk_halfopen_timeout(struct parser *p, const struct key_def *k, const char *v)
{
	set_uint(p, k, v, 1, 60, &p->cfg->halfopen_timeout);
}

static void gk_control_socket(struct parser *p, const struct key_def *k, const char *v)
{
	if (v[0] != '/' || strlen(v) >= sizeof(((struct sockaddr_un *)0)->sun_path) ||
	    !text_ok(v)) {
		bad(p, k, "must be an absolute path of at most %zu bytes",
		    sizeof(((struct sockaddr_un *)0)->sun_path) - 1);
		return;
	}
	char *s = strdup(v);
	if (!s) {
		p->oom = true;
		return;
	}
	free(p->cfg->control_socket);
	p->cfg->control_socket = s;
}

static const char *const log_levels[] = {
	[GW_LOG_ERROR] = "error",
	[GW_LOG_WARNING] = "warning",
	[GW_LOG_NOTICE] = "notice",
	[GW_LOG_INFO] = "info",
	[GW_LOG_DEBUG] = "debug",
};

const char *config_log_level_name(enum gw_log_level level)
{
	return (unsigned)level < sizeof(log_levels) / sizeof(log_levels[0]) ? log_levels[level] : "?";
}

static void gk_log_level(struct parser *p, const struct key_def *k, const char *v)
{
	for (size_t i = 0; i < sizeof(log_levels) / sizeof(log_levels[0]); i++) {
		if (!strcmp(v, log_levels[i])) {
			p->cfg->log_level = (enum gw_log_level)i;
			return;
		}
	}
	bad(p, k, "must be error, warning, notice, info or debug");
}

static void gk_offload(struct parser *p, const struct key_def *k, const char *v)
{
	if (!strcmp(v, "on") || !strcmp(v, "yes") || !strcmp(v, "true"))
		p->cfg->offload = true;
	else if (!strcmp(v, "off") || !strcmp(v, "no") || !strcmp(v, "false"))
		p->cfg->offload = false;
	else
		bad(p, k, "must be on or off");
}

static void gk_cert(struct parser *p, const struct key_def *k, const char *v)
{
	p->cfg->cert = readable_path(p, k, v);
}

static void gk_key(struct parser *p, const struct key_def *k, const char *v)
{
	char why[128], q[300];
	char *path = path_value(p, k, v);

	if (!path)
		return;
	if (secret_file_check(path, why, sizeof(why)) < 0) {
		bad(p, k, "%s %s", config_quote(q, sizeof(q), path), why);
		free(path);
		return;
	}
	p->cfg->key = path;
}

static void gk_ca(struct parser *p, const struct key_def *k, const char *v)
{
	p->cfg->ca = readable_path(p, k, v);
}

static const struct key_def gateway_keys[] = {
	{ "listen", GK_LISTEN, false, gk_listen },
	{ "tun_name", GK_TUN_NAME, false, gk_tun_name },
	{ "tun_address", GK_TUN_ADDRESS, true, gk_tun_address },
	{ "mtu", GK_MTU, false, gk_mtu },
	{ "workers", GK_WORKERS, false, gk_workers },
	{ "ciphers", GK_CIPHERS, false, gk_ciphers },
	{ "keepalive", GK_KEEPALIVE, false, gk_keepalive },
	{ "dead_after", GK_DEAD_AFTER, false, gk_dead_after },
	{ "max_sessions", GK_MAX_SESSIONS, false, gk_max_sessions },
	{ "max_halfopen", GK_MAX_HALFOPEN, false, gk_max_halfopen },
	{ "max_halfopen_per_address", GK_MAX_HALFOPEN_ADDR, false, gk_max_halfopen_addr },
	{ "halfopen_timeout", GK_HALFOPEN_TIMEOUT, false, gk_halfopen_timeout },
	{ "control_socket", GK_CONTROL_SOCKET, false, gk_control_socket },
	{ "log_level", GK_LOG_LEVEL, false, gk_log_level },
	{ "offload", GK_OFFLOAD, false, gk_offload },
	{ "cert", GK_CERT, false, gk_cert },
	{ "key", GK_KEY, false, gk_key },
	{ "ca", GK_CA, false, gk_ca },
};

/* ---- [peer NAME] keys ---- */

static struct peer_policy *cur_peer(struct parser *p)
{
	return &p->cfg->peers[p->cfg->n_peers - 1];
}

static struct peer_meta *cur_meta(struct parser *p)
{
	return &p->meta[p->cfg->n_peers - 1];
}

static void pk_psk_identity(struct parser *p, const struct key_def *k, const char *v)
{
	struct peer_meta *m = cur_meta(p);
	size_t n = strlen(v);

	if (n == 0)
		bad(p, k, "empty identity");
	else if (n > PEER_PSK_IDENTITY_MAX)
		bad(p, k, "is %zu bytes; at most %d allowed", n, PEER_PSK_IDENTITY_MAX);
	else if (!text_ok(v))
		bad(p, k, "not printable UTF-8");
	else {
		memcpy(m->identity, v, n);
		m->identity_len = n;
	}
}

/* Decode a hex PSK into the current peer's meta; what names where it came from. */
static void set_psk(struct parser *p, const struct key_def *k, const char *hex,
		    const char *what)
{
	struct peer_meta *m = cur_meta(p);
	uint8_t key[PEER_PSK_KEY_MAX];
	int n = hex_decode(hex, key, sizeof(key));

	if (n == -E2BIG)
		bad(p, k, "%skey is %zu bytes; at most %d allowed", what, strlen(hex) / 2,
		    PEER_PSK_KEY_MAX);
	else if (n < 0)
		bad(p, k, "%snot valid hex", what);
	else if (n < PEER_PSK_KEY_MIN)
		bad(p, k, "%skey is %d bytes; at least %d needed", what, n, PEER_PSK_KEY_MIN);
	else {
		memcpy(m->key, key, (size_t)n);
		m->key_len = (size_t)n;
	}
	explicit_bzero(key, sizeof(key));
}

static void pk_psk(struct parser *p, const struct key_def *k, const char *v)
{
	p->inline_psk = true;
	set_psk(p, k, v, "");
}

static void pk_psk_file(struct parser *p, const struct key_def *k, const char *v)
{
	char buf[PSK_FILE_MAX], why[128], q[300], what[320];
	size_t len;
	char *path = path_value(p, k, v);

	if (!path)
		return;
	config_quote(q, sizeof(q), path);
	if (secret_file_read(path, buf, sizeof(buf), &len, why, sizeof(why)) < 0) {
		bad(p, k, "%s %s", q, why);
	} else if (memchr(buf, '\0', len)) {
		bad(p, k, "%s: not valid hex", q);
	} else {
		snprintf(what, sizeof(what), "%s: ", q);
		set_psk(p, k, trim(buf), what);
	}
	explicit_bzero(buf, sizeof(buf));
	free(path);
}

static void pk_cert_cn(struct parser *p, const struct key_def *k, const char *v)
{
	if (text_value(p, k, v) && peer_set_cert_cn(cur_peer(p), v) < 0)
		p->oom = true;
}

static void pk_cert_san(struct parser *p, const struct key_def *k, const char *v)
{
	if (text_value(p, k, v) && peer_set_cert_san(cur_peer(p), v) < 0)
		p->oom = true;
}

static void pk_cert_pin(struct parser *p, const struct key_def *k, const char *v)
{
	struct peer_policy *peer = cur_peer(p);

	if (strlen(v) != 2 * PEER_PIN_LEN ||
	    hex_decode(v, peer->cert.pin_sha256, sizeof(peer->cert.pin_sha256)) != PEER_PIN_LEN) {
		bad(p, k, "must be %d hex digits: the SHA-256 of the peer's DER "
			  "SubjectPublicKeyInfo", 2 * PEER_PIN_LEN);
		return;
	}
	peer->cert.has_pin = true;
}

static void pk_ca(struct parser *p, const struct key_def *k, const char *v)
{
	char *path = readable_path(p, k, v);

	if (path && peer_add_ca_file(cur_peer(p), path) < 0)
		p->oom = true;
	free(path);
}

static void allowed_item(struct parser *p, const struct key_def *k, const char *s)
{
	struct peer_policy *peer = cur_peer(p);
	struct peer_meta *m = cur_meta(p);
	struct ip_prefix pfx;
	char q[100], buf[PREFIX_STRLEN];
	unsigned *lines;
	int rc = prefix_parse(s, 0, &pfx);

	if (rc < 0) {
		bad(p, k, "\"%s\" is not a prefix (10.1.0.0/16, fd00:1::/48)",
		    config_quote(q, sizeof(q), s));
		return;
	}
	if (rc == PREFIX_HOST_BITS_SET)
		warn(p, k, "%s has host bits set; using %s", s, prefix_format(&pfx, buf));
	if (!(lines = reallocarray(m->prefix_line, peer->n_allowed + 1, sizeof(*lines)))) {
		p->oom = true;
		return;
	}
	m->prefix_line = lines;
	if (peer_add_allowed(peer, &pfx) < 0) {
		p->oom = true;
		return;
	}
	lines[peer->n_allowed - 1] = p->line;
}

static void pk_allowed_ips(struct parser *p, const struct key_def *k, const char *v)
{
	for_each_item(p, k, v, allowed_item);
}

static void pk_endpoint(struct parser *p, const struct key_def *k, const char *v)
{
	struct peer_policy *peer = cur_peer(p);
	char q[100];

	if (endpoint_parse(v, &peer->endpoint, &peer->endpoint_len) < 0) {
		bad(p, k, "\"%s\" is not ADDRESS:PORT or [IPV6]:PORT (numeric, port 1-65535)",
		    config_quote(q, sizeof(q), v));
		return;
	}
	peer->has_endpoint = true;
}

static void pk_keepalive(struct parser *p, const struct key_def *k, const char *v)
{
	set_uint(p, k, v, 0, 3600, &cur_peer(p)->keepalive);
}

static void peer_cipher_item(struct parser *p, const struct key_def *k, const char *s)
{
	struct peer_policy *pol = cur_peer(p);
	int id;

	if (!suite_name_ok(p, k, s))
		return;
	id = dtls_suite_id(s);
	if (gw_suite_in(pol->suites, pol->n_suites, (uint16_t)id)) {
		bad(p, k, "%s is listed twice", s);
		return;
	}
	if (pol->n_suites == PEER_SUITES_MAX) {
		bad(p, k, "more than %d suites", PEER_SUITES_MAX);
		return;
	}
	pol->suites[pol->n_suites++] = (uint16_t)id;
}

static void pk_ciphers(struct parser *p, const struct key_def *k, const char *v)
{
	for_each_item(p, k, v, peer_cipher_item);
}

static const struct key_def peer_keys[] = {
	{ "psk_identity", PK_PSK_IDENTITY, false, pk_psk_identity },
	{ "psk", PK_PSK, false, pk_psk },
	{ "psk_file", PK_PSK_FILE, false, pk_psk_file },
	{ "cert_cn", PK_CERT_CN, false, pk_cert_cn },
	{ "cert_san", PK_CERT_SAN, false, pk_cert_san },
	{ "cert_pin_sha256", PK_CERT_PIN, false, pk_cert_pin },
	{ "ca", PK_CA, true, pk_ca },
	{ "allowed_ips", PK_ALLOWED_IPS, true, pk_allowed_ips },
	{ "endpoint", PK_ENDPOINT, false, pk_endpoint },
	{ "keepalive", PK_KEEPALIVE, false, pk_keepalive },
	{ "ciphers", PK_CIPHERS, false, pk_ciphers },
};

/* ---- sections ---- */

static bool add_peer(struct parser *p, const char *name)
{
	struct gw_config *cfg = p->cfg;

	if (cfg->n_peers == p->peers_cap) {
		size_t cap = p->peers_cap ? p->peers_cap * 2 : 8;
		struct peer_policy *v = reallocarray(cfg->peers, cap, sizeof(*v));
		if (!v)
			return false;
		cfg->peers = v;
		struct peer_meta *m = reallocarray(p->meta, cap, sizeof(*m));
		if (!m)
			return false;
		p->meta = m;
		p->peers_cap = cap;
	}
	struct peer_policy *peer = &cfg->peers[cfg->n_peers];
	peer_policy_init(peer);
	if (peer_set_name(peer, name) < 0)
		return false;
	memset(&p->meta[cfg->n_peers], 0, sizeof(p->meta[0]));
	p->meta[cfg->n_peers].section_line = p->line;
	cfg->n_peers++;
	return true;
}

/* A "[...]" line: text is what is between the brackets. */
static void section_begin(struct parser *p, char *text)
{
	char q[100];

	text = trim(text);
	p->sec = SEC_BAD;
	if (!strcmp(text, "gateway")) {
		snprintf(p->label, sizeof(p->label), "gateway");
		if (p->gateway_line) {
			line_error(p, "[gateway]: section given twice (first at line %u)",
				   p->gateway_line);
			return;
		}
		p->gateway_line = p->line;
		p->sec = SEC_GATEWAY;
		return;
	}
	if (strncmp(text, "peer", 4) || (text[4] && !is_space(text[4]))) {
		line_error(p, "[%s]: unknown section; use [gateway] or [peer NAME]",
			   config_quote(q, sizeof(q), text));
		return;
	}
	const char *name = trim(text + 4);
	if (!*name) {
		line_error(p, "[peer]: missing peer name; use [peer NAME]");
		return;
	}
	if (!peer_name_valid(name)) {
		line_error(p, "[%s]: invalid peer name; use 1-%d of A-Z a-z 0-9 . _ -",
			   config_quote(q, sizeof(q), text), PEER_NAME_MAX);
		return;
	}
	if (config_peer_dropped(p, name))
		return; /* SEC_BAD: its keys are skipped too */
	if (p->cfg->n_peers == CONFIG_MAX_PEERS) {
		line_error(p, "[peer %s]: more than %d peers", name, CONFIG_MAX_PEERS);
		return;
	}
	if (!add_peer(p, name)) {
		p->oom = true;
		return;
	}
	snprintf(p->label, sizeof(p->label), "peer %s", name);
	p->sec = SEC_PEER;
}

/*
 * Decide what inih will make of the trimmed line s, so that every bad line is
 * reported (inih only returns the first) and every section is seen. Returns
 * whether inih may have the line.
 */
static bool check_line(struct parser *p, char *s)
{
	if (!*s || *s == ';' || *s == '#')
		return true;
	if (*s == '[') {
		char *close = strchr(s, ']');
		if (!close) {
			line_error(p, "missing ']' in section header");
			return false;
		}
		char *rest = close + 1;
		while (is_space(*rest))
			rest++;
		if (*rest && *rest != ';' && *rest != '#') {
			line_error(p, "unexpected text after ']'");
			return false;
		}
		/* inih cuts a header at an inline comment inside the brackets. */
		for (char *c = s + 1; c < close; c++) {
			if (*c == ';' && is_space(c[-1])) {
				line_error(p, "missing ']' in section header");
				return false;
			}
		}
		char header[CONFIG_LINE_CAP + 1];
		memcpy(header, s + 1, (size_t)(close - s - 1));
		header[close - s - 1] = '\0';
		section_begin(p, header);
		return true;
	}
	size_t sep = strcspn(s, "=:");
	for (size_t i = 1; i < sep; i++) {
		if (s[i] == ';' && is_space(s[i - 1])) {
			sep = strlen(s);
			break;
		}
	}
	if (!s[sep]) {
		line_error(p, "expected \"key = value\", a [section] or a comment");
		return false;
	}
	if (sep == 0) {
		line_error(p, "missing key name before '%c'", s[sep]);
		return false;
	}
	return true;
}

/* ---- inih glue ---- */

static int src_getc(struct parser *p)
{
	if (p->fp)
		return getc(p->fp);
	return p->pos < p->len ? (unsigned char)p->buf[p->pos++] : EOF;
}

/* inih's ini_reader: one physical line per call, never split. */
static char *read_line(char *str, int num, void *stream)
{
	struct parser *p = stream;
	size_t cap = num > 3 ? (size_t)num - 3 : 0, n = 0, total = 0;
	bool nul = false;
	int c;

	if (cap > CONFIG_LINE_CAP)
		cap = CONFIG_LINE_CAP;
	if ((c = src_getc(p)) == EOF)
		return NULL;
	p->line++;
	for (; c != EOF && c != '\n'; c = src_getc(p), total++) {
		if (c == '\0')
			nul = true;
		if (n < CONFIG_LINE_CAP)
			p->lbuf[n++] = (char)c;
	}
	p->lbuf[n] = '\0';
	str[0] = '\0';
	if (nul) {
		line_error(p, "contains a NUL byte");
		return str;
	}

	char *s = p->lbuf;
	if (p->line == 1 && !memcmp(s, "\xef\xbb\xbf", 3))
		s += 3; /* a UTF-8 byte order mark */
	s = trim(s);
	if (total > CONFIG_LINE_CAP || strlen(s) > cap) {
		line_error(p, "line longer than %zu characters", cap);
		return str;
	}
	/* Leading blanks are gone: inih never sees a continuation line. */
	if (check_line(p, s))
		memcpy(str, s, strlen(s) + 1);
	return str;
}

static const struct key_def *find_key(const struct key_def *keys, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(keys[i].name, name))
			return &keys[i];
	return NULL;
}

/* inih's handler. inih's own section name is not used: check_line() tracks
 * sections (inih would merge two adjacent sections of the same name). */
static int on_key(void *user, const char *section, const char *name, const char *value)
{
	struct parser *p = user;
	const struct key_def *k = NULL;
	unsigned *first = NULL;
	char q[100];

	(void)section;
	switch (p->sec) {
	case SEC_NONE:
		line_error(p, "%s: outside of any section", config_quote(q, sizeof(q), name));
		return 1;
	case SEC_BAD:
		return 1;
	case SEC_GATEWAY:
		k = find_key(gateway_keys, sizeof(gateway_keys) / sizeof(gateway_keys[0]), name);
		first = k ? &p->gw_key_line[k->id] : NULL;
		break;
	case SEC_PEER:
		k = find_key(peer_keys, sizeof(peer_keys) / sizeof(peer_keys[0]), name);
		first = k ? &cur_meta(p)->key_line[k->id] : NULL;
		break;
	}
	if (!k) {
		config_report(p, false, p->line, p->label, config_quote(q, sizeof(q), name),
			      "unknown key");
		return 1;
	}
	if (*first && !k->repeatable) {
		bad(p, k, "given twice (first at line %u)", *first);
		return 1;
	}
	if (!*first)
		*first = p->line;
	if (!*value) {
		bad(p, k, "empty value");
		return 1;
	}
	k->fn(p, k, value);
	return 1;
}

/* ---- the public API ---- */

void config_free(struct gw_config *cfg)
{
	if (!cfg)
		return;
	free(cfg->tun_addrs);
	for (size_t i = 0; i < cfg->n_ciphers; i++)
		free(cfg->ciphers[i]);
	free(cfg->ciphers);
	free(cfg->control_socket);
	free(cfg->cert);
	free(cfg->key);
	free(cfg->ca);
	for (size_t i = 0; i < cfg->n_peers; i++)
		peer_policy_clear(&cfg->peers[i]);
	free(cfg->peers);
	explicit_bzero(cfg, sizeof(*cfg));
	free(cfg);
}

static char *dir_of(const char *path)
{
	const char *slash = strrchr(path, '/');

	if (!slash)
		return strdup(".");
	if (slash == path)
		return strdup("/");
	return strndup(path, (size_t)(slash - path));
}

static int parse(struct parser *p, struct gw_config **out)
{
	int rc;

	*out = NULL;
	p->errors_at_start = p->diags->n_errors;
	if (!(p->base_dir = dir_of(p->name)) || !(p->cfg = calloc(1, sizeof(*p->cfg)))) {
		free(p->base_dir);
		return -ENOMEM;
	}
	p->cfg->offload = true; /* every offload the kernel refuses falls back by itself */
	rc = ini_parse_stream(read_line, p, on_key, p);
	if (p->fp && ferror(p->fp)) {
		config_report(p, false, 0, NULL, NULL, "read error");
		rc = 0;
	}
	if (rc > 0) {
		/* inih saw a problem that check_line() let through: say so. */
		bool known = false;
		for (size_t i = 0; i < p->diags->n; i++)
			known |= p->diags->v[i].line == (unsigned)rc;
		if (!known)
			config_report(p, false, (unsigned)rc, NULL, NULL, "syntax error");
	} else if (rc < 0) {
		p->oom = true;
	}
	if (!p->oom)
		config_check(p);
	config_diags_sort(p->diags);

	for (size_t i = 0; i < p->cfg->n_peers; i++) {
		free(p->meta[i].prefix_line);
		explicit_bzero(&p->meta[i], sizeof(p->meta[i]));
	}
	free(p->meta);
	free(p->base_dir);
	explicit_bzero(p->lbuf, sizeof(p->lbuf));
	if (p->oom) {
		config_free(p->cfg);
		return -ENOMEM;
	}
	if (p->diags->n_errors != p->errors_at_start) {
		config_free(p->cfg);
		return -EINVAL;
	}
	*out = p->cfg;
	return 0;
}

static int parse_buffer(const char *name, const char *buf, size_t len,
			const struct config_overlay *overlay, struct gw_config **out,
			struct config_diags *diags)
{
	struct parser *p = calloc(1, sizeof(*p));
	int rc;

	*out = NULL;
	if (!p)
		return -ENOMEM;
	p->name = name;
	p->buf = buf;
	p->len = len;
	p->diags = diags;
	p->overlay = overlay;
	rc = parse(p, out);
	free(p);
	return rc;
}

int config_parse_buffer(const char *name, const char *buf, size_t len, struct gw_config **out,
			struct config_diags *diags)
{
	return parse_buffer(name, buf, len, NULL, out, diags);
}

int config_load(const char *path, struct gw_config **out, struct config_diags *diags)
{
	struct parser *p;
	struct stat st;
	int rc;

	*out = NULL;
	if (!(p = calloc(1, sizeof(*p))))
		return -ENOMEM;
	p->name = path;
	p->diags = diags;
	if (!(p->fp = fopen(path, "re"))) {
		rc = -errno;
		config_report(p, false, 0, NULL, NULL, "cannot open: %s", strerror(-rc));
		free(p);
		return rc;
	}
	rc = parse(p, out);
	if (rc == 0 && p->inline_psk && fstat(fileno(p->fp), &st) == 0 &&
	    (st.st_mode & (S_IRGRP | S_IROTH)))
	{
		config_report(p, true, 0, NULL, NULL,
			      "holds PSKs and is readable by others; chmod 600 or use psk_file");
		config_diags_sort(diags);
	}
	fclose(p->fp);
	free(p);
	return rc;
}

/* ---- the run-time changes (dtlsgwctl add-peer, remove-peer) ---- */

bool config_peer_dropped(const struct parser *p, const char *name)
{
	if (!p->overlay || p->line > p->overlay->head_lines)
		return false;
	for (size_t i = 0; i < p->overlay->n_drop; i++)
		if (!strcmp(p->overlay->drop[i], name))
			return true;
	return false;
}

int config_parse_overlay(const char *name, const char *buf, size_t len,
			 const struct config_overlay *ov, struct gw_config **out,
			 struct config_diags *diags)
{
	return parse_buffer(name, buf, len, ov, out, diags);
}
