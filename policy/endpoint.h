/* UDP endpoints: "192.0.2.1:4433", "[2001:db8::1]:4433". Numeric only, no DNS. */
#ifndef DTLSGW_POLICY_ENDPOINT_H
#define DTLSGW_POLICY_ENDPOINT_H

#include <stddef.h>
#include <sys/socket.h>

#include "policy/defs.h"

/* Room for the text of any endpoint, with its NUL: "[v6addr]:65535". */
#define ENDPOINT_STRLEN 56

/*
 * Parse "a.b.c.d:port" or "[v6]:port" (port 1..65535; a v6 address must be in
 * brackets; no scope ids, no names). Fills *out (a sockaddr_in or sockaddr_in6,
 * rest zero) and *out_len. Returns 0 or -EINVAL.
 */
int endpoint_parse(const char *s, struct sockaddr_storage *out,
		   socklen_t *out_len) POLICY_MUST_CHECK;

/* Write "addr:port" or "[addr]:port" into buf and return buf. */
char *endpoint_format(const struct sockaddr_storage *ss, char buf[static ENDPOINT_STRLEN]);

#endif
