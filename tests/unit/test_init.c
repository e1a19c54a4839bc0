/* Library initialisation: a process may fork after dtls_init() and use the library in the child. */
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <dtls/dtls.h>

#include "crypto/crypto.h"
#include "harness.h"

static void test_fork_after_init(void)
{
	CU_ASSERT_FATAL(dtls_init() == 0);
	uint8_t parent[32], child_bytes[32];
	crypto_random(parent, sizeof(parent));
	int fds[2];
	CU_ASSERT_FATAL(pipe(fds) == 0);
	pid_t pid = fork();
	CU_ASSERT_FATAL(pid >= 0);
	if (pid == 0) {
		/* The child draws randomness and makes a cookie jar (which does too). */
		uint8_t b[32];
		crypto_random(b, sizeof(b));
		struct dtls_cookie_jar *jar = dtls_cookie_jar_new(0, 0);
		ssize_t w = write(fds[1], b, sizeof(b));
		_exit(jar && w == (ssize_t)sizeof(b) ? 0 : 3);
	}
	int st = 0;
	CU_ASSERT(waitpid(pid, &st, 0) == pid);
	CU_ASSERT(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	CU_ASSERT(read(fds[0], child_bytes, sizeof(child_bytes)) == (ssize_t)sizeof(child_bytes));
	/* The child's generator was reseeded: it does not repeat the parent's stream. */
	uint8_t next[32];
	crypto_random(next, sizeof(next));
	CU_ASSERT(memcmp(child_bytes, next, sizeof(next)) != 0);
	close(fds[0]);
	close(fds[1]);
}

static CU_TestInfo tests[] = {
	{ "fork after dtls_init: the child draws fresh randomness", test_fork_after_init },
	CU_TEST_INFO_NULL,
};

const struct unit_suite unit_suite = { "init", NULL, NULL, tests };
