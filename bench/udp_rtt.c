/*
 * udp_rtt: the round-trip time of a UDP request answered by a userspace process.
 *
 *   udp_rtt echo PORT                        answer every datagram to PORT (IPv4) with
 *                                            itself, one blocking recvfrom + sendto each,
 *                                            until killed
 *   udp_rtt ping ADDR PORT COUNT INTERVAL_MS send COUNT 56-byte requests, one every
 *                                            INTERVAL_MS, each waiting up to 1 s for its
 *                                            answer; prints "avg_ms lost" and exits 1 if
 *                                            every request was lost
 *
 * bench/tunnel uses it next to ping: over plain veth, ping's echo reply comes from the
 * kernel inside the sender's own system call, while a UDP echo needs one userspace
 * process to wake up, read and write. The difference is what one userspace hop costs on
 * the machine, a floor under any userspace tunnel (which puts its gateways in the path of
 * a round trip three times: out of a, through b, into a).
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static int usage(void)
{
	fprintf(stderr, "usage: udp_rtt echo PORT | udp_rtt ping ADDR PORT COUNT INTERVAL_MS\n");
	return 2;
}

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static int parse_port(const char *s, struct sockaddr_in *sa)
{
	char *end;
	long v = strtol(s, &end, 10);

	if (*end || v < 1 || v > 65535)
		return -1;
	sa->sin_family = AF_INET;
	sa->sin_port = htons((uint16_t)v);
	return 0;
}

static int echo(const char *port)
{
	struct sockaddr_in sa = { 0 };
	uint8_t buf[2048];
	int fd;

	if (parse_port(port, &sa) < 0)
		return usage();
	if ((fd = socket(AF_INET, SOCK_DGRAM, 0)) < 0 || bind(fd, (void *)&sa, sizeof(sa)) < 0) {
		perror("udp_rtt: echo socket");
		return 1;
	}
	for (;;) {
		struct sockaddr_in from;
		socklen_t flen = sizeof(from);
		ssize_t n = recvfrom(fd, buf, sizeof(buf), 0, (void *)&from, &flen);

		if (n >= 0)
			sendto(fd, buf, (size_t)n, 0, (void *)&from, flen);
	}
}

static int ping(const char *addr, const char *port, const char *count, const char *interval)
{
	struct sockaddr_in sa = { 0 };
	struct timeval tmo = { .tv_sec = 1 };
	long n = strtol(count, NULL, 10), every = strtol(interval, NULL, 10), got = 0;
	double sum = 0;
	uint8_t req[56], rsp[2048];
	int fd;

	if (parse_port(port, &sa) < 0 || inet_pton(AF_INET, addr, &sa.sin_addr) != 1 || n < 1 ||
	    every < 0)
		return usage();
	if ((fd = socket(AF_INET, SOCK_DGRAM, 0)) < 0 || connect(fd, (void *)&sa, sizeof(sa)) < 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tmo, sizeof(tmo)) < 0) {
		perror("udp_rtt: ping socket");
		return 1;
	}
	for (long i = 0; i < n; i++) {
		double t0;
		ssize_t r;

		/* A sequence number, so a late answer to an earlier request is not taken. */
		memset(req, 0, sizeof(req));
		memcpy(req, &i, sizeof(i));
		if (i > 0)
			usleep((useconds_t)(every * 1000));
		t0 = now_ms();
		if (send(fd, req, sizeof(req), 0) < 0)
			continue;
		while ((r = recv(fd, rsp, sizeof(rsp), 0)) >= 0 &&
		       (r != (ssize_t)sizeof(req) || memcmp(rsp, req, sizeof(req)) != 0))
			;
		if (r < 0)
			continue;
		sum += now_ms() - t0;
		got++;
	}
	if (!got) {
		printf("nan %ld\n", n);
		return 1;
	}
	printf("%.3f %ld\n", sum / (double)got, n - got);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc == 3 && !strcmp(argv[1], "echo"))
		return echo(argv[2]);
	if (argc == 6 && !strcmp(argv[1], "ping"))
		return ping(argv[2], argv[3], argv[4], argv[5]);
	return usage();
}
