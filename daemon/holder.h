/*
 * Who already holds what a new instance is about to take: the UDP port it listens on
 * (SO_REUSEPORT would let a second dtlsgwd bind it and take part of the first one's
 * datagrams) and the TUN device name (a second dtlsgwd would join the first one's
 * multi-queue device). Read from /proc, best effort: a process this user cannot see
 * is not found.
 */
#ifndef DTLSGW_DAEMON_HOLDER_H
#define DTLSGW_DAEMON_HOLDER_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>
#include <sys/types.h>

/* A process that holds a UDP socket on addr's port in this network namespace, or 0. */
pid_t holder_of_udp_port(const struct sockaddr *addr, socklen_t len);
/* The process that holds a queue of TUN device name, or 0. */
pid_t holder_of_tun(const char *name);
/* "dtlsgwd pid 1234", or "pid 1234" when its name cannot be read. */
const char *holder_describe(pid_t pid, char *buf, size_t cap);

#endif
