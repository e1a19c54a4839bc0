/*
 * The UDP sockets: one per worker, all bound to the listen address with
 * SO_REUSEPORT (the kernel spreads peers over them by address hash). A socket
 * bound to an IPv6 address ("[::]:4433") also serves IPv4 peers, which then
 * appear as IPv4-mapped IPv6 addresses (::ffff:192.0.2.1): every address the
 * daemon keeps is normalised to the sockets' family with udp_normalize().
 */
#ifndef DTLSGW_DAEMON_UDP_H
#define DTLSGW_DAEMON_UDP_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#define UDP_MUST_CHECK __attribute__((warn_unused_result))

/* A non-blocking UDP socket bound to listen with SO_REUSEPORT, large buffers, and
 * IPV6_V6ONLY off for IPv6. Returns the fd or -errno. */
int udp_open(const struct sockaddr *listen, socklen_t len) UDP_MUST_CHECK;
/* Whether listen is free: a socket without SO_REUSEPORT binds it (and is closed);
 * -EADDRINUSE when another socket holds it (SO_REUSEPORT or not), or another -errno. */
int udp_probe(const struct sockaddr *listen, socklen_t len) UDP_MUST_CHECK;

/* Whether the kernel takes UDP_SEGMENT (GSO: one send of several equal-sized
 * datagrams). A send can still be refused later (EIO: the route cannot offload); the
 * caller falls back to one datagram per send then. */
bool udp_gso_supported(int fd);
/* Turns UDP_GRO on: a receive may then return several datagrams of one sender glued
 * together, with their size in a UDP_GRO control message. Whether the kernel took it. */
bool udp_enable_gro(int fd);

/*
 * An error the kernel queued on a socket (IP_RECVERR / IPV6_RECVERR, which udp_open()
 * turns on): an ICMP or ICMPv6 error that came back for a datagram we sent, or a local
 * one. dst is where that datagram went, in the socket's family; from is who sent the
 * error (from_len 0 if none was given).
 */
struct udp_error {
	struct sockaddr_storage dst, from;
	socklen_t dst_len, from_len;
	int err;                 /* errno: ECONNREFUSED for port unreachable, ... */
	uint8_t origin;          /* SO_EE_ORIGIN_* */
	uint8_t type, code;      /* ICMP or ICMPv6 type and code */
};
/* Takes the next error queued on fd (MSG_ERRQUEUE, never blocks): 1 and *e, 0 if none
 * is queued, or -errno. Epoll reports EPOLLERR on fd while one is queued. */
int udp_error_take(int fd, struct udp_error *e) UDP_MUST_CHECK;
/* Whether e says the destination cannot be reached (ICMP destination unreachable:
 * port, host, network, administratively prohibited), as opposed to a too-big packet,
 * a time exceeded or a local error. */
bool udp_error_unreachable(const struct udp_error *e);
/* "ICMP port unreachable from 192.0.2.1" and the like, in buf. */
#define UDP_ERRSTRLEN 128
const char *udp_error_str(const struct udp_error *e, char buf[static UDP_ERRSTRLEN]);
/* Whether a send or receive failed with an error that an ICMP error queued on the socket
 * also gave it (sk_err): the call may simply be made again, the error queue reports it. */
bool udp_errno_from_icmp(int err);
/* sendto(MSG_DONTWAIT), made again once when it fails with such an ICMP error's errno
 * (the error queue reports that error; the datagram still goes). 0 or -1 with errno. */
int udp_send(int fd, const void *d, size_t n, const struct sockaddr *to, socklen_t to_len);

/*
 * Writes addr in the form the sockets of family use: an IPv4 address becomes
 * IPv4-mapped for an AF_INET6 socket. -EAFNOSUPPORT if an AF_INET socket cannot
 * reach addr (IPv6).
 */
int udp_normalize(int family, const struct sockaddr *addr, socklen_t len,
		  struct sockaddr_storage *out, socklen_t *out_len) UDP_MUST_CHECK;

#endif
