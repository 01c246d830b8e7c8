/*
 * The op lines of a batch: each is one rtnetlink request, shaped like the `ip` command named in
 * src/kernel/kernel.ts (the reference adapter runs exactly those). Every argument is checked
 * before anything is sent: a bad number or address fails the op, not the helper.
 * Addresses, routes, neighbours and FDB destinations take IPv4 or IPv6, by the address's form.
 */
#include "kernel.h"

#include <fcntl.h>
#include <linux/if_link.h>
#include <linux/neighbour.h>
#include <linux/veth.h>
#include <string.h>
#include <unistd.h>

#define MAX_MTU 65535 /* ETH_MAX_MTU; the kernel refuses more for every kind we make */

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

static int op_veth(int fd, struct msg *m, char **t) {
  unsigned long mtu, single;
  if (parse_num(t[3], 0, MAX_MTU, "MTU", &mtu) || parse_num(t[6], 0, 1, "single-queue flag", &single)) return -1;
  unsigned char mac[6];
  int with_mac = strcmp(t[4], "-") != 0;
  if (with_mac && parse_mac(t[4], mac)) return -1;
  if (link_create(m, t[1], (unsigned)mtu, NULL)) return -1;
  if (single) attr_u32(m, IFLA_NUM_TX_QUEUES, 1), attr_u32(m, IFLA_NUM_RX_QUEUES, 1);
  struct rtattr *li = nest(m, IFLA_LINKINFO);
  attr_str(m, IFLA_INFO_KIND, "veth");
  struct rtattr *data = nest(m, IFLA_INFO_DATA);
  struct rtattr *peer = nest(m, VETH_INFO_PEER);
  struct ifinfomsg *pifi = reserve(m, sizeof *pifi); /* the peer's ifinfomsg precedes its attributes */
  if (pifi) pifi->ifi_family = AF_UNSPEC;
  attr_str(m, IFLA_IFNAME, t[2]);
  if (mtu) attr_u32(m, IFLA_MTU, (unsigned)mtu);
  if (with_mac) attr(m, IFLA_ADDRESS, mac, 6);
  if (single) attr_u32(m, IFLA_NUM_TX_QUEUES, 1), attr_u32(m, IFLA_NUM_RX_QUEUES, 1);
  int nsfd = -1;
  if (strcmp(t[5], "-")) {
    nsfd = open(t[5], O_RDONLY | O_CLOEXEC);
    if (nsfd < 0) return fail(errno, "netns %s: %s", t[5], strerror(errno));
    attr_u32(m, IFLA_NET_NS_FD, (unsigned)nsfd);
  }
  nest_end(m, peer);
  nest_end(m, data);
  nest_end(m, li);
  int r = talk(fd, m);
  if (nsfd >= 0) close(nsfd);
  return r;
}

/* The namespace a new link is made in (IFLA_NET_NS_FD); -1 and nothing added for "-". The caller closes it. */
static int target_ns(struct msg *m, const char *ns) {
  if (!strcmp(ns, "-")) return -1;
  int nsfd = open(ns, O_RDONLY | O_CLOEXEC);
  if (nsfd < 0) return fail(errno, "netns %s: %s", ns, strerror(errno)), -2;
  attr_u32(m, IFLA_NET_NS_FD, (unsigned)nsfd);
  return nsfd;
}

/* Sends a link request that may carry a namespace descriptor, and closes it. */
static int talk_ns(int fd, struct msg *m, int nsfd) {
  int r = talk(fd, m);
  if (nsfd >= 0) close(nsfd);
  return r;
}

/* macvlan NAME PARENT MODE MTU|0 MAC|- NETNS|-  and  ipvlan NAME PARENT MODE FLAG MTU|0 NETNS|- */
static int op_stacked(int fd, struct msg *m, char **t, int ipvlan) {
  unsigned long mtu;
  unsigned mode, flag = 0;
  const char *mtu_s = ipvlan ? t[5] : t[4], *ns_s = t[6];
  if (parse_num(mtu_s, 0, MAX_MTU, "MTU", &mtu)) return -1;
  if (!ipvlan) {
    if (!strcmp(t[3], "bridge")) mode = MACVLAN_MODE_BRIDGE;
    else if (!strcmp(t[3], "private")) mode = MACVLAN_MODE_PRIVATE;
    else if (!strcmp(t[3], "vepa")) mode = MACVLAN_MODE_VEPA;
    else if (!strcmp(t[3], "passthru")) mode = MACVLAN_MODE_PASSTHRU;
    else return fail(EINVAL, "unknown macvlan mode %s", t[3]);
  } else {
    if (!strcmp(t[3], "l2")) mode = IPVLAN_MODE_L2;
    else if (!strcmp(t[3], "l3")) mode = IPVLAN_MODE_L3;
    else if (!strcmp(t[3], "l3s")) mode = IPVLAN_MODE_L3S;
    else return fail(EINVAL, "unknown ipvlan mode %s", t[3]);
    if (!strcmp(t[4], "bridge")) flag = 0;
    else if (!strcmp(t[4], "private")) flag = IPVLAN_F_PRIVATE;
    else if (!strcmp(t[4], "vepa")) flag = IPVLAN_F_VEPA;
    else return fail(EINVAL, "unknown ipvlan flag %s", t[4]);
  }
  int parent = ifindex(t[2]);
  if (parent < 0) return -1;
  if (link_create(m, t[1], (unsigned)mtu, ipvlan ? NULL : t[5])) return -1;
  attr_u32(m, IFLA_LINK, (unsigned)parent);
  int nsfd = target_ns(m, ns_s);
  if (nsfd == -2) return -1;
  struct rtattr *li = nest(m, IFLA_LINKINFO);
  attr_str(m, IFLA_INFO_KIND, ipvlan ? "ipvlan" : "macvlan");
  struct rtattr *data = nest(m, IFLA_INFO_DATA);
  if (ipvlan) {
    unsigned short mode16 = (unsigned short)mode, flag16 = (unsigned short)flag;
    attr(m, IFLA_IPVLAN_MODE, &mode16, 2);
    attr(m, IFLA_IPVLAN_FLAGS, &flag16, 2);
  } else {
    attr_u32(m, IFLA_MACVLAN_MODE, mode);
  }
  nest_end(m, data);
  nest_end(m, li);
  return talk_ns(fd, m, nsfd);
}

/* vlan NAME PARENT VID */
static int op_vlan(struct msg *m, char **t) {
  unsigned long vid;
  if (parse_num(t[3], 1, 4094, "VLAN id", &vid)) return -1;
  int parent = ifindex(t[2]);
  if (parent < 0) return -1;
  if (link_create(m, t[1], 0, NULL)) return -1;
  attr_u32(m, IFLA_LINK, (unsigned)parent);
  struct rtattr *li = nest(m, IFLA_LINKINFO);
  attr_str(m, IFLA_INFO_KIND, "vlan");
  struct rtattr *data = nest(m, IFLA_INFO_DATA);
  unsigned short v = (unsigned short)vid;
  attr(m, IFLA_VLAN_ID, &v, 2);
  nest_end(m, data);
  nest_end(m, li);
  return 0;
}

static int op_vxlan(struct msg *m, char **t) {
  unsigned long vni, port, mtu;
  struct ip local;
  if (parse_num(t[2], 0, (1ul << 24) - 1, "VNI", &vni) || parse_ip(t[3], &local) || parse_num(t[4], 1, 65535, "port", &port) || parse_num(t[5], 0, MAX_MTU, "MTU", &mtu)) return -1;
  if (link_create(m, t[1], (unsigned)mtu, NULL)) return -1;
  struct rtattr *li = nest(m, IFLA_LINKINFO);
  attr_str(m, IFLA_INFO_KIND, "vxlan");
  struct rtattr *data = nest(m, IFLA_INFO_DATA);
  attr_u32(m, IFLA_VXLAN_ID, (unsigned)vni);
  attr(m, local.family == AF_INET ? IFLA_VXLAN_LOCAL : IFLA_VXLAN_LOCAL6, local.a, local.len);
  unsigned short p = htons((unsigned short)port);
  attr(m, IFLA_VXLAN_PORT, &p, 2);
  attr_u8(m, IFLA_VXLAN_LEARNING, 0);
  attr_u8(m, IFLA_VXLAN_PROXY, 1);
  nest_end(m, data);
  nest_end(m, li);
  return 0;
}

/* neigh DEV IP MAC | neighdel DEV IP | fdb DEV MAC DST | fdbdel DEV MAC */
static int op_neigh(struct msg *m, char **t, int add, int fdb) {
  unsigned char mac[6];
  struct ip ip = {0};
  const char *mac_s = fdb ? t[2] : t[3], *ip_s = fdb ? t[3] : t[2];
  if ((fdb || add) && parse_mac(mac_s, mac)) return -1;
  if ((!fdb || add) && parse_ip(ip_s, &ip)) return -1;
  int dev = ifindex(t[1]);
  if (dev < 0) return -1;
  struct ndmsg *nd = msg_init(m, add ? RTM_NEWNEIGH : RTM_DELNEIGH, add ? NLM_F_CREATE | NLM_F_REPLACE : 0, sizeof *nd);
  nd->ndm_family = fdb ? AF_BRIDGE : ip.family;
  nd->ndm_ifindex = dev;
  nd->ndm_state = NUD_PERMANENT;
  if (fdb) nd->ndm_flags = NTF_SELF;
  if (fdb || add) attr(m, NDA_LLADDR, mac, 6);
  if (!fdb || add) attr(m, NDA_DST, ip.a, ip.len);
  return 0;
}

static int op_addr(struct msg *m, char **t) {
  struct ip ip;
  unsigned plen;
  if (parse_cidr(t[2], 0, &ip, &plen)) return -1;
  int dev = ifindex(t[1]);
  if (dev < 0) return -1;
  struct ifaddrmsg *ifa = msg_init(m, RTM_NEWADDR, NLM_F_CREATE | NLM_F_REPLACE, sizeof *ifa);
  ifa->ifa_family = ip.family;
  ifa->ifa_prefixlen = plen;
  ifa->ifa_index = dev;
  /* ctrnet's IPAM makes addresses unique: duplicate address detection would only hold an IPv6
   * address "tentative" (unusable) for a second */
  if (ip.family == AF_INET6) ifa->ifa_flags = IFA_F_NODAD;
  attr(m, IFA_LOCAL, ip.a, ip.len);
  attr(m, IFA_ADDRESS, ip.a, ip.len);
  return 0;
}

/* route DST|default VIA|- DEV|-: the family is the destination's, or for "default" the gateway's */
static int op_route(struct msg *m, char **t) {
  struct ip dst = {0}, gw = {0};
  unsigned plen = 0;
  int is_default = !strcmp(t[1], "default"), with_gw = strcmp(t[2], "-") != 0;
  if (!is_default && parse_cidr(t[1], 1, &dst, &plen)) return -1;
  if (with_gw && parse_ip(t[2], &gw)) return -1;
  int family = !is_default ? dst.family : with_gw ? gw.family : AF_INET;
  if (with_gw && gw.family != family) return fail(EINVAL, "gateway %s is not of the destination's address family", t[2]);
  int dev = 0;
  if (strcmp(t[3], "-") && (dev = ifindex(t[3])) < 0) return -1;
  struct rtmsg *rt = msg_init(m, RTM_NEWROUTE, NLM_F_CREATE | NLM_F_REPLACE, sizeof *rt);
  rt->rtm_family = family;
  rt->rtm_table = RT_TABLE_MAIN;
  rt->rtm_protocol = RTPROT_BOOT;
  rt->rtm_type = RTN_UNICAST;
  /* what `ip route` chooses: a route without a gateway is on the link (IPv6 ignores the scope) */
  rt->rtm_scope = with_gw || family == AF_INET6 ? RT_SCOPE_UNIVERSE : RT_SCOPE_LINK;
  if (!is_default) {
    rt->rtm_dst_len = plen;
    attr(m, RTA_DST, dst.a, dst.len);
  }
  if (with_gw) attr(m, RTA_GATEWAY, gw.a, gw.len);
  if (dev) attr_u32(m, RTA_OIF, (unsigned)dev);
  return 0;
}

int op(int fd, char *line) {
  char *t[8] = {0}, *save = NULL;
  int n = 0;
  for (char *s = strtok_r(line, " \n", &save); s; s = strtok_r(NULL, " \n", &save)) {
    if (n == 8) return fail(EINVAL, "too many arguments");
    t[n++] = s;
  }
  if (n == 0) return fail(EINVAL, "empty op");
  struct msg m;
  const char *v = t[0];
#define NEED(k) \
  if (n != (k) + 1) return fail(EINVAL, "%s takes %d arguments", v, k)
  if (!strcmp(v, "bridge")) {
    NEED(3);
    unsigned long mtu;
    if (parse_num(t[2], 0, MAX_MTU, "MTU", &mtu) || link_create(&m, t[1], (unsigned)mtu, t[3])) return -1;
    struct rtattr *li = nest(&m, IFLA_LINKINFO);
    attr_str(&m, IFLA_INFO_KIND, "bridge");
    nest_end(&m, li);
  } else if (!strcmp(v, "veth")) {
    NEED(6);
    return op_veth(fd, &m, t);
  } else if (!strcmp(v, "vxlan")) {
    NEED(5);
    if (op_vxlan(&m, t)) return -1;
  } else if (!strcmp(v, "macvlan")) {
    NEED(6);
    return op_stacked(fd, &m, t, 0);
  } else if (!strcmp(v, "ipvlan")) {
    NEED(6);
    return op_stacked(fd, &m, t, 1);
  } else if (!strcmp(v, "vlan")) {
    NEED(3);
    if (op_vlan(&m, t)) return -1;
  } else if (!strcmp(v, "dummy")) {
    NEED(1);
    if (link_create(&m, t[1], 0, NULL)) return -1;
    struct rtattr *li = nest(&m, IFLA_LINKINFO);
    attr_str(&m, IFLA_INFO_KIND, "dummy");
    nest_end(&m, li);
  } else if (!strcmp(v, "master")) {
    NEED(2);
    int mi = ifindex(t[2]);
    if (mi < 0) return -1;
    link_set(&m, RTM_NEWLINK, t[1]);
    attr_u32(&m, IFLA_MASTER, (unsigned)mi);
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
    if (op_neigh(&m, t, add, fdb)) return -1;
  } else if (!strcmp(v, "addr")) {
    NEED(2);
    if (op_addr(&m, t)) return -1;
  } else if (!strcmp(v, "route")) {
    NEED(3);
    if (op_route(&m, t)) return -1;
  } else {
    return fail(EINVAL, "unknown op %s", v);
  }
  return talk(fd, &m);
}
