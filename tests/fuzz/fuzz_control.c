/*
 * The control-socket request parser (daemon/control/request.c): any bytes from a
 * client give a validated request or a one-line error, never a crash or a leak.
 * The input is one request line as the server hands it over (newline included or
 * not). Then, as the server would answer it without a gateway:
 *  - an error becomes control_reply_error(), which must be one JSON line carrying
 *    the message back;
 *  - a request is checked field by field against control.h, written back as a
 *    request line that must parse to the same request, and echoed as the result
 *    of control_reply_ok(); add-peer settings go through control_settings_ini(),
 *    which must give exactly one line per setting.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "daemon/control/control.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static size_t count_newlines(const char *s, size_t len)
{
	size_t n = 0;
	for (size_t i = 0; i < len; i++)
		n += s[i] == '\n';
	return n;
}

/* An error message for the client: NUL-terminated in its buffer, non-empty,
 * printable ASCII only (it goes into a reply and a log line). */
static void check_err(const char err[static CONTROL_ERR_MAX])
{
	size_t n = strnlen(err, CONTROL_ERR_MAX);
	if (n == 0 || n == CONTROL_ERR_MAX)
		abort();
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)err[i] < 0x20 || (unsigned char)err[i] >= 0x7f)
			abort();
}

/* A reply: len bytes, one line ending in its only newline, a JSON object with
 * version 1 and the given ok. Returns the parsed object (the caller puts it). */
static struct json_object *check_reply(const char *line, size_t len, bool ok)
{
	if (len == 0 || strlen(line) != len || line[len - 1] != '\n' ||
	    count_newlines(line, len) != 1)
		abort();
	struct json_object *o = json_tokener_parse(line);
	struct json_object *v;
	if (!json_object_is_type(o, json_type_object) ||
	    !json_object_object_get_ex(o, CONTROL_F_VERSION, &v) ||
	    json_object_get_int64(v) != CONTROL_PROTOCOL_VERSION ||
	    !json_object_object_get_ex(o, CONTROL_F_OK, &v) ||
	    json_object_get_boolean(v) != ok)
		abort();
	return o;
}

static void check_error_reply(const char *err)
{
	char *line;
	size_t len;
	if (control_reply_error(err, &line, &len) < 0)
		return;
	struct json_object *o = check_reply(line, len, false);
	struct json_object *m;
	if (!json_object_object_get_ex(o, CONTROL_F_ERROR, &m) ||
	    strcmp(json_object_get_string(m), err) != 0)
		abort();
	json_object_put(o);
	free(line);
}

static bool has_name(enum control_command cmd)
{
	return cmd == CONTROL_PEER || cmd == CONTROL_ADD_PEER || cmd == CONTROL_REMOVE_PEER ||
	       cmd == CONTROL_DISCONNECT;
}

/* What control.h promises of an accepted request. */
static void check_request(const struct control_request *req)
{
	if ((unsigned)req->command >= CONTROL_N_COMMANDS ||
	    strcmp(control_command_name(req->command), "?") == 0)
		abort();
	(void)control_command_mutates(req->command);
	if (has_name(req->command) != (req->name[0] != '\0'))
		abort();
	if (req->name[0] && !peer_name_valid(req->name))
		abort();
	if (req->command != CONTROL_ADD_PEER && (req->kv || req->n_kv))
		abort();
	if ((req->kv == NULL) != (req->n_kv == 0) || req->n_kv > CONTROL_KV_MAX)
		abort();
	for (size_t i = 0; i < req->n_kv; i++) {
		const char *k = req->kv[i].key, *v = req->kv[i].value;
		size_t klen = strlen(k), vlen = strlen(v);
		if (klen == 0 || klen > CONTROL_KEY_MAX || vlen > CONTROL_VALUE_MAX)
			abort();
		if (strspn(k, "abcdefghijklmnopqrstuvwxyz0123456789_") != klen)
			abort();
		for (size_t j = 0; j < vlen; j++)
			if ((unsigned char)v[j] < 0x20 || v[j] == 0x7f)
				abort();
	}
	if (req->command == CONTROL_LOG_LEVEL) {
		if (strcmp(control_log_level_name(req->level), "?") == 0)
			abort();
	} else if (req->level != 0) {
		abort();
	}
}

/* req as a request object, or NULL when out of memory. */
static struct json_object *request_json(const struct control_request *req)
{
	struct json_object *o = json_object_new_object(), *args = json_object_new_object();
	struct json_object *settings = json_object_new_array();
	if (!o || !args || !settings)
		goto fail;
	json_object_object_add(o, CONTROL_F_VERSION, json_object_new_int(CONTROL_PROTOCOL_VERSION));
	json_object_object_add(o, CONTROL_F_COMMAND,
			       json_object_new_string(control_command_name(req->command)));
	if (has_name(req->command))
		json_object_object_add(args, CONTROL_ARG_NAME, json_object_new_string(req->name));
	if (req->command == CONTROL_LOG_LEVEL)
		json_object_object_add(args, CONTROL_ARG_LEVEL,
				       json_object_new_string(control_log_level_name(req->level)));
	for (size_t i = 0; i < req->n_kv; i++) {
		struct json_object *pair = json_object_new_array();
		json_object_array_add(pair, json_object_new_string(req->kv[i].key));
		json_object_array_add(pair, json_object_new_string(req->kv[i].value));
		json_object_array_add(settings, pair);
	}
	if (req->command == CONTROL_ADD_PEER) {
		json_object_object_add(args, CONTROL_ARG_SETTINGS, settings);
		settings = NULL;
	}
	json_object_object_add(o, CONTROL_F_ARGS, args);
	json_object_put(settings);
	return o;
fail:
	json_object_put(o);
	json_object_put(args);
	json_object_put(settings);
	return NULL;
}

static bool same_request(const struct control_request *a, const struct control_request *b)
{
	if (a->command != b->command || strcmp(a->name, b->name) != 0 || a->n_kv != b->n_kv ||
	    a->level != b->level)
		return false;
	for (size_t i = 0; i < a->n_kv; i++)
		if (strcmp(a->kv[i].key, b->kv[i].key) != 0 ||
		    strcmp(a->kv[i].value, b->kv[i].value) != 0)
			return false;
	return true;
}

static void check_accepted(const struct control_request *req)
{
	check_request(req);

	struct json_object *o = request_json(req);
	if (!o)
		return;
	size_t n;
	const char *s = json_object_to_json_string_length(o, JSON_C_TO_STRING_PLAIN, &n);
	if (s) {
		struct control_request again;
		char err[CONTROL_ERR_MAX];
		int rc = control_parse_request(s, n, &again, err, sizeof(err));
		if (rc == 0 && !same_request(req, &again))
			abort(); /* written back, it reads as another request */
		if (rc == -EINVAL)
			abort(); /* written back, it is refused */
		control_request_clear(&again);
	}

	char *line;
	size_t len;
	if (control_reply_ok(o, &line, &len) == 0) {
		json_object_put(check_reply(line, len, true));
		free(line);
	}
	json_object_put(o);

	if (req->command == CONTROL_ADD_PEER) {
		char *ini;
		if (control_settings_ini(req->name, req->kv, req->n_kv, &ini) == 0) {
			/* a value can never start a line of its own in the file */
			if (count_newlines(ini, strlen(ini)) != req->n_kv + 1)
				abort();
			free(ini);
		}
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct control_request req;
	char err[CONTROL_ERR_MAX];

	memset(err, 0xa5, sizeof(err));
	int rc = control_parse_request((const char *)data, size, &req, err, sizeof(err));
	if (rc == 0) {
		if (err[0] != '\0')
			abort();
		check_accepted(&req);
	} else {
		static const struct control_request zero;
		if (rc != -EINVAL && rc != -ENOMEM)
			abort();
		if (memcmp(&req, &zero, sizeof(req)) != 0)
			abort(); /* a refused request must be left empty */
		check_err(err);
		check_error_reply(err);
	}
	control_request_clear(&req);
	return 0;
}
