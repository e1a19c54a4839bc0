/* Control replies: one JSON object and a newline, built with json-c. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "daemon/control/control.h"

/* Serialize obj compactly (newlines in strings come out as \n, so the reply
 * is one line) into a malloc'd copy that ends with "\n". */
static int to_line(struct json_object *obj, char **line, size_t *len)
{
	size_t n;
	const char *s = json_object_to_json_string_length(
		obj, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE, &n);
	if (!s)
		return -ENOMEM;
	char *buf = malloc(n + 2);
	if (!buf)
		return -ENOMEM;
	memcpy(buf, s, n);
	buf[n] = '\n';
	buf[n + 1] = '\0';
	*line = buf;
	*len = n + 1;
	return 0;
}

static struct json_object *envelope(bool ok)
{
	struct json_object *o = json_object_new_object();
	if (!o)
		return NULL;
	if (json_object_object_add(o, CONTROL_F_VERSION,
				   json_object_new_int(CONTROL_PROTOCOL_VERSION)) < 0 ||
	    json_object_object_add(o, CONTROL_F_OK, json_object_new_boolean(ok)) < 0) {
		json_object_put(o);
		return NULL;
	}
	return o;
}

int control_reply_ok(const struct json_object *result, char **line, size_t *len)
{
	*line = NULL;
	*len = 0;
	struct json_object *o = envelope(true);
	if (!o)
		return -ENOMEM;
	/* json_object_get() takes a reference for o; the caller keeps its own. */
	struct json_object *r = json_object_get((struct json_object *)result);
	if (json_object_object_add(o, CONTROL_F_RESULT, r) < 0) {
		json_object_put(r);
		json_object_put(o);
		return -ENOMEM;
	}
	int rc = to_line(o, line, len);
	json_object_put(o);
	return rc;
}

int control_reply_error(const char *message, char **line, size_t *len)
{
	*line = NULL;
	*len = 0;
	struct json_object *o = envelope(false);
	if (!o)
		return -ENOMEM;
	struct json_object *m = json_object_new_string(message ? message : "error");
	if (!m || json_object_object_add(o, CONTROL_F_ERROR, m) < 0) {
		json_object_put(m);
		json_object_put(o);
		return -ENOMEM;
	}
	int rc = to_line(o, line, len);
	json_object_put(o);
	return rc;
}
