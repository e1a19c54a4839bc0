/* Numeric UDP endpoint parsing and formatting. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "policy/endpoint.h"

/* Decimal 1..65535, digits only. */
static int parse_port(const char *s, uint16_t *out)
{
	unsigned long v = 0;
	size_t n;

	for (n = 0; s[n]; n++) {
		if (s[n] < '0' || s[n] > '9' || n == 5)
			return -EINVAL;
		v = v * 10 + (unsigned long)(s[n] - '0');
	}
	if (n == 0 || v == 0 || v > 65535)
		return -EINVAL;
	*out = (uint16_t)v;
	return 0;
}

int endpoint_parse(const char *s, struct sockaddr_storage *out, socklen_t *out_len)
{
	char host[INET6_ADDRSTRLEN];
	const char *hs, *colon;
	size_t hlen;
	uint16_t port;
	int v6;

	if (!s)
		return -EINVAL;
	v6 = s[0] == '[';
	if (v6) {
		const char *close = strchr(s, ']');
		if (!close || close[1] != ':')
			return -EINVAL;
		hs = s + 1;
		hlen = (size_t)(close - hs);
		colon = close + 1;
	} else {
		colon = strchr(s, ':');
		if (!colon || strchr(colon + 1, ':'))
			return -EINVAL;
		hs = s;
		hlen = (size_t)(colon - s);
	}
	if (hlen == 0 || hlen >= sizeof(host) || parse_port(colon + 1, &port) < 0)
		return -EINVAL;
	memcpy(host, hs, hlen);
	host[hlen] = '\0';

	memset(out, 0, sizeof(*out));
	if (v6) {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)out;
		if (inet_pton(AF_INET6, host, &sin6->sin6_addr) != 1)
			return -EINVAL;
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons(port);
		*out_len = sizeof(*sin6);
	} else {
		struct sockaddr_in *sin = (struct sockaddr_in *)out;
		if (inet_pton(AF_INET, host, &sin->sin_addr) != 1)
			return -EINVAL;
		sin->sin_family = AF_INET;
		sin->sin_port = htons(port);
		*out_len = sizeof(*sin);
	}
	return 0;
}

char *endpoint_format(const struct sockaddr_storage *ss, char buf[static ENDPOINT_STRLEN])
{
	char host[INET6_ADDRSTRLEN] = "?";

	switch (ss->ss_family) {
	case AF_INET: {
		const struct sockaddr_in *sin = (const struct sockaddr_in *)ss;
		inet_ntop(AF_INET, &sin->sin_addr, host, sizeof(host));
		snprintf(buf, ENDPOINT_STRLEN, "%s:%u", host, (unsigned)ntohs(sin->sin_port));
		break;
	}
	case AF_INET6: {
		const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)ss;
		inet_ntop(AF_INET6, &sin6->sin6_addr, host, sizeof(host));
		snprintf(buf, ENDPOINT_STRLEN, "[%s]:%u", host, (unsigned)ntohs(sin6->sin6_port));
		break;
	}
	default:
		snprintf(buf, ENDPOINT_STRLEN, "(none)");
		break;
	}
	return buf;
}
