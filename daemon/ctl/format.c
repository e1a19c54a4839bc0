/* dtlsgwctl: JSON getters and human units. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "daemon/ctl/ctl.h"

const struct json_object *jobj(const struct json_object *o, const char *key)
{
	struct json_object *v = NULL;
	if (!o || !json_object_is_type(o, json_type_object) ||
	    !json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_object))
		return NULL;
	return v;
}

const struct json_object *jarr(const struct json_object *o, const char *key)
{
	struct json_object *v = NULL;
	if (!o || !json_object_is_type(o, json_type_object) ||
	    !json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_array))
		return NULL;
	return v;
}

const char *jstr(const struct json_object *o, const char *key)
{
	struct json_object *v = NULL;
	if (!o || !json_object_is_type(o, json_type_object) ||
	    !json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_string))
		return NULL;
	return json_object_get_string(v);
}

bool jnum(const struct json_object *o, const char *key, uint64_t *out)
{
	struct json_object *v = NULL;
	if (!o || !json_object_is_type(o, json_type_object) ||
	    !json_object_object_get_ex(o, key, &v))
		return false;
	if (json_object_is_type(v, json_type_int)) {
		int64_t i = json_object_get_int64(v);
		*out = i == INT64_MAX ? json_object_get_uint64(v) : i < 0 ? 0 : (uint64_t)i;
		return true;
	}
	if (json_object_is_type(v, json_type_double)) {
		double d = json_object_get_double(v);
		*out = d > 0 ? (uint64_t)d : 0;
		return true;
	}
	return false;
}

const char *fmt_bytes(uint64_t n, char buf[static FMT_MAX])
{
	static const char *const units[] = { "KiB", "MiB", "GiB", "TiB", "PiB", "EiB" };
	if (n < 1024) {
		snprintf(buf, FMT_MAX, "%" PRIu64 " B", n);
		return buf;
	}
	double v = (double)n / 1024;
	size_t u = 0;
	while (v >= 1024 && u + 1 < sizeof(units) / sizeof(units[0])) {
		v /= 1024;
		u++;
	}
	/* rounding 9.96 to "10.0" is fine; 1023.9 KiB prints as "1024 KiB" */
	snprintf(buf, FMT_MAX, v < 10 ? "%.1f %s" : "%.0f %s", v, units[u]);
	return buf;
}

const char *fmt_duration(uint64_t s, char buf[static FMT_MAX])
{
	if (s < 60)
		snprintf(buf, FMT_MAX, "%" PRIu64 " s", s);
	else if (s < 3600)
		snprintf(buf, FMT_MAX, "%" PRIu64 " min %" PRIu64 " s", s / 60, s % 60);
	else if (s < 86400)
		snprintf(buf, FMT_MAX, "%" PRIu64 " h %" PRIu64 " min", s / 3600, s % 3600 / 60);
	else
		snprintf(buf, FMT_MAX, "%" PRIu64 " d %" PRIu64 " h", s / 86400, s % 86400 / 3600);
	return buf;
}

const char *fmt_ago(const struct json_object *o, const char *key, uint64_t now,
		    char buf[static FMT_MAX])
{
	uint64_t t;
	if (!jnum(o, key, &t) || t == 0) {
		snprintf(buf, FMT_MAX, "never");
		return buf;
	}
	if (t > now + 1) {
		snprintf(buf, FMT_MAX, "in the future");
		return buf;
	}
	uint64_t d = now > t ? now - t : 0;
	if (d < 1)
		snprintf(buf, FMT_MAX, "just now");
	else if (d < 60)
		snprintf(buf, FMT_MAX, "%" PRIu64 " s ago", d);
	else if (d < 3600)
		snprintf(buf, FMT_MAX, "%" PRIu64 " min ago", d / 60);
	else if (d < 86400)
		snprintf(buf, FMT_MAX, "%" PRIu64 " h ago", d / 3600);
	else
		snprintf(buf, FMT_MAX, "%" PRIu64 " d ago", d / 86400);
	return buf;
}

const char *fmt_drops(const struct json_object *drops, char *buf, size_t len, uint64_t *sum)
{
	size_t off = 0;
	uint64_t total = 0;

	buf[0] = '\0';
	if (drops && json_object_is_type(drops, json_type_object)) {
		json_object_object_foreach((struct json_object *)drops, reason, val)
		{
			uint64_t n;
			(void)val;
			if (!jnum(drops, reason, &n))
				continue;
			total += n;
			if (off < len) {
				int w = snprintf(buf + off, len - off, "%s%s %" PRIu64,
						 off ? ", " : "", reason, n);
				off += w > 0 ? (size_t)w : 0;
			}
		}
	}
	if (!buf[0])
		snprintf(buf, len, "-");
	if (sum)
		*sum = total;
	return buf;
}

const char *fmt_list(const struct json_object *arr, char *buf, size_t len)
{
	size_t off = 0;

	buf[0] = '\0';
	if (arr && json_object_is_type(arr, json_type_array)) {
		size_t n = json_object_array_length(arr);
		for (size_t i = 0; i < n && off < len; i++) {
			struct json_object *v = json_object_array_get_idx(arr, i);
			if (!json_object_is_type(v, json_type_string))
				continue;
			int w = snprintf(buf + off, len - off, "%s%s", off ? ", " : "",
					 json_object_get_string(v));
			off += w > 0 ? (size_t)w : 0;
		}
	}
	if (!buf[0])
		snprintf(buf, len, "-");
	return buf;
}
