/*
 * dtlsgwd logging: one line per event on stderr, in the vocabulary of OpenBSD
 * daemons (log_warn adds strerror(errno), log_warnx does not, fatal exits).
 *
 * Lines look like "12:03:04.512 warning: peer b: handshake failed: ..." on a
 * terminal or file, and "<4>peer b: ..." when stderr is a journald stream
 * (JOURNAL_STREAM is set), so that journald picks up the level.
 *
 * Concurrency: every function may be called from any thread; each line is
 * written with one write(2), so lines of different threads do not interleave.
 * log_set_level() is for the main thread; the level is an atomic that any thread
 * may read (relaxed: a worker sees a change a little late at worst).
 */
#ifndef DTLSGW_DAEMON_LOG_H
#define DTLSGW_DAEMON_LOG_H

#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "daemon/config.h"

#define LOG_FMT(a, b) __attribute__((format(printf, a, b)))

/* Lines above level are not printed. Default GW_LOG_INFO. */
void log_set_level(enum gw_log_level level);
enum gw_log_level log_get_level(void);
bool log_enabled(enum gw_log_level level);

void log_msg(enum gw_log_level level, const char *fmt, ...) LOG_FMT(2, 3);
void log_vmsg(enum gw_log_level level, const char *fmt, va_list ap) LOG_FMT(2, 0);

/* A warning followed by ": strerror(errno)". */
void log_warn(const char *fmt, ...) LOG_FMT(1, 2);
void log_warnx(const char *fmt, ...) LOG_FMT(1, 2);
void log_notice(const char *fmt, ...) LOG_FMT(1, 2);
void log_info(const char *fmt, ...) LOG_FMT(1, 2);
void log_debug(const char *fmt, ...) LOG_FMT(1, 2);
/* An error line (with strerror(errno) for fatal) and exit(1). */
void fatal(const char *fmt, ...) LOG_FMT(1, 2) __attribute__((noreturn));
void fatalx(const char *fmt, ...) LOG_FMT(1, 2) __attribute__((noreturn));

/*
 * Rate limiting for per-packet events: at most one line per interval per
 * limiter; the lines held back are counted and the next line that gets out
 * ends with " (N more suppressed)". A limiter is all zero to start with and
 * may be shared by any number of threads (it is lock-free).
 */
struct log_ratelimit {
	_Atomic uint64_t next_ms;    /* earliest time of the next line */
	_Atomic uint64_t suppressed; /* lines held back since the last one */
};

#define LOG_RATELIMIT_MS 1000

void log_ratelimited(struct log_ratelimit *rl, enum gw_log_level level, const char *fmt, ...)
	LOG_FMT(3, 4);

/* Milliseconds of CLOCK_MONOTONIC: the clock of every timer in the daemon. */
uint64_t now_ms(void);

#endif
