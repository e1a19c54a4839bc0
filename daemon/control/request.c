/* Control requests: the line parser (a pure function) and the command table. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "daemon/control/control.h"

/* What each command takes. */
enum arg_kind {
	ARGS_NONE,
	ARGS_NAME,     /* {"name": NAME} */
	ARGS_ADD_PEER, /* {"name": NAME, "settings": [[K, V], ...]} */
	ARGS_LEVEL,    /* {"level": LEVEL} */
	ARGS_STATS,    /* {"format": "prometheus"}, format optional */
};

static const struct {
	const char *name;
	enum arg_kind args;
	bool mutates;
} commands[CONTROL_N_COMMANDS] = {
	[CONTROL_STATUS] = { CONTROL_CMD_NAME_STATUS, ARGS_NONE, false },
	[CONTROL_PEERS] = { CONTROL_CMD_NAME_PEERS, ARGS_NONE, false },
	[CONTROL_PEER] = { CONTROL_CMD_NAME_PEER, ARGS_NAME, false },
	[CONTROL_ADD_PEER] = { CONTROL_CMD_NAME_ADD_PEER, ARGS_ADD_PEER, true },
	[CONTROL_REMOVE_PEER] = { CONTROL_CMD_NAME_REMOVE_PEER, ARGS_NAME, true },
	[CONTROL_DISCONNECT] = { CONTROL_CMD_NAME_DISCONNECT, ARGS_NAME, true },
	[CONTROL_RELOAD] = { CONTROL_CMD_NAME_RELOAD, ARGS_NONE, true },
	[CONTROL_STATS] = { CONTROL_CMD_NAME_STATS, ARGS_STATS, false },
	[CONTROL_LOG_LEVEL] = { CONTROL_CMD_NAME_LOG_LEVEL, ARGS_LEVEL, true },
};

static const char *const level_names[] = {
	[GW_LOG_ERROR] = "error", [GW_LOG_WARNING] = "warning", [GW_LOG_NOTICE] = "notice",
	[GW_LOG_INFO] = "info",   [GW_LOG_DEBUG] = "debug",
};
#define N_LEVELS (sizeof(level_names) / sizeof(level_names[0]))

const char *control_command_name(enum control_command cmd)
{
	if ((unsigned)cmd >= CONTROL_N_COMMANDS)
		return "?";
	return commands[cmd].name;
}

bool control_command_mutates(enum control_command cmd)
{
	/* Unknown values count as changing things: refuse rather than allow. */
	return (unsigned)cmd >= CONTROL_N_COMMANDS || commands[cmd].mutates;
}

int control_log_level_parse(const char *name, enum gw_log_level *out)
{
	for (size_t i = 0; i < N_LEVELS; i++) {
		if (strcmp(name, level_names[i]) == 0) {
			*out = (enum gw_log_level)i;
			return 0;
		}
	}
	return -EINVAL;
}

const char *control_log_level_name(enum gw_log_level level)
{
	if ((unsigned)level >= N_LEVELS)
		return "?";
	return level_names[level];
}

void control_request_clear(struct control_request *req)
{
	for (size_t i = 0; i < req->n_kv; i++) {
		free(req->kv[i].key);
		if (req->kv[i].value) {
			/* values may hold a PSK */
			explicit_bzero(req->kv[i].value, strlen(req->kv[i].value));
			free(req->kv[i].value);
		}
	}
	free(req->kv);
	memset(req, 0, sizeof(*req));
}

/* ---- the parser ------------------------------------------------------------ */

struct parse {
	char *err;
	size_t errlen;
	int rc; /* first failure: -EINVAL or -ENOMEM */
};

__attribute__((format(printf, 2, 3))) static int fail(struct parse *p, const char *fmt, ...)
{
	if (p->rc == 0) {
		p->rc = -EINVAL;
		if (p->errlen > 0) {
			va_list ap;
			va_start(ap, fmt);
			vsnprintf(p->err, p->errlen, fmt, ap);
			va_end(ap);
		}
	}
	return p->rc;
}

static int fail_nomem(struct parse *p)
{
	if (p->rc == 0) {
		p->rc = -ENOMEM;
		if (p->errlen > 0)
			snprintf(p->err, p->errlen, "out of memory");
	}
	return p->rc;
}

/* A JSON string without NUL bytes (a "\u0000" escape decodes to one). */
static const char *get_string(struct parse *p, const struct json_object *v, const char *what,
			      size_t *len)
{
	if (!json_object_is_type(v, json_type_string)) {
		fail(p, "%s: not a string", what);
		return NULL;
	}
	const char *s = json_object_get_string((struct json_object *)v);
	int n = json_object_get_string_len(v);
	if (n < 0 || strlen(s) != (size_t)n) {
		fail(p, "%s: NUL character in string", what);
		return NULL;
	}
	*len = (size_t)n;
	return s;
}

/* s for an error message: at most 32 bytes, printable ASCII, others as '?'
 * (a key may be anything json-c let through; replies must stay clean). */
static const char *printable(const char *s, char out[static 33])
{
	size_t i = 0;
	for (; s[i] && i < 32; i++)
		out[i] = (s[i] >= 0x20 && s[i] < 0x7f) ? s[i] : '?';
	out[i] = '\0';
	return out;
}

static int parse_name(struct parse *p, const struct json_object *v, char name[PEER_NAME_MAX + 1])
{
	size_t len;
	const char *s = get_string(p, v, "args.name", &len);
	if (!s)
		return p->rc;
	if (len > PEER_NAME_MAX || !peer_name_valid(s))
		return fail(p, "args.name: not a valid peer name (1 to %d of A-Z a-z 0-9 . _ -)",
			    PEER_NAME_MAX);
	memcpy(name, s, len + 1);
	return 0;
}

static bool key_valid(const char *s, size_t len)
{
	if (len == 0 || len > CONTROL_KEY_MAX)
		return false;
	for (size_t i = 0; i < len; i++) {
		char c = s[i];
		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_'))
			return false;
	}
	return true;
}

static bool value_valid(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c < 0x20 || c == 0x7f)
			return false;
	}
	return true;
}

static int parse_settings(struct parse *p, const struct json_object *v, struct control_request *out)
{
	if (!json_object_is_type(v, json_type_array))
		return fail(p, "args.settings: not an array of [key, value] pairs");
	size_t n = json_object_array_length(v);
	if (n > CONTROL_KV_MAX)
		return fail(p, "args.settings: %zu settings, at most %d", n, CONTROL_KV_MAX);
	if (n == 0)
		return 0;
	out->kv = calloc(n, sizeof(*out->kv));
	if (!out->kv)
		return fail_nomem(p);
	for (size_t i = 0; i < n; i++) {
		const struct json_object *pair = json_object_array_get_idx(v, i);
		if (!json_object_is_type(pair, json_type_array) ||
		    json_object_array_length(pair) != 2)
			return fail(p, "args.settings[%zu]: not a [key, value] pair", i);
		size_t klen, vlen;
		const char *k = get_string(p, json_object_array_get_idx(pair, 0),
					   "args.settings key", &klen);
		if (!k)
			return p->rc;
		if (!key_valid(k, klen))
			return fail(p, "args.settings[%zu]: key not 1 to %d of a-z 0-9 _", i,
				    CONTROL_KEY_MAX);
		const char *val = get_string(p, json_object_array_get_idx(pair, 1),
					     "args.settings value", &vlen);
		if (!val)
			return p->rc;
		if (vlen > CONTROL_VALUE_MAX)
			return fail(p, "args.settings[%zu] (%s): value longer than %d bytes", i, k,
				    CONTROL_VALUE_MAX);
		if (!value_valid(val, vlen))
			return fail(p, "args.settings[%zu] (%s): control character in value", i,
				    k);
		out->kv[i].key = strdup(k);
		out->kv[i].value = strdup(val);
		out->n_kv = i + 1;
		if (!out->kv[i].key || !out->kv[i].value)
			return fail_nomem(p);
	}
	return 0;
}

/* The members of args, each checked against what the command takes. */
static int parse_args(struct parse *p, const struct json_object *args, struct control_request *out)
{
	enum arg_kind kind = commands[out->command].args;
	bool have_name = false, have_level = false;

	if (args && !json_object_is_type(args, json_type_object))
		return fail(p, "args: not an object");
	if (args) {
		json_object_object_foreach((struct json_object *)args, key, val)
		{
			if (strcmp(key, CONTROL_ARG_NAME) == 0 &&
			    (kind == ARGS_NAME || kind == ARGS_ADD_PEER)) {
				if (parse_name(p, val, out->name) < 0)
					return p->rc;
				have_name = true;
			} else if (strcmp(key, CONTROL_ARG_SETTINGS) == 0 && kind == ARGS_ADD_PEER) {
				if (parse_settings(p, val, out) < 0)
					return p->rc;
			} else if (strcmp(key, CONTROL_ARG_LEVEL) == 0 && kind == ARGS_LEVEL) {
				size_t len;
				const char *s = get_string(p, val, "args.level", &len);
				if (!s)
					return p->rc;
				char buf[33];
				if (control_log_level_parse(s, &out->level) < 0)
					return fail(p,
						    "unknown level \"%s\"; use error, warning, "
						    "notice, info or debug",
						    printable(s, buf));
				have_level = true;
			} else if (strcmp(key, CONTROL_ARG_FORMAT) == 0 && kind == ARGS_STATS) {
				size_t len;
				const char *s = get_string(p, val, "args.format", &len);
				if (!s)
					return p->rc;
				if (strcmp(s, CONTROL_STATS_FORMAT_PROMETHEUS) != 0)
					return fail(p, "args.format: only \"%s\" is supported",
						    CONTROL_STATS_FORMAT_PROMETHEUS);
			} else {
				char buf[33];
				return fail(p, "%s: unknown argument \"%s\"",
					    commands[out->command].name, printable(key, buf));
			}
		}
	}
	if ((kind == ARGS_NAME || kind == ARGS_ADD_PEER) && !have_name)
		return fail(p, "%s: args.name missing", commands[out->command].name);
	if (kind == ARGS_LEVEL && !have_level)
		return fail(p, "%s: args.level missing", commands[out->command].name);
	return 0;
}

static int parse_command(struct parse *p, const struct json_object *v, struct control_request *out)
{
	size_t len;
	const char *s = get_string(p, v, CONTROL_F_COMMAND, &len);
	if (!s)
		return p->rc;
	for (unsigned i = 0; i < CONTROL_N_COMMANDS; i++) {
		if (strcmp(s, commands[i].name) == 0) {
			out->command = (enum control_command)i;
			return 0;
		}
	}
	char buf[33];
	return fail(p, "unknown command \"%s\"", printable(s, buf));
}

static int parse_object(struct parse *p, const struct json_object *req, struct control_request *out)
{
	/* json-c gives a JSON null as a NULL value: presence is tracked apart */
	const struct json_object *version = NULL, *command = NULL, *args = NULL;
	bool has_version = false, has_command = false;

	if (!json_object_is_type(req, json_type_object))
		return fail(p, "request is not a JSON object");
	json_object_object_foreach((struct json_object *)req, key, val)
	{
		char buf[33];
		if (strcmp(key, CONTROL_F_VERSION) == 0) {
			version = val;
			has_version = true;
		} else if (strcmp(key, CONTROL_F_COMMAND) == 0) {
			command = val;
			has_command = true;
		} else if (strcmp(key, CONTROL_F_ARGS) == 0) {
			args = val;
		} else {
			return fail(p, "unknown member \"%s\"", printable(key, buf));
		}
	}
	if (!has_version)
		return fail(p, "version missing");
	if (!json_object_is_type(version, json_type_int))
		return fail(p, "version: not an integer");
	errno = 0;
	int64_t ver = json_object_get_int64(version);
	if (ver != CONTROL_PROTOCOL_VERSION)
		return fail(p, "unsupported protocol version %lld (this daemon speaks %d)",
			    (long long)ver, CONTROL_PROTOCOL_VERSION);
	if (!has_command)
		return fail(p, "command missing");
	if (parse_command(p, command, out) < 0)
		return p->rc;
	/* "args": null is the same as no args (json-c gives NULL for both) */
	return parse_args(p, args, out);
}

int control_parse_request(const char *line, size_t len, struct control_request *out, char *err,
			  size_t errlen)
{
	struct parse p = { err, errlen, 0 };

	memset(out, 0, sizeof(*out));
	if (errlen > 0)
		err[0] = '\0';
	if (len > CONTROL_LINE_MAX)
		return fail(&p, "request longer than %d bytes", CONTROL_LINE_MAX);
	if (len > 0 && line[len - 1] == '\n')
		len--;
	if (len > 0 && line[len - 1] == '\r')
		len--;
	if (len == 0)
		return fail(&p, "empty request");
	if (memchr(line, '\0', len))
		return fail(&p, "NUL byte in request");
	if (memchr(line, '\n', len))
		return fail(&p, "more than one line in request");

	struct json_tokener *tok = json_tokener_new_ex(CONTROL_JSON_DEPTH);
	if (!tok)
		return fail_nomem(&p);
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8 |
					    JSON_TOKENER_ALLOW_TRAILING_CHARS);
	struct json_object *req = json_tokener_parse_ex(tok, line, (int)len);
	enum json_tokener_error jerr = json_tokener_get_error(tok);
	size_t end = json_tokener_get_parse_end(tok);
	json_tokener_free(tok);

	if (jerr == json_tokener_continue) {
		fail(&p, "truncated JSON");
	} else if (jerr == json_tokener_error_depth) {
		fail(&p, "JSON nested deeper than %d levels", CONTROL_JSON_DEPTH);
	} else if (jerr != json_tokener_success) {
		fail(&p, "malformed JSON at byte %zu: %s", end, json_tokener_error_desc(jerr));
	} else if (!req) {
		fail(&p, "request is not a JSON object");
	} else {
		for (size_t i = end; i < len; i++) {
			if (line[i] != ' ' && line[i] != '\t') {
				fail(&p, "trailing bytes after the JSON object at byte %zu", i);
				break;
			}
		}
		if (p.rc == 0)
			parse_object(&p, req, out);
	}
	json_object_put(req);
	if (p.rc < 0)
		control_request_clear(out);
	return p.rc;
}

int control_settings_ini(const char *name, const struct control_kv *kv, size_t n_kv, char **out)
{
	char *buf = NULL;
	size_t size = 0;
	FILE *f = open_memstream(&buf, &size);

	*out = NULL;
	if (!f)
		return -ENOMEM;
	fprintf(f, "[peer %s]\n", name);
	for (size_t i = 0; i < n_kv; i++)
		fprintf(f, "%s = %s\n", kv[i].key, kv[i].value);
	if (ferror(f) | fclose(f)) {
		if (buf)
			explicit_bzero(buf, size);
		free(buf);
		return -ENOMEM;
	}
	*out = buf;
	return 0;
}
