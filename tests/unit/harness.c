#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <CUnit/Basic.h>

#include "harness.h"

size_t unit_unhex(uint8_t *out, size_t cap, const char *hex)
{
	size_t n = strlen(hex) / 2;

	CU_ASSERT_FATAL(n <= cap);
	for (size_t i = 0; i < n; i++) {
		unsigned v;
		CU_ASSERT_FATAL(sscanf(hex + 2 * i, "%2x", &v) == 1);
		out[i] = (uint8_t)v;
	}
	return n;
}

void unit_check_hex(const uint8_t *got, size_t len, const char *want_hex)
{
	uint8_t want[1024];
	size_t n = unit_unhex(want, sizeof(want), want_hex);

	CU_ASSERT_EQUAL_FATAL(n, len);
	CU_ASSERT(memcmp(got, want, n) == 0);
}

static char pki_dir[64];

int unit_pki_make(void)
{
	char cmd[512];

	snprintf(pki_dir, sizeof(pki_dir), "/tmp/dtlsgw-unit-pki-XXXXXX");
	if (!mkdtemp(pki_dir))
		return -1;
	snprintf(cmd, sizeof(cmd), "'%s/tests/pki/mkpki.sh' '%s' && chmod 600 '%s'/*.key",
		 TEST_SOURCE_DIR, pki_dir, pki_dir);
	return system(cmd) == 0 ? 0 : -1;
}

const char *unit_pki_path(const char *name)
{
	static char buf[8][256];
	static unsigned k;
	char *p = buf[k++ % 8];

	snprintf(p, sizeof(buf[0]), "%s/%s", pki_dir, name);
	return p;
}

int unit_pki_free(void)
{
	char cmd[128];

	if (!pki_dir[0])
		return 0;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", pki_dir);
	return system(cmd) == 0 ? 0 : -1;
}

int main(void)
{
	if (CU_initialize_registry() != CUE_SUCCESS)
		return 2;
	CU_SuiteInfo suites[] = {
		{ (char *)unit_suite.name, unit_suite.init, unit_suite.cleanup, NULL, NULL,
		  unit_suite.tests },
		CU_SUITE_INFO_NULL,
	};
	if (CU_register_suites(suites) != CUE_SUCCESS) {
		fprintf(stderr, "cannot register suite: %s\n", CU_get_error_msg());
		return 2;
	}
	CU_basic_set_mode(CU_BRM_VERBOSE);
	CU_basic_run_tests();
	unsigned failed = CU_get_number_of_failures() + CU_get_number_of_tests_failed();
	unsigned run = CU_get_number_of_tests_run();
	CU_cleanup_registry();
	if (run == 0) {
		fprintf(stderr, "no test ran\n");
		return 1;
	}
	return failed ? 1 : 0;
}
