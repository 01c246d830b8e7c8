/*
 * ctrnet-kernel's parts and what they share (main.c describes the program and its protocol):
 *   main.c     the request loop: reading requests and their bodies, answering
 *   util.c     failures, checked numbers and addresses, the answer's data lines
 *   netlink.c  building rtnetlink messages, requests with an acknowledgement, dumps
 *   ops.c      the op lines of a batch (writes)
 *   dump.c     the read verbs (links, addrs, routes, neighs, fdb)
 *   system.c   namespaces, sysctls, mounts, nftables
 * Every .c file includes this header first (it sets _GNU_SOURCE).
 */
#ifndef CTRNET_KERNEL_H
#define CTRNET_KERNEL_H

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <arpa/inet.h>
#include <errno.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <stddef.h>
#include <stdio.h>

#ifndef AF_BRIDGE
#define AF_BRIDGE 7
#endif

/* Limits of what a request may carry: whatever exceeds them is answered with an error. */
#define MAX_LINE 65536        /* a request line: four paths of PATH_MAX fit */
#define MAX_OP 1024           /* one op line of a batch: names are 15 bytes, addresses 45 */
#define MAX_OPS 1000000       /* op lines in one batch */
#define MAX_NFT (16ul << 20)  /* bytes of one nft script; ctrnet's largest are a few hundred KiB */

/* ---------- failures (util.c) ---------- */

extern char errmsg[1024];
extern int errnum; /* the errno of the last failure, kept apart from errno (later calls change it) */
/* Records a failure: errno e and a message; returns -1. */
int fail(int e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* ---------- checked parsing (util.c) ---------- */

/* An IPv4 or IPv6 address as the kernel takes it: 4 or 16 bytes. */
struct ip {
  int family; /* AF_INET or AF_INET6 */
  unsigned len;
  unsigned char a[16];
};
/* A decimal number in [min, max], nothing before or after it; `what` names it in the error. */
int parse_num(const char *s, unsigned long min, unsigned long max, const char *what, unsigned long *out);
int parse_mac(const char *s, unsigned char mac[6]);
int parse_ip(const char *s, struct ip *ip);
/* "ADDR/LEN" (LEN required unless host_ok, then a missing LEN means a host prefix). */
int parse_cidr(const char *s, int host_ok, struct ip *ip, unsigned *plen);
/* "4" or "6" to AF_INET or AF_INET6. */
int parse_family(const char *s, int *family);
/* The index of a link of the current namespace, or -1 with ENODEV. */
int ifindex(const char *name);

/* ---------- text of an answer (util.c) ---------- */

/* Data lines of an answer, kept until the request succeeded (a failed read sends none). */
struct out {
  char *p;
  size_t len, cap;
  int oom; /* a line could not be stored: the answer becomes ENOMEM */
};
void out_printf(struct out *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void fmt_mac(char *buf, size_t cap, const unsigned char *p, size_t n);
/* An address of `len` bytes (4 or 16) as inet_ntop writes it; anything else as hex. */
void fmt_ip(char *buf, size_t cap, const unsigned char *p, size_t len);

/* ---------- netlink (netlink.c) ---------- */

struct msg {
  _Alignas(struct nlmsghdr) char raw[4096];
  int overflow; /* an attribute did not fit: the request is refused whole */
};
#define N(m) ((struct nlmsghdr *)(m)->raw)

void *msg_init(struct msg *m, int type, int flags, size_t hdrlen);
/* Appends an attribute; NULL (and m->overflow set) when it does not fit. */
struct rtattr *attr(struct msg *m, int type, const void *data, size_t len);
void attr_str(struct msg *m, int type, const char *s);
void attr_u32(struct msg *m, int type, unsigned v);
void attr_u8(struct msg *m, int type, unsigned char v);
struct rtattr *nest(struct msg *m, int type);
void nest_end(struct msg *m, struct rtattr *a);
/* Room for a fixed header inside a nest (a veth peer's ifinfomsg); NULL when it does not fit. */
void *reserve(struct msg *m, size_t len);

/* A rtnetlink socket of the current namespace, asking for extended acknowledgements. */
int nl_open(void);
/* Sends one request and waits for its acknowledgement; 0 or -1 with errnum set. */
int talk(int fd, struct msg *m);
/*
 * Sends a dump request and calls fn for each message of the answer; fn returns 0 or -1 (stops).
 * Returns 0, -1 on failure, or 1 when the kernel marked the dump interrupted (a change raced
 * it): the caller starts over.
 */
typedef int (*dump_fn)(struct nlmsghdr *h, void *ctx);
int dump(int fd, struct msg *req, dump_fn fn, void *ctx);
/* Splits attributes into tb[0..max] (later duplicates win, unknown types are skipped). */
void parse_attrs(struct rtattr *tb[], int max, struct rtattr *rta, int len);

/* ---------- the verbs (ops.c, dump.c, system.c) ---------- */

/* One op line of a batch, applied through fd. */
int op(int fd, char *line);

int read_links(int fd, struct out *o);
int read_linkstats(int fd, struct out *o);
int read_addrs(int fd, int family, struct out *o);
int read_routes(int fd, int family, struct out *o);
int read_neighs(int fd, int family, const char *dev, struct out *o);
int read_fdb(int fd, const char *dev, struct out *o);

/* Enters namespace path ns ("-" = ours); leave() goes back or ends the program. */
int enter(const char *ns);
void leave(const char *ns);
int sysctl_set(const char *key, const char *value);
int netns_add(const char *path, int ipv6);
int netns_del(const char *path);
int mount_overlay(const char *lower, const char *upper, const char *work, const char *target);
int unmount(const char *target);
int mount_fs(const char *source, const char *target, const char *type, const char *options);
int nft_apply(const char *script);
/* Opens what the verbs keep: our own namespace (to come back to) and the nft context. */
int system_init(void);

#endif
