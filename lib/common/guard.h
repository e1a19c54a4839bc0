/*
 * The guard macros. Every function that can fail returns 0 or a negative enum dtls_err
 * and is marked MUST_CHECK. These are all there are: keep them few and obvious.
 */
#ifndef DTLS_GUARD_H
#define DTLS_GUARD_H

#include <dtls/err.h>

#define MUST_CHECK __attribute__((warn_unused_result))

/* Return the error of a call that failed. */
#define TRY(expr)                                   \
	do {                                        \
		int try_rc_ = (expr);               \
		if (try_rc_ < 0)                    \
			return try_rc_;             \
	} while (0)

/* Return err unless cond holds. */
#define ENSURE(cond, err)                           \
	do {                                        \
		if (!(cond))                        \
			return (err);               \
	} while (0)

/* Jump to the function's single cleanup label on failure, with rc set. */
#define TRY_GOTO(rc, expr, label)                   \
	do {                                        \
		(rc) = (expr);                      \
		if ((rc) < 0)                       \
			goto label;                 \
	} while (0)

/* For a call whose failure is handled elsewhere (a session's sticky error, say). */
#define IGNORE_RESULT(expr)                         \
	do {                                        \
		int ignored_rc_ = (expr);           \
		(void)ignored_rc_;                  \
	} while (0)

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

#endif
