/* PROTOTYPE: control ops of dtlsgwd. */
#ifndef DTLSGW_DAEMON_CONTROL_OPS_H
#define DTLSGW_DAEMON_CONTROL_OPS_H
#include "daemon/control/control.h"
extern const struct control_ops gw_control_ops;
void gw_control_started(void);
#endif
