/* The client engine past a real server flight: see fuzz_client.c. */
#define FUZZ_DEEP 1
#include "fuzz_client.c"
