/*
 * Failures, checked parsing and the text of answers. Every number, address and MAC of a request
 * goes through here: a request comes from the daemon, but a malformed one must fail alone, with
 * a message, and never make the helper read or write past a buffer.
 */
#include "kernel.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

char errmsg[1024];
int errnum;

int fail(int e, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(errmsg, sizeof errmsg, fmt, ap);
  va_end(ap);
  errno = errnum = e;
  return -1;
}

int parse_num(const char *s, unsigned long min, unsigned long max, const char *what, unsigned long *out) {
  /* strtoul alone accepts "", " 7", "-1" (as a huge number) and "7x": each of those is refused */
  if (!s || !isdigit((unsigned char)s[0])) return fail(EINVAL, "bad %s \"%s\"", what, s ? s : "");
  char *end;
  errno = 0;
  unsigned long v = strtoul(s, &end, 10);
  if (*end || errno == ERANGE) return fail(EINVAL, "bad %s \"%s\"", what, s);
  if (v < min || v > max) return fail(EINVAL, "%s %lu is out of range (%lu-%lu)", what, v, min, max);
  *out = v;
  return 0;
}

int parse_mac(const char *s, unsigned char mac[6]) {
  /* exactly xx:xx:xx:xx:xx:xx: sscanf's %x would take signs, spaces and longer numbers */
  if (strlen(s) != 17) return fail(EINVAL, "bad MAC address %s", s);
  for (int i = 0; i < 6; i++) {
    const char *p = s + 3 * i;
    if (!isxdigit((unsigned char)p[0]) || !isxdigit((unsigned char)p[1]) || (i < 5 && p[2] != ':')) return fail(EINVAL, "bad MAC address %s", s);
    char hex[3] = {p[0], p[1], 0};
    mac[i] = (unsigned char)strtoul(hex, NULL, 16);
  }
  return 0;
}

int parse_ip(const char *s, struct ip *ip) {
  memset(ip, 0, sizeof *ip);
  if (inet_pton(AF_INET, s, ip->a) == 1) {
    ip->family = AF_INET;
    ip->len = 4;
  } else if (inet_pton(AF_INET6, s, ip->a) == 1) {
    ip->family = AF_INET6;
    ip->len = 16;
  } else {
    return fail(EINVAL, "bad IP address %s", s);
  }
  return 0;
}

int parse_cidr(const char *s, int host_ok, struct ip *ip, unsigned *plen) {
  char a[64];
  const char *slash = strchr(s, '/');
  size_t n = slash ? (size_t)(slash - s) : strlen(s);
  if (n >= sizeof a) return fail(EINVAL, "bad address %s", s);
  memcpy(a, s, n);
  a[n] = 0;
  if (parse_ip(a, ip)) return -1;
  if (!slash) {
    if (!host_ok) return fail(EINVAL, "address %s needs a prefix length", s);
    *plen = ip->len * 8;
    return 0;
  }
  unsigned long l;
  if (parse_num(slash + 1, 0, ip->len * 8, "prefix length", &l)) return -1;
  *plen = (unsigned)l;
  return 0;
}

int parse_family(const char *s, int *family) {
  if (!strcmp(s, "4")) *family = AF_INET;
  else if (!strcmp(s, "6")) *family = AF_INET6;
  else return fail(EINVAL, "bad address family \"%s\" (4 or 6)", s);
  return 0;
}

int ifindex(const char *name) {
  unsigned i = strlen(name) < IFNAMSIZ ? if_nametoindex(name) : 0;
  if (!i) return fail(ENODEV, "Cannot find device \"%s\"", name);
  return (int)i;
}

void out_printf(struct out *o, const char *fmt, ...) {
  if (o->oom) return;
  for (;;) {
    va_list ap;
    va_start(ap, fmt);
    size_t room = o->cap - o->len;
    int n = vsnprintf(o->p ? o->p + o->len : NULL, room, fmt, ap);
    va_end(ap);
    if (n < 0) {
      o->oom = 1;
      return;
    }
    if ((size_t)n < room) {
      o->len += (size_t)n;
      return;
    }
    size_t cap = (o->cap ? o->cap : 4096) * 2;
    while (cap - o->len <= (size_t)n) cap *= 2;
    char *p = realloc(o->p, cap);
    if (!p) {
      o->oom = 1;
      return;
    }
    o->p = p;
    o->cap = cap;
  }
}

void fmt_mac(char *buf, size_t cap, const unsigned char *p, size_t n) {
  size_t off = 0;
  buf[0] = 0;
  for (size_t i = 0; i < n && off + 4 <= cap; i++) off += (size_t)snprintf(buf + off, cap - off, i ? ":%02x" : "%02x", p[i]);
}

void fmt_ip(char *buf, size_t cap, const unsigned char *p, size_t len) {
  if ((len == 4 && inet_ntop(AF_INET, p, buf, (socklen_t)cap)) || (len == 16 && inet_ntop(AF_INET6, p, buf, (socklen_t)cap))) return;
  fmt_mac(buf, cap, p, len);
}
