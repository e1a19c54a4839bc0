/* Small definitions shared by the policy headers. */
#ifndef DTLSGW_POLICY_DEFS_H
#define DTLSGW_POLICY_DEFS_H

/* Every policy function that can fail returns 0 (or a documented positive flag)
 * or a negative errno, and its result must be looked at. */
#define POLICY_MUST_CHECK __attribute__((warn_unused_result))

#endif
