/*
 * The read verbs: rtnetlink dumps turned into the answer's data lines, one object per line as
 * space-separated key=value fields (a key is left out when the object has no such value).
 * Each verb reports exactly what the iproute2 command named in src/kernel/kernel.ts shows, in
 * the same order, so that the two Kernel adapters give identical results:
 *   links          ip -d link show          index name mtu up [mac] [kind] [master]
 *   linkstats      ip -s link show          name rx_bytes rx_packets rx_errors rx_dropped
 *                                           tx_bytes tx_packets tx_errors tx_dropped (IFLA_STATS64)
 *   addrs FAMILY   ip -4|-6 addr show       dev addr plen     (links in dump order, then addresses)
 *   routes FAMILY  ip -4|-6 route show      dst [dev] [via]   (table main; dst "default", or
 *                                                             without /LEN for a host route)
 *   neighs F DEV   ip -4|-6 neigh show dev  ip mac            (entries with a link-layer address,
 *                                                             not NOARP, as ip hides those)
 *   fdb DEV        bridge fdb show dev      mac dst           (entries with a remote destination)
 * Names of links (a master, a route's device) come from a link dump taken first. A dump the
 * kernel marks interrupted (a change raced it) is taken again, at most MAX_TRIES times.
 */
#include "kernel.h"

#include <linux/if_link.h>
#include <linux/neighbour.h>
#include <stdlib.h>
#include <string.h>

#define MAX_TRIES 5

struct link {
  int index, master, up, has_stats;
  unsigned mtu;
  char name[IFNAMSIZ], kind[32], mac[3 * 32];
  struct rtnl_link_stats64 stats;
};
struct links {
  struct link *v;
  size_t n, cap;
};

/* A string attribute copied into buf, cut at its payload's end (the kernel terminates it; a
 * malformed one must still not be read past). */
static void attr_copy(char *buf, size_t cap, struct rtattr *a) {
  size_t n = RTA_PAYLOAD(a) < cap - 1 ? RTA_PAYLOAD(a) : cap - 1;
  memcpy(buf, RTA_DATA(a), n);
  buf[n] = 0;
}
static unsigned attr_get_u32(struct rtattr *a) {
  unsigned v = 0;
  if (RTA_PAYLOAD(a) >= 4) memcpy(&v, RTA_DATA(a), 4);
  return v;
}

static int on_link(struct nlmsghdr *h, void *ctx) {
  struct links *l = ctx;
  if (h->nlmsg_type != RTM_NEWLINK || h->nlmsg_len < NLMSG_LENGTH(sizeof(struct ifinfomsg))) return 0;
  struct ifinfomsg *ifi = NLMSG_DATA(h);
  struct rtattr *tb[IFLA_MAX + 1];
  parse_attrs(tb, IFLA_MAX, IFLA_RTA(ifi), (int)IFLA_PAYLOAD(h));
  if (!tb[IFLA_IFNAME]) return 0;
  if (l->n == l->cap) {
    size_t cap = l->cap ? l->cap * 2 : 64;
    struct link *v = realloc(l->v, cap * sizeof *v);
    if (!v) return fail(ENOMEM, "out of memory");
    l->v = v;
    l->cap = cap;
  }
  struct link *k = &l->v[l->n++];
  memset(k, 0, sizeof *k);
  k->index = ifi->ifi_index;
  k->up = !!(ifi->ifi_flags & IFF_UP);
  attr_copy(k->name, sizeof k->name, tb[IFLA_IFNAME]);
  if (tb[IFLA_MTU]) k->mtu = attr_get_u32(tb[IFLA_MTU]);
  if (tb[IFLA_MASTER]) k->master = (int)attr_get_u32(tb[IFLA_MASTER]);
  if (tb[IFLA_ADDRESS] && RTA_PAYLOAD(tb[IFLA_ADDRESS]) > 0) fmt_mac(k->mac, sizeof k->mac, RTA_DATA(tb[IFLA_ADDRESS]), RTA_PAYLOAD(tb[IFLA_ADDRESS]));
  if (tb[IFLA_STATS64] && RTA_PAYLOAD(tb[IFLA_STATS64]) >= sizeof(struct rtnl_link_stats64) - 2 * sizeof(__u64)) {
    /* older kernels send a shorter struct: copy what is there */
    size_t n = RTA_PAYLOAD(tb[IFLA_STATS64]) < sizeof k->stats ? RTA_PAYLOAD(tb[IFLA_STATS64]) : sizeof k->stats;
    memcpy(&k->stats, RTA_DATA(tb[IFLA_STATS64]), n);
    k->has_stats = 1;
  }
  if (tb[IFLA_LINKINFO]) {
    struct rtattr *li[IFLA_INFO_MAX + 1];
    parse_attrs(li, IFLA_INFO_MAX, RTA_DATA(tb[IFLA_LINKINFO]), (int)RTA_PAYLOAD(tb[IFLA_LINKINFO]));
    if (li[IFLA_INFO_KIND]) attr_copy(k->kind, sizeof k->kind, li[IFLA_INFO_KIND]);
  }
  return 0;
}

static int load_links(int fd, struct links *l) {
  for (int tries = 1;; tries++) {
    l->n = 0;
    struct msg m;
    struct ifinfomsg *ifi = msg_init(&m, RTM_GETLINK, 0, sizeof *ifi);
    ifi->ifi_family = AF_UNSPEC;
    int r = dump(fd, &m, on_link, l);
    if (r <= 0) return r;
    if (tries == MAX_TRIES) return fail(EAGAIN, "the link dump kept being interrupted by changes");
  }
}

static const struct link *by_index(const struct links *l, int index) {
  for (size_t i = 0; i < l->n; i++)
    if (l->v[i].index == index) return &l->v[i];
  return NULL;
}
/* A link's name as ip prints it: "if<N>" when the index is not (or no longer) known. */
static const char *name_of(const struct links *l, int index, char buf[16]) {
  const struct link *k = by_index(l, index);
  if (k) return k->name;
  snprintf(buf, 16, "if%d", index);
  return buf;
}
static int index_of(const struct links *l, const char *name) {
  for (size_t i = 0; i < l->n; i++)
    if (!strcmp(l->v[i].name, name)) return l->v[i].index;
  return fail(ENODEV, "Cannot find device \"%s\"", name);
}

int read_links(int fd, struct out *o) {
  struct links l = {0};
  int r = load_links(fd, &l);
  for (size_t i = 0; r == 0 && i < l.n; i++) {
    const struct link *k = &l.v[i];
    char buf[16];
    out_printf(o, "index=%d name=%s mtu=%u up=%d", k->index, k->name, k->mtu, k->up);
    if (k->mac[0]) out_printf(o, " mac=%s", k->mac);
    if (k->kind[0]) out_printf(o, " kind=%s", k->kind);
    if (k->master) out_printf(o, " master=%s", name_of(&l, k->master, buf));
    out_printf(o, "\n");
  }
  free(l.v);
  return r;
}

int read_linkstats(int fd, struct out *o) {
  struct links l = {0};
  int r = load_links(fd, &l);
  for (size_t i = 0; r == 0 && i < l.n; i++) {
    const struct link *k = &l.v[i];
    const struct rtnl_link_stats64 *s = &k->stats;
    out_printf(o, "name=%s rx_bytes=%llu rx_packets=%llu rx_errors=%llu rx_dropped=%llu tx_bytes=%llu tx_packets=%llu tx_errors=%llu tx_dropped=%llu\n", k->name,
               (unsigned long long)s->rx_bytes, (unsigned long long)s->rx_packets, (unsigned long long)s->rx_errors, (unsigned long long)s->rx_dropped,
               (unsigned long long)s->tx_bytes, (unsigned long long)s->tx_packets, (unsigned long long)s->tx_errors, (unsigned long long)s->tx_dropped);
  }
  free(l.v);
  return r;
}

/* ---------- addresses ---------- */

struct addr {
  int index;
  unsigned plen;
  char ip[INET6_ADDRSTRLEN];
};
struct addrs {
  int family;
  struct addr *v;
  size_t n, cap;
};

static int on_addr(struct nlmsghdr *h, void *ctx) {
  struct addrs *a = ctx;
  if (h->nlmsg_type != RTM_NEWADDR || h->nlmsg_len < NLMSG_LENGTH(sizeof(struct ifaddrmsg))) return 0;
  struct ifaddrmsg *ifa = NLMSG_DATA(h);
  if (ifa->ifa_family != a->family) return 0;
  struct rtattr *tb[IFA_MAX + 1];
  parse_attrs(tb, IFA_MAX, IFA_RTA(ifa), (int)IFA_PAYLOAD(h));
  /* ip's "local": IFA_LOCAL, which IPv6 sends only for point-to-point peers; else IFA_ADDRESS */
  struct rtattr *local = tb[IFA_LOCAL] ? tb[IFA_LOCAL] : tb[IFA_ADDRESS];
  if (!local) return 0;
  if (a->n == a->cap) {
    size_t cap = a->cap ? a->cap * 2 : 64;
    struct addr *v = realloc(a->v, cap * sizeof *v);
    if (!v) return fail(ENOMEM, "out of memory");
    a->v = v;
    a->cap = cap;
  }
  struct addr *x = &a->v[a->n++];
  x->index = (int)ifa->ifa_index;
  x->plen = ifa->ifa_prefixlen;
  fmt_ip(x->ip, sizeof x->ip, RTA_DATA(local), RTA_PAYLOAD(local));
  return 0;
}

int read_addrs(int fd, int family, struct out *o) {
  struct links l = {0};
  struct addrs a = {.family = family};
  int r = load_links(fd, &l);
  for (int tries = 1; r == 0; tries++) {
    a.n = 0;
    struct msg m;
    struct ifaddrmsg *ifa = msg_init(&m, RTM_GETADDR, 0, sizeof *ifa);
    ifa->ifa_family = family;
    int d = dump(fd, &m, on_addr, &a);
    if (d != 1) {
      r = d;
      break;
    }
    if (tries == MAX_TRIES) r = fail(EAGAIN, "the address dump kept being interrupted by changes");
  }
  /* ip prints link by link, in the link dump's order, each link's addresses in their order */
  for (size_t i = 0; r == 0 && i < l.n; i++)
    for (size_t j = 0; j < a.n; j++)
      if (a.v[j].index == l.v[i].index) out_printf(o, "dev=%s addr=%s plen=%u\n", l.v[i].name, a.v[j].ip, a.v[j].plen);
  free(l.v);
  free(a.v);
  return r;
}

/* ---------- routes, neighbours, FDB: printed as they come ---------- */

struct rows {
  const struct links *l;
  struct out *o;
  int family, index;
};

static int on_route(struct nlmsghdr *h, void *ctx) {
  struct rows *c = ctx;
  if (h->nlmsg_type != RTM_NEWROUTE || h->nlmsg_len < NLMSG_LENGTH(sizeof(struct rtmsg))) return 0;
  struct rtmsg *rt = NLMSG_DATA(h);
  if (rt->rtm_family != c->family || (rt->rtm_flags & RTM_F_CLONED)) return 0;
  struct rtattr *tb[RTA_MAX + 1];
  parse_attrs(tb, RTA_MAX, RTM_RTA(rt), (int)RTM_PAYLOAD(h));
  unsigned table = tb[RTA_TABLE] ? attr_get_u32(tb[RTA_TABLE]) : rt->rtm_table;
  if (table != RT_TABLE_MAIN) return 0;
  char ip[INET6_ADDRSTRLEN], buf[16];
  unsigned host = c->family == AF_INET ? 32 : 128;
  if (tb[RTA_DST]) {
    fmt_ip(ip, sizeof ip, RTA_DATA(tb[RTA_DST]), RTA_PAYLOAD(tb[RTA_DST]));
    if (rt->rtm_dst_len != host) out_printf(c->o, "dst=%s/%u", ip, rt->rtm_dst_len);
    else out_printf(c->o, "dst=%s", ip);
  } else if (rt->rtm_dst_len) {
    out_printf(c->o, "dst=0/%u", rt->rtm_dst_len);
  } else {
    out_printf(c->o, "dst=default");
  }
  if (tb[RTA_OIF]) out_printf(c->o, " dev=%s", name_of(c->l, (int)attr_get_u32(tb[RTA_OIF]), buf));
  if (tb[RTA_GATEWAY]) {
    fmt_ip(ip, sizeof ip, RTA_DATA(tb[RTA_GATEWAY]), RTA_PAYLOAD(tb[RTA_GATEWAY]));
    out_printf(c->o, " via=%s", ip);
  }
  out_printf(c->o, "\n");
  return 0;
}

static int on_neigh(struct nlmsghdr *h, void *ctx) {
  struct rows *c = ctx;
  if (h->nlmsg_type != RTM_NEWNEIGH || h->nlmsg_len < NLMSG_LENGTH(sizeof(struct ndmsg))) return 0;
  struct ndmsg *nd = NLMSG_DATA(h);
  if (nd->ndm_family != c->family || nd->ndm_ifindex != c->index) return 0;
  struct rtattr *tb[NDA_MAX + 1];
  parse_attrs(tb, NDA_MAX, (struct rtattr *)((char *)nd + NLMSG_ALIGN(sizeof *nd)), (int)NLMSG_PAYLOAD(h, sizeof *nd));
  if (!tb[NDA_DST] || !tb[NDA_LLADDR]) return 0;
  if (c->family == AF_BRIDGE) {
    char mac[3 * 32], ip[INET6_ADDRSTRLEN];
    fmt_mac(mac, sizeof mac, RTA_DATA(tb[NDA_LLADDR]), RTA_PAYLOAD(tb[NDA_LLADDR]));
    fmt_ip(ip, sizeof ip, RTA_DATA(tb[NDA_DST]), RTA_PAYLOAD(tb[NDA_DST]));
    out_printf(c->o, "mac=%s dst=%s\n", mac, ip);
    return 0;
  }
  /* `ip neigh show` hides NOARP (and stateless) entries unless they are proxy or externally learned */
  if (!(nd->ndm_state & (0xff & ~NUD_NOARP)) && !(nd->ndm_flags & (NTF_PROXY | NTF_EXT_LEARNED))) return 0;
  char ip[INET6_ADDRSTRLEN], mac[3 * 32];
  fmt_ip(ip, sizeof ip, RTA_DATA(tb[NDA_DST]), RTA_PAYLOAD(tb[NDA_DST]));
  fmt_mac(mac, sizeof mac, RTA_DATA(tb[NDA_LLADDR]), RTA_PAYLOAD(tb[NDA_LLADDR]));
  out_printf(c->o, "ip=%s mac=%s\n", ip, mac);
  return 0;
}

/* Runs one dump of rows into o; an interrupted dump is taken again from an empty o. */
static int rows_dump(int fd, struct msg *m, dump_fn fn, struct rows *c, const char *what) {
  size_t start = c->o->len;
  struct msg again = *m;
  for (int tries = 1;; tries++) {
    c->o->len = start;
    int r = dump(fd, m, fn, c);
    if (r != 1) return r;
    if (tries == MAX_TRIES) return fail(EAGAIN, "the %s dump kept being interrupted by changes", what);
    *m = again;
  }
}

int read_routes(int fd, int family, struct out *o) {
  struct links l = {0};
  int r = load_links(fd, &l);
  if (r == 0) {
    struct msg m;
    struct rtmsg *rt = msg_init(&m, RTM_GETROUTE, 0, sizeof *rt);
    rt->rtm_family = family;
    struct rows c = {&l, o, family, 0};
    r = rows_dump(fd, &m, on_route, &c, "route");
  }
  free(l.v);
  return r;
}

int read_neighs(int fd, int family, const char *dev, struct out *o) {
  struct links l = {0};
  int r = load_links(fd, &l), index = r ? -1 : index_of(&l, dev);
  if (index < 0) r = -1;
  if (r == 0) {
    struct msg m;
    struct ndmsg *nd = msg_init(&m, RTM_GETNEIGH, 0, sizeof *nd);
    nd->ndm_family = family;
    attr_u32(&m, NDA_IFINDEX, (unsigned)index); /* the kernel filters by device; we check again */
    struct rows c = {&l, o, family, index};
    r = rows_dump(fd, &m, on_neigh, &c, "neighbour");
  }
  free(l.v);
  return r;
}

int read_fdb(int fd, const char *dev, struct out *o) {
  struct links l = {0};
  int r = load_links(fd, &l), index = r ? -1 : index_of(&l, dev);
  if (index < 0) r = -1;
  if (r == 0) {
    /* An ifinfomsg header (not an ndmsg) is how an FDB dump names one port: ifi_index. */
    struct msg m;
    struct ifinfomsg *ifi = msg_init(&m, RTM_GETNEIGH, 0, sizeof *ifi);
    ifi->ifi_family = AF_BRIDGE;
    ifi->ifi_index = index;
    struct rows c = {&l, o, AF_BRIDGE, index};
    r = rows_dump(fd, &m, on_neigh, &c, "FDB");
  }
  free(l.v);
  return r;
}
