/* Hex strings for keys and pins. */
#ifndef DTLSGW_POLICY_HEX_H
#define DTLSGW_POLICY_HEX_H

#include <stddef.h>
#include <stdint.h>

#include "policy/defs.h"

/*
 * Decode a string of hex digit pairs (either case, nothing else: no "0x", no
 * separators, no spaces) into out. Returns the number of bytes written, -EINVAL if
 * s is empty, of odd length or holds a non-hex character, -E2BIG if it would
 * need more than cap bytes. On error out is wiped (it may hold a secret).
 */
int hex_decode(const char *s, uint8_t *out, size_t cap) POLICY_MUST_CHECK;

#endif
