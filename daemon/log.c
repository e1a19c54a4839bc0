/* Logging to stderr, one write(2) per line, with levels and rate limiting. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "daemon/log.h"

#define LINE_MAX_LEN 1024

/* Written by the main thread (configuration, reload, dtlsgwctl log-level), read by
 * every thread: relaxed atomics, as a plain int would be a data race. */
static _Atomic enum gw_log_level log_level = GW_LOG_INFO;
static _Atomic int journald = -1; /* -1: not decided yet */

/* syslog priorities of our levels, for journald's "<N>" prefix */
static const int priorities[] = {
	[GW_LOG_ERROR] = 3, [GW_LOG_WARNING] = 4, [GW_LOG_NOTICE] = 5,
	[GW_LOG_INFO] = 6,  [GW_LOG_DEBUG] = 7,
};

void log_set_level(enum gw_log_level level)
{
	atomic_store_explicit(&log_level, level, memory_order_relaxed);
}

enum gw_log_level log_get_level(void)
{
	return atomic_load_explicit(&log_level, memory_order_relaxed);
}

bool log_enabled(enum gw_log_level level)
{
	return level <= atomic_load_explicit(&log_level, memory_order_relaxed);
}

uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* Formats one line (prefix, message, optional suffix) and writes it at once. */
static void emit(enum gw_log_level level, const char *suffix, const char *fmt, va_list ap)
{
	char line[LINE_MAX_LEN];
	size_t n = 0;
	int rc;

	if (journald < 0)
		journald = getenv("JOURNAL_STREAM") != NULL;
	if (journald) {
		rc = snprintf(line, sizeof(line), "<%d>", priorities[level]);
	} else {
		struct timespec ts;
		struct tm tm;
		clock_gettime(CLOCK_REALTIME, &ts);
		localtime_r(&ts.tv_sec, &tm);
		rc = snprintf(line, sizeof(line), "%02d:%02d:%02d.%03ld %s: ", tm.tm_hour, tm.tm_min,
			      tm.tm_sec, ts.tv_nsec / 1000000, config_log_level_name(level));
	}
	n = rc > 0 ? (size_t)rc : 0;
	rc = vsnprintf(line + n, sizeof(line) - n, fmt, ap);
	if (rc > 0)
		n += (size_t)rc;
	if (n > sizeof(line) - 2)
		n = sizeof(line) - 2;
	if (suffix) {
		rc = snprintf(line + n, sizeof(line) - n, "%s", suffix);
		if (rc > 0)
			n += (size_t)rc;
		if (n > sizeof(line) - 2)
			n = sizeof(line) - 2;
	}
	line[n++] = '\n';
	for (size_t off = 0; off < n;) {
		ssize_t w = write(STDERR_FILENO, line + off, n - off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			break;
		off += (size_t)w;
	}
}

void log_vmsg(enum gw_log_level level, const char *fmt, va_list ap)
{
	if (!log_enabled(level))
		return;
	emit(level, NULL, fmt, ap);
}

void log_msg(enum gw_log_level level, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vmsg(level, fmt, ap);
	va_end(ap);
}

void log_warn(const char *fmt, ...)
{
	char suffix[160];
	va_list ap;
	int saved = errno;

	if (!log_enabled(GW_LOG_WARNING))
		return;
	snprintf(suffix, sizeof(suffix), ": %s", strerror(saved));
	va_start(ap, fmt);
	emit(GW_LOG_WARNING, suffix, fmt, ap);
	va_end(ap);
	errno = saved;
}

#define LEVEL_FN(name, level)                   \
	void name(const char *fmt, ...)         \
	{                                       \
		va_list ap;                     \
		va_start(ap, fmt);              \
		log_vmsg(level, fmt, ap);       \
		va_end(ap);                     \
	}

LEVEL_FN(log_warnx, GW_LOG_WARNING)
LEVEL_FN(log_notice, GW_LOG_NOTICE)
LEVEL_FN(log_info, GW_LOG_INFO)
LEVEL_FN(log_debug, GW_LOG_DEBUG)

void fatal(const char *fmt, ...)
{
	char suffix[160];
	va_list ap;

	snprintf(suffix, sizeof(suffix), ": %s", strerror(errno));
	va_start(ap, fmt);
	emit(GW_LOG_ERROR, suffix, fmt, ap);
	va_end(ap);
	exit(1);
}

void fatalx(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	emit(GW_LOG_ERROR, NULL, fmt, ap);
	va_end(ap);
	exit(1);
}

void log_ratelimited(struct log_ratelimit *rl, enum gw_log_level level, const char *fmt, ...)
{
	uint64_t now, next;
	va_list ap;
	char suffix[48];

	if (!log_enabled(level))
		return;
	now = now_ms();
	next = atomic_load_explicit(&rl->next_ms, memory_order_relaxed);
	if (now < next || !atomic_compare_exchange_strong(&rl->next_ms, &next,
							  now + LOG_RATELIMIT_MS)) {
		atomic_fetch_add_explicit(&rl->suppressed, 1, memory_order_relaxed);
		return;
	}
	uint64_t held = atomic_exchange_explicit(&rl->suppressed, 0, memory_order_relaxed);
	if (held)
		snprintf(suffix, sizeof(suffix), " (%llu more suppressed)", (unsigned long long)held);
	va_start(ap, fmt);
	emit(level, held ? suffix : NULL, fmt, ap);
	va_end(ap);
}
