/*
 * Test attacker: sends COUNT UDP datagrams (to port 9) as raw Ethernet frames from IFACE with a
 * source MAC and source IPv4 address of its choice, to a destination MAC and address. "-" as the
 * source MAC means the interface's own. Usage: spoof IFACE SRCMAC|- SRCIP DSTMAC DSTIP COUNT.
 * Built by the fast-path test and run inside a container (CAP_NET_RAW only).
 */
#include <arpa/inet.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <netinet/ip.h>
#include <netinet/udp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

static int mac(const char *s, unsigned char *m) {
	unsigned v[6];
	if (sscanf(s, "%x:%x:%x:%x:%x:%x", &v[0], &v[1], &v[2], &v[3], &v[4], &v[5]) != 6) return -1;
	for (int i = 0; i < 6; i++) m[i] = (unsigned char)v[i];
	return 0;
}

static unsigned short csum(const void *p, int n) {
	unsigned long s = 0;
	const unsigned short *w = p;
	for (; n > 1; n -= 2) s += *w++;
	if (n) s += *(const unsigned char *)w;
	while (s >> 16) s = (s & 0xffff) + (s >> 16);
	return (unsigned short)~s;
}

int main(int argc, char **argv) {
	if (argc != 7) { fprintf(stderr, "usage: spoof IFACE SRCMAC|- SRCIP DSTMAC DSTIP COUNT\n"); return 2; }
	int s = socket(AF_PACKET, SOCK_RAW, htons(ETH_P_IP));
	if (s < 0) { perror("socket"); return 1; }
	struct ifreq ifr = {0};
	strncpy(ifr.ifr_name, argv[1], IFNAMSIZ - 1);
	if (ioctl(s, SIOCGIFHWADDR, &ifr) < 0) { perror("ioctl"); return 1; }
	unsigned char f[14 + 20 + 8 + 16] = {0};
	if (!strcmp(argv[2], "-")) memcpy(f + 6, ifr.ifr_hwaddr.sa_data, 6);
	else if (mac(argv[2], f + 6)) { fprintf(stderr, "bad MAC %s\n", argv[2]); return 2; }
	if (mac(argv[4], f)) { fprintf(stderr, "bad MAC %s\n", argv[4]); return 2; }
	if (ioctl(s, SIOCGIFINDEX, &ifr) < 0) { perror("ioctl"); return 1; }
	f[12] = 0x08; f[13] = 0x00;
	struct iphdr *ip = (struct iphdr *)(f + 14);
	ip->version = 4; ip->ihl = 5; ip->ttl = 64; ip->protocol = IPPROTO_UDP;
	ip->tot_len = htons(sizeof f - 14);
	if (inet_pton(AF_INET, argv[3], &ip->saddr) != 1 || inet_pton(AF_INET, argv[5], &ip->daddr) != 1) { fprintf(stderr, "bad address\n"); return 2; }
	ip->check = csum(ip, 20);
	struct udphdr *u = (struct udphdr *)(f + 34);
	u->source = htons(40000); u->dest = htons(9); u->len = htons(8 + 16); /* no UDP checksum (0 = none) */
	memcpy(f + 42, "ctrnet spoof tst", 16);
	struct sockaddr_ll to = { .sll_family = AF_PACKET, .sll_ifindex = ifr.ifr_ifindex, .sll_halen = 6 };
	memcpy(to.sll_addr, f, 6);
	int n = atoi(argv[6]);
	for (int i = 0; i < n; i++) {
		if (sendto(s, f, sizeof f, 0, (struct sockaddr *)&to, sizeof to) < 0) { perror("sendto"); return 1; }
		usleep(20000);
	}
	printf("sent %d frames %s > %s\n", n, argv[3], argv[5]);
	return 0;
}
