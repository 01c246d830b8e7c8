/*
 * ctrnet-kernel: the daemon's one long-lived conversation with the kernel.
 * It speaks rtnetlink (links, addresses, routes, neighbours, FDB) in any network
 * namespace, makes and removes namespaces, writes sysctls, and applies nftables
 * scripts through libnftables, so no operation costs a process spawn (and no
 * nft process pays its ~15 ms exit: ../shared/reference/endpoint-floor.md).
 *
 * Protocol on stdin/stdout, one request at a time, answers in order:
 *   request   "<id> <verb> [args...]\n" then, for batch and nft, a body
 *   answer    zero or more data lines "<id> + <fields>\n" (read verbs, only when they succeed),
 *             then "<id> ok\n" or "<id> err <ERRNO> <message>\n"
 * A malformed request (unknown verb, wrong number of arguments, a bad number, a line longer
 * than MAX_LINE) is answered with an error like any other failure, and the helper goes on. A
 * body whose size is given by a valid number is always consumed, also when the request fails;
 * when the number itself is bad the body cannot be told from requests, and its lines are
 * answered (with errors) as requests.
 * Verbs (NS is a namespace path or "-", ours; FAMILY is 4 or 6):
 *   netns-add PATH          new namespace bind-mounted at PATH (PATH must not exist), IPv6 off
 *   netns-add6 PATH         the same with IPv6 on, quiet: no router solicitations, no DAD
 *   netns-del PATH          unmount and unlink PATH; "already gone" is success
 *   sysctl NS KEY VALUE     KEY like net.ipv4.ip_forward
 *   batch NS COUNT          then COUNT op lines (at most MAX_OP bytes each), applied in order in
 *                           namespace NS, stopping at the first failure (its line is in the message):
 *     bridge NAME MTU|0 MAC|-
 *     veth NAME PEER MTU MAC|- PEERNS|- SINGLEQ(0|1)
 *     vxlan NAME VNI LOCAL PORT MTU         (nolearning, proxy)
 *     macvlan NAME PARENT MODE MTU|0 MAC|- NETNS|-      (MODE bridge|private|vepa|passthru)
 *     ipvlan NAME PARENT MODE FLAG MTU|0 NETNS|-        (MODE l2|l3|l3s, FLAG bridge|private|vepa)
 *     vlan NAME PARENT VID | dummy NAME
 *     master NAME MASTER | isolated NAME | up NAME | del NAME
 *     neigh DEV IP MAC | neighdel DEV IP
 *     fdb DEV MAC DST  | fdbdel DEV MAC     (bridge fdb ... self permanent)
 *     addr DEV IP/LEN                      (IPv6: without duplicate address detection)
 *     route DST|default VIA|- DEV|-
 *   nft LEN                 then LEN bytes (at most MAX_NFT) of an nft script, one transaction
 *   mount-overlay LOWER UPPER WORK TARGET   an overlay filesystem (a container's root)
 *   mount SOURCE TARGET TYPE OPTIONS        a filesystem (a tmpfs or bind `local` volume); OPTIONS
 *                           as mount(8) takes them (flags such as bind, ro, nosuid and the rest as
 *                           data, "size=10m"), "-" for none
 *   umount TARGET
 *   links NS | linkstats NS | addrs NS FAMILY | routes NS FAMILY | neighs NS FAMILY DEV | fdb NS DEV
 *                           reads, answered with data lines (dump.c describes their fields)
 * Every name, address and path is one token without spaces: the daemon builds them from
 * validated parts. The helper dies with the daemon (PR_SET_PDEATHSIG) or at EOF.
 */
#include "kernel.h"

#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

/* Reads one line without its "\n" into buf; a longer line is consumed whole and marked too long.
 * Returns -1 at the end of the input. */
static int read_line(char *buf, size_t cap, int *toolong) {
  size_t n = 0;
  int c;
  *toolong = 0;
  while ((c = getchar_unlocked()) != EOF && c != '\n') {
    if (n + 1 < cap) buf[n++] = (char)c;
    else *toolong = 1;
  }
  buf[n] = 0;
  return c == EOF && n == 0 && !*toolong ? -1 : 0;
}

/* The input ended inside a request's body: the daemon is gone, so are we. */
static void eof_in_body(void) {
  fprintf(stderr, "ctrnet-kernel: input ended inside a request\n");
  exit(1);
}

/* Consumes a body that will not be used: count lines, or len bytes (in pieces). */
static void skip_lines(unsigned long count) {
  static char line[MAX_OP + 2];
  for (unsigned long i = 0; i < count; i++) {
    int toolong;
    if (read_line(line, sizeof line, &toolong)) eof_in_body();
  }
}
static void skip_bytes(unsigned long len) {
  char skip[65536];
  for (unsigned long left = len; left;) {
    size_t n = left < sizeof skip ? left : sizeof skip;
    if (fread(skip, 1, n, stdin) != n) eof_in_body();
    left -= n;
  }
}

static int batch(const char *ns, unsigned long count) {
  static char line[MAX_OP + 2], copy[MAX_OP + 2];
  int ok = !enter(ns), entered = ok, fd = -1;
  if (ok && (fd = nl_open()) < 0) ok = 0;
  /* Op lines are read one by one (never all held at once) and, after a failure, only consumed. */
  for (unsigned long i = 0; i < count; i++) {
    int toolong;
    if (read_line(line, sizeof line, &toolong)) eof_in_body();
    if (!ok) continue;
    memcpy(copy, line, sizeof line);
    if (toolong ? fail(E2BIG, "op line longer than %d bytes", MAX_OP) : op(fd, line)) {
      char m[sizeof errmsg];
      snprintf(m, sizeof m, "%.800s (in: %.200s)", errmsg, copy);
      fail(errnum, "%s", m);
      ok = 0;
    }
  }
  if (fd >= 0) close(fd);
  if (entered) leave(ns);
  return ok ? 0 : -1;
}

static int nft(unsigned long len) {
  /* Too long: skip the body in pieces (the stream stays in step), then refuse it. */
  if (len > MAX_NFT) {
    skip_bytes(len);
    return fail(E2BIG, "nft script of %lu bytes is longer than %lu", len, MAX_NFT);
  }
  char *script = malloc(len + 1);
  if (!script) {
    skip_bytes(len);
    return fail(ENOMEM, "out of memory for an nft script of %lu bytes", len);
  }
  if (fread(script, 1, len, stdin) != len) eof_in_body();
  script[len] = 0;
  int r = memchr(script, 0, len) ? fail(EINVAL, "nft script holds a NUL byte") : nft_apply(script);
  free(script);
  return r;
}

#define MAX_SKIP (1ul << 30)

enum { R_LINKS, R_ADDRS, R_ROUTES, R_NEIGHS, R_FDB, R_LINKSTATS };

/* A read verb: a dump in namespace ns, its rows into o. */
static int read_verb(int which, char **a, struct out *o) {
  int family = AF_INET;
  if ((which == R_ADDRS || which == R_ROUTES || which == R_NEIGHS) && parse_family(a[1], &family)) return -1;
  if (enter(a[0])) return -1;
  int fd = nl_open(), r = fd < 0 ? -1 : 0;
  if (r == 0) {
    switch (which) {
    case R_LINKS: r = read_links(fd, o); break;
    case R_ADDRS: r = read_addrs(fd, family, o); break;
    case R_ROUTES: r = read_routes(fd, family, o); break;
    case R_NEIGHS: r = read_neighs(fd, family, a[2], o); break;
    case R_LINKSTATS: r = read_linkstats(fd, o); break;
    default: r = read_fdb(fd, a[1], o); break;
    }
    close(fd);
  }
  leave(a[0]);
  if (r == 0 && o->oom) r = fail(ENOMEM, "out of memory for the answer");
  return r;
}

static void answer(const char *id, int ok, const struct out *o) {
  if (ok) {
    for (size_t i = 0; i < o->len;) {
      const char *nl = memchr(o->p + i, '\n', o->len - i);
      size_t n = nl ? (size_t)(nl - (o->p + i)) : o->len - i;
      printf("%s + %.*s\n", id, (int)n, o->p + i);
      i += n + 1;
    }
    printf("%s ok\n", id);
  } else {
    for (char *p = errmsg; *p; p++)
      if (*p == '\n' || *p == '\r') *p = ' ';
    const char *name = strerrorname_np(errnum);
    printf("%s err %s %s\n", id, name ? name : "EUNKNOWN", errmsg);
  }
  fflush(stdout);
}

/* Verbs and their argument counts. */
static const struct {
  const char *verb;
  int args;
} VERBS[] = {
    {"netns-add", 1}, {"netns-add6", 1}, {"netns-del", 1}, {"sysctl", 3}, {"batch", 2}, {"nft", 1}, {"mount-overlay", 4},
    {"umount", 1},    {"mount", 4},     {"links", 1},     {"addrs", 2},  {"routes", 2}, {"neighs", 3}, {"fdb", 2},
    {"linkstats", 1},
};

/* One request: its answer is sent by the caller. */
static int request(const char *verb, char **a, int n, struct out *o) {
  int args = -1;
  for (size_t i = 0; i < sizeof VERBS / sizeof VERBS[0]; i++)
    if (!strcmp(verb, VERBS[i].verb)) args = VERBS[i].args;
  if (args < 0) return fail(EINVAL, "bad request: \"%.100s\"", verb);
  /* The body's size first: a request that fails otherwise must still consume its body. */
  unsigned long size = 0;
  int sized = 0;
  if (!strcmp(verb, "batch") && n >= 2) sized = !parse_num(a[1], 0, MAX_OPS, "op count", &size);
  /* a length beyond MAX_SKIP is no body size but garbage: skipping it would wait forever */
  if (!strcmp(verb, "nft") && n >= 1) sized = !parse_num(a[0], 0, MAX_SKIP, "script length", &size);
  if (n != args) {
    if (sized && !strcmp(verb, "batch")) skip_lines(size);
    if (sized && !strcmp(verb, "nft")) skip_bytes(size);
    return fail(EINVAL, "%s takes %d arguments", verb, args);
  }
  if (!strcmp(verb, "netns-add")) return netns_add(a[0], 0);
  if (!strcmp(verb, "netns-add6")) return netns_add(a[0], 1);
  if (!strcmp(verb, "netns-del")) return netns_del(a[0]);
  if (!strcmp(verb, "sysctl")) {
    if (enter(a[0])) return -1;
    int r = sysctl_set(a[1], a[2]);
    leave(a[0]);
    return r;
  }
  if (!strcmp(verb, "batch")) return sized ? batch(a[0], size) : -1;
  if (!strcmp(verb, "nft")) return sized ? nft(size) : -1;
  if (!strcmp(verb, "mount-overlay")) return mount_overlay(a[0], a[1], a[2], a[3]);
  if (!strcmp(verb, "umount")) return unmount(a[0]);
  if (!strcmp(verb, "mount")) return mount_fs(a[0], a[1], a[2], strcmp(a[3], "-") ? a[3] : "");
  static const char *reads[] = {"links", "addrs", "routes", "neighs", "fdb", "linkstats"};
  for (int i = 0; i < 6; i++)
    if (!strcmp(verb, reads[i])) return read_verb(i, a, o);
  return fail(EINVAL, "bad request: \"%.100s\"", verb);
}

int main(void) {
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  /* The daemon may have died before the prctl: then our parent is no longer the one it named. */
  const char *parent = getenv("CTRNET_KERNEL_PARENT");
  if (parent && atoi(parent) != getppid()) return 1;
  if (system_init()) {
    fprintf(stderr, "ctrnet-kernel: cannot start: %s\n", strerror(errno));
    return 1;
  }
  static char line[MAX_LINE + 1];
  struct out o = {0};
  for (int toolong; read_line(line, sizeof line, &toolong) == 0;) {
    char *save = NULL, *id = strtok_r(line, " \t", &save), *verb = strtok_r(NULL, " \t", &save);
    if (!id) continue; /* an empty line: nothing to answer */
    char *a[5] = {0};
    int n = 0;
    for (char *t; n < 5 && (t = strtok_r(NULL, " \t", &save));) a[n++] = t;
    errmsg[0] = 0;
    o.len = 0;
    o.oom = 0;
    int ok;
    if (toolong) ok = !fail(E2BIG, "request line longer than %d bytes", MAX_LINE);
    else ok = !request(verb ? verb : "", a, n, &o);
    answer(id, ok, &o);
    if (o.cap > (1u << 20)) {
      /* one huge dump must not keep its memory for the helper's lifetime */
      free(o.p);
      o = (struct out){0};
    }
  }
  return 0;
}
