/*
 * ctrnet-kernel: the daemon's one long-lived conversation with the kernel.
 * It speaks rtnetlink (links, addresses, routes, neighbours, FDB) in any network
 * namespace, makes and removes namespaces, writes sysctls, and applies nftables
 * scripts through libnftables, so no operation costs a process spawn (and no
 * nft process pays its ~15 ms exit: ../shared/reference/endpoint-floor.md).
 *
 * Protocol on stdin/stdout, one request at a time, answers in order:
 *   request   "<id> <verb> [args...]\n" then, for some verbs, a body
 *   answer    "<id> ok\n" or "<id> err <ERRNO> <message>\n"
 * Verbs:
 *   netns-add PATH          new namespace bind-mounted at PATH (PATH must not exist), IPv6 off
 *   netns-del PATH          unmount and unlink PATH; "already gone" is success
 *   sysctl NS KEY VALUE     NS is a namespace path or "-" (ours); KEY like net.ipv4.ip_forward
 *   batch NS COUNT          then COUNT op lines, applied in order in namespace NS,
 *                           stopping at the first failure (its line is in the message):
 *     bridge NAME MTU|0 MAC|-
 *     veth NAME PEER MTU MAC|- PEERNS|- SINGLEQ(0|1)
 *     vxlan NAME VNI LOCAL PORT MTU         (nolearning, proxy)
 *     master NAME MASTER | isolated NAME | up NAME | del NAME
 *     neigh DEV IP MAC | neighdel DEV IP
 *     fdb DEV MAC DST  | fdbdel DEV MAC     (bridge fdb ... self permanent)
 *     addr DEV IP/LEN
 *     route DST|default VIA|- DEV|-
 *   nft LEN                 then LEN bytes of an nft script, applied as one transaction
 *   mount-overlay LOWER UPPER WORK TARGET   an overlay filesystem (a container's root)
 *   umount TARGET
 * (mount(2) directly: the mount and umount programs read the whole mount table each time, which
 * with a thousand containers' mounts costs ~10 ms per call.)
 * Every name, address and path is one token without spaces: the daemon builds them from
 * validated parts. The helper dies with the daemon (PR_SET_PDEATHSIG) or at EOF.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/if_link.h>
#include <linux/neighbour.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/veth.h>
#include <net/if.h>
#include <nftables/libnftables.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <unistd.h>

#ifndef AF_BRIDGE
#define AF_BRIDGE 7
#endif

static char errmsg[1024];
static int errnum; /* the errno of the last failure, kept apart from errno (later calls change it) */
static int own_ns = -1;
static struct nft_ctx *nft;

/* Records a failure: errno e and a message; returns -1. */
static int fail(int e, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(errmsg, sizeof errmsg, fmt, ap);
  va_end(ap);
  errno = errnum = e;
  return -1;
}

/* ---------- netlink messages ---------- */

struct msg {
  _Alignas(struct nlmsghdr) char raw[4096];
};
#define N(m) ((struct nlmsghdr *)(m)->raw)

static void *msg_init(struct msg *m, int type, int flags, size_t hdrlen) {
  memset(m, 0, sizeof *m);
  N(m)->nlmsg_len = NLMSG_LENGTH(hdrlen);
  N(m)->nlmsg_type = type;
  N(m)->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK | flags;
  return NLMSG_DATA(N(m));
}

static struct rtattr *attr(struct msg *m, int type, const void *data, size_t len) {
  if (NLMSG_ALIGN(N(m)->nlmsg_len) + RTA_SPACE(len) > sizeof m->raw) {
    /* Never with names of at most 15 bytes; a request that large is refused whole. */
    fprintf(stderr, "ctrnet-kernel: netlink message too large\n");
    exit(1);
  }
  struct rtattr *a = (struct rtattr *)((char *)N(m) + NLMSG_ALIGN(N(m)->nlmsg_len));
  a->rta_type = type;
  a->rta_len = RTA_LENGTH(len);
  if (len) memcpy(RTA_DATA(a), data, len);
  N(m)->nlmsg_len = NLMSG_ALIGN(N(m)->nlmsg_len) + RTA_ALIGN(a->rta_len);
  return a;
}
static void attr_str(struct msg *m, int type, const char *s) { attr(m, type, s, strlen(s) + 1); }
static void attr_u32(struct msg *m, int type, unsigned v) { attr(m, type, &v, 4); }
static void attr_u8(struct msg *m, int type, unsigned char v) { attr(m, type, &v, 1); }
static struct rtattr *nest(struct msg *m, int type) { return attr(m, type, NULL, 0); }
static void nest_end(struct msg *m, struct rtattr *a) { a->rta_len = (char *)N(m) + N(m)->nlmsg_len - (char *)a; }

static int parse_mac(const char *s, unsigned char mac[6]) {
  unsigned v[6];
  char extra;
  if (sscanf(s, "%x:%x:%x:%x:%x:%x%c", &v[0], &v[1], &v[2], &v[3], &v[4], &v[5], &extra) != 6) return fail(EINVAL, "bad MAC address %s", s);
  for (int i = 0; i < 6; i++) mac[i] = v[i];
  return 0;
}
static int parse_ip(const char *s, struct in_addr *a) {
  if (inet_pton(AF_INET, s, a) != 1) return fail(EINVAL, "bad IPv4 address %s", s);
  return 0;
}
static int ifindex(const char *name) {
  unsigned i = if_nametoindex(name);
  if (!i) return fail(ENODEV, "Cannot find device \"%s\"", name);
  return (int)i;
}

/* Sends one request on fd and waits for its acknowledgement; 0 or -1 with errno set. */
static int talk(int fd, struct msg *m) {
  static unsigned seq;
  N(m)->nlmsg_seq = ++seq;
  if (send(fd, N(m), N(m)->nlmsg_len, 0) < 0) return fail(errno, "netlink send: %s", strerror(errno));
  char buf[8192];
  for (;;) {
    ssize_t r = recv(fd, buf, sizeof buf, 0);
    if (r < 0) {
      if (errno == EINTR) continue;
      return fail(errno, "netlink recv: %s", strerror(errno));
    }
    for (struct nlmsghdr *h = (struct nlmsghdr *)buf; NLMSG_OK(h, (unsigned)r); h = NLMSG_NEXT(h, r)) {
      if (h->nlmsg_seq != N(m)->nlmsg_seq || h->nlmsg_type != NLMSG_ERROR) continue;
      int e = -((struct nlmsgerr *)NLMSG_DATA(h))->error;
      if (e) return fail(e, "%s", strerror(e));
      return 0;
    }
  }
}

/* ---------- one op line of a batch ---------- */

static int link_create(struct msg *m, const char *name, unsigned mtu, const char *mac) {
  struct ifinfomsg *ifi = msg_init(m, RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL, sizeof *ifi);
  ifi->ifi_family = AF_UNSPEC;
  attr_str(m, IFLA_IFNAME, name);
  if (mtu) attr_u32(m, IFLA_MTU, mtu);
  if (mac && strcmp(mac, "-")) {
    unsigned char a[6];
    if (parse_mac(mac, a)) return -1;
    attr(m, IFLA_ADDRESS, a, 6);
  }
  return 0;
}

/* A request on an existing link, addressed by name. */
static struct ifinfomsg *link_set(struct msg *m, int type, const char *name) {
  struct ifinfomsg *ifi = msg_init(m, type, 0, sizeof *ifi);
  ifi->ifi_family = AF_UNSPEC;
  attr_str(m, IFLA_IFNAME, name);
  return ifi;
}

static int op(int fd, char *line) {
  char *t[8] = {0};
  int n = 0;
  for (char *s = strtok(line, " \n"); s && n < 8; s = strtok(NULL, " \n")) t[n++] = s;
  if (n == 0) return fail(EINVAL, "empty op");
  struct msg m;
  const char *v = t[0];
#define NEED(k)                                                   \
  if (n != (k) + 1) return fail(EINVAL, "%s takes %d arguments", v, k)
  if (!strcmp(v, "bridge")) {
    NEED(3);
    if (link_create(&m, t[1], atoi(t[2]), t[3])) return -1;
    struct rtattr *li = nest(&m, IFLA_LINKINFO);
    attr_str(&m, IFLA_INFO_KIND, "bridge");
    nest_end(&m, li);
  } else if (!strcmp(v, "veth")) {
    NEED(6);
    int single = !strcmp(t[6], "1"), nsfd = -1;
    if (link_create(&m, t[1], atoi(t[3]), NULL)) return -1;
    if (single) attr_u32(&m, IFLA_NUM_TX_QUEUES, 1), attr_u32(&m, IFLA_NUM_RX_QUEUES, 1);
    struct rtattr *li = nest(&m, IFLA_LINKINFO);
    attr_str(&m, IFLA_INFO_KIND, "veth");
    struct rtattr *data = nest(&m, IFLA_INFO_DATA);
    struct rtattr *peer = nest(&m, VETH_INFO_PEER);
    struct ifinfomsg pifi = {.ifi_family = AF_UNSPEC};
    N(&m)->nlmsg_len += NLMSG_ALIGN(sizeof pifi); /* the peer's ifinfomsg precedes its attributes */
    memcpy(RTA_DATA(peer), &pifi, sizeof pifi);
    attr_str(&m, IFLA_IFNAME, t[2]);
    attr_u32(&m, IFLA_MTU, atoi(t[3]));
    if (strcmp(t[4], "-")) {
      unsigned char a[6];
      if (parse_mac(t[4], a)) return -1;
      attr(&m, IFLA_ADDRESS, a, 6);
    }
    if (single) attr_u32(&m, IFLA_NUM_TX_QUEUES, 1), attr_u32(&m, IFLA_NUM_RX_QUEUES, 1);
    if (strcmp(t[5], "-")) {
      nsfd = open(t[5], O_RDONLY | O_CLOEXEC);
      if (nsfd < 0) return fail(errno, "netns %s: %s", t[5], strerror(errno));
      attr_u32(&m, IFLA_NET_NS_FD, nsfd);
    }
    nest_end(&m, peer);
    nest_end(&m, data);
    nest_end(&m, li);
    int r = talk(fd, &m);
    if (nsfd >= 0) close(nsfd);
    return r;
  } else if (!strcmp(v, "vxlan")) {
    NEED(5);
    struct in_addr local;
    if (parse_ip(t[3], &local)) return -1;
    if (link_create(&m, t[1], atoi(t[5]), NULL)) return -1;
    struct rtattr *li = nest(&m, IFLA_LINKINFO);
    attr_str(&m, IFLA_INFO_KIND, "vxlan");
    struct rtattr *data = nest(&m, IFLA_INFO_DATA);
    attr_u32(&m, IFLA_VXLAN_ID, strtoul(t[2], NULL, 10));
    attr(&m, IFLA_VXLAN_LOCAL, &local, 4);
    unsigned short port = htons(atoi(t[4]));
    attr(&m, IFLA_VXLAN_PORT, &port, 2);
    attr_u8(&m, IFLA_VXLAN_LEARNING, 0);
    attr_u8(&m, IFLA_VXLAN_PROXY, 1);
    nest_end(&m, data);
    nest_end(&m, li);
  } else if (!strcmp(v, "master")) {
    NEED(2);
    int mi = ifindex(t[2]);
    if (mi < 0) return -1;
    link_set(&m, RTM_NEWLINK, t[1]);
    attr_u32(&m, IFLA_MASTER, mi);
  } else if (!strcmp(v, "isolated")) {
    NEED(1);
    link_set(&m, RTM_NEWLINK, t[1]);
    struct rtattr *li = nest(&m, IFLA_LINKINFO);
    attr_str(&m, IFLA_INFO_SLAVE_KIND, "bridge");
    struct rtattr *sd = nest(&m, IFLA_INFO_SLAVE_DATA);
    attr_u8(&m, IFLA_BRPORT_ISOLATED, 1);
    nest_end(&m, sd);
    nest_end(&m, li);
  } else if (!strcmp(v, "up")) {
    NEED(1);
    struct ifinfomsg *ifi = link_set(&m, RTM_NEWLINK, t[1]);
    ifi->ifi_flags = ifi->ifi_change = IFF_UP;
  } else if (!strcmp(v, "del")) {
    NEED(1);
    link_set(&m, RTM_DELLINK, t[1]);
  } else if (!strcmp(v, "neigh") || !strcmp(v, "neighdel") || !strcmp(v, "fdb") || !strcmp(v, "fdbdel")) {
    int add = !strcmp(v, "neigh") || !strcmp(v, "fdb"), fdb = v[0] == 'f';
    NEED(add ? 3 : 2);
    int dev = ifindex(t[1]);
    if (dev < 0) return -1;
    struct ndmsg *nd = msg_init(&m, add ? RTM_NEWNEIGH : RTM_DELNEIGH, add ? NLM_F_CREATE | NLM_F_REPLACE : 0, sizeof *nd);
    nd->ndm_family = fdb ? AF_BRIDGE : AF_INET;
    nd->ndm_ifindex = dev;
    nd->ndm_state = NUD_PERMANENT;
    if (fdb) nd->ndm_flags = NTF_SELF;
    unsigned char mac[6];
    struct in_addr ip;
    if (fdb) {
      if (parse_mac(t[2], mac)) return -1;
      attr(&m, NDA_LLADDR, mac, 6);
      if (add) {
        if (parse_ip(t[3], &ip)) return -1;
        attr(&m, NDA_DST, &ip, 4);
      }
    } else {
      if (parse_ip(t[2], &ip)) return -1;
      attr(&m, NDA_DST, &ip, 4);
      if (add) {
        if (parse_mac(t[3], mac)) return -1;
        attr(&m, NDA_LLADDR, mac, 6);
      }
    }
  } else if (!strcmp(v, "addr")) {
    NEED(2);
    char *slash = strchr(t[2], '/');
    if (!slash) return fail(EINVAL, "address %s needs a prefix length", t[2]);
    *slash = 0;
    struct in_addr ip;
    if (parse_ip(t[2], &ip)) return -1;
    int dev = ifindex(t[1]);
    if (dev < 0) return -1;
    struct ifaddrmsg *ifa = msg_init(&m, RTM_NEWADDR, NLM_F_CREATE | NLM_F_REPLACE, sizeof *ifa);
    ifa->ifa_family = AF_INET;
    ifa->ifa_prefixlen = atoi(slash + 1);
    ifa->ifa_index = dev;
    attr(&m, IFA_LOCAL, &ip, 4);
    attr(&m, IFA_ADDRESS, &ip, 4);
  } else if (!strcmp(v, "route")) {
    NEED(3);
    struct rtmsg *rt = msg_init(&m, RTM_NEWROUTE, NLM_F_CREATE | NLM_F_REPLACE, sizeof *rt);
    rt->rtm_family = AF_INET;
    rt->rtm_table = RT_TABLE_MAIN;
    rt->rtm_protocol = RTPROT_BOOT;
    rt->rtm_type = RTN_UNICAST;
    rt->rtm_scope = strcmp(t[2], "-") ? RT_SCOPE_UNIVERSE : RT_SCOPE_LINK;
    if (strcmp(t[1], "default")) {
      char *slash = strchr(t[1], '/');
      if (slash) *slash = 0;
      struct in_addr dst;
      if (parse_ip(t[1], &dst)) return -1;
      rt->rtm_dst_len = slash ? atoi(slash + 1) : 32;
      attr(&m, RTA_DST, &dst, 4);
    }
    if (strcmp(t[2], "-")) {
      struct in_addr gw;
      if (parse_ip(t[2], &gw)) return -1;
      attr(&m, RTA_GATEWAY, &gw, 4);
    }
    if (strcmp(t[3], "-")) {
      int dev = ifindex(t[3]);
      if (dev < 0) return -1;
      attr_u32(&m, RTA_OIF, dev);
    }
  } else {
    return fail(EINVAL, "unknown op %s", v);
  }
  return talk(fd, &m);
}

/* ---------- namespaces ---------- */

/* Enters namespace path ns ("-" = ours); returns 0 or -1. */
static int enter(const char *ns) {
  if (!strcmp(ns, "-")) return 0;
  int fd = open(ns, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return fail(errno, "network namespace %s: %s", ns, strerror(errno));
  int r = setns(fd, CLONE_NEWNET);
  int e = errno;
  close(fd);
  if (r) return fail(e, "entering network namespace %s: %s", ns, strerror(e));
  return 0;
}
static void leave(const char *ns) {
  if (strcmp(ns, "-") && setns(own_ns, CLONE_NEWNET)) {
    /* Staying in a sandbox's namespace would misdirect every later request. */
    fprintf(stderr, "ctrnet-kernel: cannot return to own network namespace: %s\n", strerror(errno));
    exit(1);
  }
}

static int sysctl_set(const char *key, const char *value) {
  char path[256] = "/proc/sys/";
  if (strlen(key) > 200 || strstr(key, "..")) return fail(EINVAL, "bad sysctl key %s", key);
  strcat(path, key);
  for (char *p = path + 10; *p; p++)
    if (*p == '.') *p = '/';
  int fd = open(path, O_WRONLY | O_CLOEXEC);
  if (fd < 0) return fail(errno, "%s: %s", path, strerror(errno));
  ssize_t w = write(fd, value, strlen(value));
  int e = errno;
  close(fd);
  if (w < 0) return fail(e, "%s: %s", path, strerror(e));
  return 0;
}

/* A sysctl that may not exist: IPv6 keys are absent on a host booted with ipv6.disable=1. */
static int sysctl_optional(const char *key, const char *value) {
  if (sysctl_set(key, value) && errnum != ENOENT) return -1;
  return 0;
}

static int netns_add(const char *path) {
  int fd = open(path, O_RDONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0);
  if (fd < 0) return fail(errno, "%s: %s", path, strerror(errno));
  close(fd);
  int r = 0, mounted = 0;
  if (unshare(CLONE_NEWNET)) r = fail(errno, "unshare: %s", strerror(errno));
  else if (mount("/proc/self/ns/net", path, "none", MS_BIND, NULL)) r = fail(errno, "bind mount %s: %s", path, strerror(errno));
  /* ctrnet's networks are IPv4-only: without IPv6 a new interface sends no router solicitations,
   * MLD reports or DAD probes, which a bridge would flood to every other container. */
  else if ((mounted = 1, sysctl_optional("net.ipv6.conf.all.disable_ipv6", "1") || sysctl_optional("net.ipv6.conf.default.disable_ipv6", "1"))) r = -1;
  leave("/proc/self/ns/net"); /* any path but "-": always go back */
  if (r) {
    if (mounted) umount2(path, MNT_DETACH);
    unlink(path);
  }
  return r;
}

static int netns_del(const char *path) {
  if (umount2(path, MNT_DETACH) && errno != EINVAL && errno != ENOENT) return fail(errno, "unmount %s: %s", path, strerror(errno));
  if (unlink(path) && errno != ENOENT) return fail(errno, "unlink %s: %s", path, strerror(errno));
  return 0;
}

static int nft_apply(const char *script) {
  int r = nft_run_cmd_from_buffer(nft, script);
  /* Reading a buffer empties it: a warning of this run never becomes the next run's message. */
  nft_ctx_get_output_buffer(nft);
  const char *err = nft_ctx_get_error_buffer(nft);
  if (r == 0) return 0;
  char first[900] = "";
  if (err) {
    /* nft's message: the first line names the problem, the rest draws where */
    snprintf(first, sizeof first, "%s", err);
    first[strcspn(first, "\n")] = 0;
  }
  return fail(strstr(err ? err : "", "No such file") ? ENOENT : strstr(err ? err : "", "File exists") ? EEXIST : EINVAL, "nft: %s", first);
}

/* ---------- main loop ---------- */

static void answer(const char *id, int ok) {
  if (ok) {
    printf("%s ok\n", id);
  } else {
    for (char *p = errmsg; *p; p++)
      if (*p == '\n') *p = ' ';
    const char *name = strerrorname_np(errnum);
    printf("%s err %s %s\n", id, name ? name : "EUNKNOWN", errmsg);
  }
  fflush(stdout);
}

int main(void) {
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  /* The daemon may have died before the prctl: then our parent is no longer the one it named. */
  const char *parent = getenv("CTRNET_KERNEL_PARENT");
  if (parent && atoi(parent) != getppid()) return 1;
  own_ns = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
  nft = nft_ctx_new(NFT_CTX_DEFAULT);
  if (own_ns < 0 || !nft) {
    fprintf(stderr, "ctrnet-kernel: cannot start: %s\n", strerror(errno));
    return 1;
  }
  nft_ctx_buffer_output(nft);
  nft_ctx_buffer_error(nft);
  char *line = NULL;
  size_t cap = 0;
  while (getline(&line, &cap, stdin) > 0) {
    char *save = NULL, *id = strtok_r(line, " \n", &save), *verb = strtok_r(NULL, " \n", &save);
    if (!id) continue; /* an empty line: nothing to answer */
    if (!verb) verb = "";
    char *a[4] = {0};
    for (int i = 0; i < 4; i++) a[i] = strtok_r(NULL, " \n", &save);
    int ok;
    errmsg[0] = 0;
    if (!strcmp(verb, "netns-add") && a[0]) {
      ok = !netns_add(a[0]);
    } else if (!strcmp(verb, "netns-del") && a[0]) {
      ok = !netns_del(a[0]);
    } else if (!strcmp(verb, "sysctl") && a[2]) {
      ok = !enter(a[0]);
      if (ok) ok = !sysctl_set(a[1], a[2]), leave(a[0]);
    } else if (!strcmp(verb, "mount-overlay") && a[3]) {
      char opts[4096];
      if ((size_t)snprintf(opts, sizeof opts, "lowerdir=%s,upperdir=%s,workdir=%s", a[0], a[1], a[2]) >= sizeof opts) ok = !fail(ENAMETOOLONG, "overlay paths too long");
      else if (mount("overlay", a[3], "overlay", 0, opts)) ok = !fail(errno, "mount overlay on %s: %s", a[3], strerror(errno));
      else ok = 1;
    } else if (!strcmp(verb, "umount") && a[0]) {
      ok = umount2(a[0], 0) == 0 || !fail(errno, "umount %s: %s", a[0], strerror(errno));
    } else if (!strcmp(verb, "nft") && a[0]) {
      size_t len = strtoul(a[0], NULL, 10);
      char *script = malloc(len + 1);
      if (!script || fread(script, 1, len, stdin) != len) return 1;
      script[len] = 0;
      ok = !nft_apply(script);
      free(script);
    } else if (!strcmp(verb, "batch") && a[1] && atoi(a[1]) >= 0 && atoi(a[1]) <= 1000000) {
      int count = atoi(a[1]);
      char **ops = calloc(count, sizeof *ops);
      for (int i = 0; i < count; i++) {
        size_t c = 0;
        if (!ops || getline(&ops[i], &c, stdin) <= 0) return 1;
      }
      ok = !enter(a[0]);
      if (ok) {
        int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
        if (fd < 0) ok = !fail(errno, "netlink socket: %s", strerror(errno));
        for (int i = 0; ok && i < count; i++) {
          char copy[512];
          snprintf(copy, sizeof copy, "%s", ops[i]);
          copy[strcspn(copy, "\n")] = 0;
          if (op(fd, ops[i])) {
            int e = errno;
            char m[sizeof errmsg];
            snprintf(m, sizeof m, "%s (in: %s)", errmsg, copy);
            fail(e, "%s", m);
            ok = 0;
          }
        }
        if (fd >= 0) close(fd);
        leave(a[0]);
      }
      for (int i = 0; i < count; i++) free(ops[i]);
      free(ops);
    } else {
      ok = !fail(EINVAL, "bad request: \"%s\"", verb);
    }
    answer(id, ok);
  }
  return 0;
}
