/*
 * rtnetlink: building requests, waiting for their acknowledgement, reading dumps.
 * Requests are built in a fixed buffer; an attribute that does not fit marks the message and
 * the request fails whole (never with ctrnet's names of at most 15 bytes). Received messages are
 * walked with the NLMSG_OK/RTA_OK bounds only: a short or odd message is skipped, never read past.
 */
#include "kernel.h"

#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

void *msg_init(struct msg *m, int type, int flags, size_t hdrlen) {
  memset(m, 0, sizeof *m);
  N(m)->nlmsg_len = NLMSG_LENGTH(hdrlen);
  N(m)->nlmsg_type = type;
  N(m)->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK | flags;
  return NLMSG_DATA(N(m));
}

struct rtattr *attr(struct msg *m, int type, const void *data, size_t len) {
  if (m->overflow || NLMSG_ALIGN(N(m)->nlmsg_len) + RTA_SPACE(len) > sizeof m->raw) {
    m->overflow = 1;
    return NULL;
  }
  struct rtattr *a = (struct rtattr *)((char *)N(m) + NLMSG_ALIGN(N(m)->nlmsg_len));
  a->rta_type = type;
  a->rta_len = RTA_LENGTH(len);
  if (len) memcpy(RTA_DATA(a), data, len);
  N(m)->nlmsg_len = NLMSG_ALIGN(N(m)->nlmsg_len) + RTA_ALIGN(a->rta_len);
  return a;
}
void attr_str(struct msg *m, int type, const char *s) { attr(m, type, s, strlen(s) + 1); }
void attr_u32(struct msg *m, int type, unsigned v) { attr(m, type, &v, 4); }
void attr_u8(struct msg *m, int type, unsigned char v) { attr(m, type, &v, 1); }
struct rtattr *nest(struct msg *m, int type) { return attr(m, type, NULL, 0); }
void nest_end(struct msg *m, struct rtattr *a) {
  if (a && !m->overflow) a->rta_len = (char *)N(m) + N(m)->nlmsg_len - (char *)a;
}

void *reserve(struct msg *m, size_t len) {
  if (m->overflow || N(m)->nlmsg_len + NLMSG_ALIGN(len) > sizeof m->raw) {
    m->overflow = 1;
    return NULL;
  }
  void *p = (char *)N(m) + N(m)->nlmsg_len;
  memset(p, 0, NLMSG_ALIGN(len));
  N(m)->nlmsg_len += NLMSG_ALIGN(len);
  return p;
}

int nl_open(void) {
  int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
  if (fd < 0) return fail(errno, "netlink socket: %s", strerror(errno));
  /* The kernel's own words ("Nexthop has invalid gateway") say more than the errno alone; capped
   * acknowledgements leave out the echo of our request. Older kernels ignore both: no error. */
  int one = 1;
  setsockopt(fd, SOL_NETLINK, NETLINK_EXT_ACK, &one, sizeof one);
  setsockopt(fd, SOL_NETLINK, NETLINK_CAP_ACK, &one, sizeof one);
  return fd;
}

/* The failure an NLMSG_ERROR carries: its errno, and the kernel's message when it sent one. */
static int nl_error(struct nlmsghdr *h) {
  if (h->nlmsg_len < NLMSG_LENGTH(sizeof(struct nlmsgerr))) return fail(EPROTO, "short netlink error message");
  struct nlmsgerr *err = NLMSG_DATA(h);
  int e = -err->error;
  if (e <= 0) return fail(EPROTO, "netlink error %d", err->error);
  const char *text = NULL;
  if (h->nlmsg_flags & NLM_F_ACK_TLVS) {
    size_t off = sizeof *err;
    if (!(h->nlmsg_flags & NLM_F_CAPPED)) off += NLMSG_ALIGN(err->msg.nlmsg_len) - NLMSG_HDRLEN;
    if (NLMSG_LENGTH(off) < h->nlmsg_len) {
      int len = (int)(h->nlmsg_len - NLMSG_LENGTH(off));
      for (struct rtattr *a = (struct rtattr *)((char *)err + off); RTA_OK(a, len); a = RTA_NEXT(a, len)) {
        /* a string attribute: use it only when it is terminated inside its payload */
        if (a->rta_type == NLMSGERR_ATTR_MSG && RTA_PAYLOAD(a) > 0 && memchr(RTA_DATA(a), 0, RTA_PAYLOAD(a))) text = RTA_DATA(a);
      }
    }
  }
  if (text && *text) return fail(e, "%s: %s", strerror(e), text);
  return fail(e, "%s", strerror(e));
}

/* Replies are at most 32 KiB per datagram (netlink_dump's allocation); twice that leaves room. */
static _Alignas(struct nlmsghdr) char rbuf[65536];

static ssize_t nl_recv(int fd) {
  for (;;) {
    struct iovec iov = {rbuf, sizeof rbuf};
    struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1};
    ssize_t r = recvmsg(fd, &mh, 0);
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) return fail(errno, "netlink recv: %s", strerror(errno));
    if (mh.msg_flags & MSG_TRUNC) return fail(EMSGSIZE, "netlink reply larger than %zu bytes", sizeof rbuf);
    return r;
  }
}

static unsigned seq;

int talk(int fd, struct msg *m) {
  if (m->overflow) return fail(EMSGSIZE, "netlink request too large");
  N(m)->nlmsg_seq = ++seq;
  if (send(fd, N(m), N(m)->nlmsg_len, 0) < 0) return fail(errno, "netlink send: %s", strerror(errno));
  for (;;) {
    ssize_t r = nl_recv(fd);
    if (r < 0) return -1;
    int len = (int)r;
    for (struct nlmsghdr *h = (struct nlmsghdr *)rbuf; NLMSG_OK(h, len); h = NLMSG_NEXT(h, len)) {
      if (h->nlmsg_seq != N(m)->nlmsg_seq || h->nlmsg_type != NLMSG_ERROR) continue;
      if (h->nlmsg_len >= NLMSG_LENGTH(sizeof(struct nlmsgerr)) && ((struct nlmsgerr *)NLMSG_DATA(h))->error == 0) return 0;
      return nl_error(h);
    }
  }
}

int dump(int fd, struct msg *req, dump_fn fn, void *ctx) {
  if (req->overflow) return fail(EMSGSIZE, "netlink request too large");
  N(req)->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
  N(req)->nlmsg_seq = ++seq;
  if (send(fd, N(req), N(req)->nlmsg_len, 0) < 0) return fail(errno, "netlink send: %s", strerror(errno));
  int interrupted = 0, failed = 0;
  for (;;) {
    ssize_t r = nl_recv(fd);
    if (r < 0) return -1; /* the rest of this dump stays unread: the caller closes the socket */
    int len = (int)r;
    for (struct nlmsghdr *h = (struct nlmsghdr *)rbuf; NLMSG_OK(h, len); h = NLMSG_NEXT(h, len)) {
      if (h->nlmsg_seq != N(req)->nlmsg_seq) continue;
      if (h->nlmsg_flags & NLM_F_DUMP_INTR) interrupted = 1;
      if (h->nlmsg_type == NLMSG_DONE) {
        /* a dump that failed half way says so in its DONE message */
        int e = h->nlmsg_len >= NLMSG_LENGTH(sizeof(int)) ? *(int *)NLMSG_DATA(h) : 0;
        if (e < 0) return fail(-e, "netlink dump: %s", strerror(-e));
        return failed ? -1 : interrupted;
      }
      if (h->nlmsg_type == NLMSG_ERROR) return nl_error(h);
      /* after a failure of fn, read on to the end: the socket stays usable for the next dump */
      if (!failed && fn(h, ctx)) failed = 1;
    }
  }
}

void parse_attrs(struct rtattr *tb[], int max, struct rtattr *rta, int len) {
  memset(tb, 0, sizeof(struct rtattr *) * (size_t)(max + 1));
  for (; RTA_OK(rta, len); rta = RTA_NEXT(rta, len)) {
    int type = rta->rta_type & NLA_TYPE_MASK; /* without the "nested" and "byte order" flags */
    if (type <= max) tb[type] = rta;
  }
}
