/*
 * ctrnet's fast path between two endpoints of one bridge network on one host (tc-BPF, attached
 * by ctrnet-fastpath to the ingress of each endpoint's host-side veth).
 *
 * A frame that a container sends arrives at the ingress of its veth's host end. When it is an
 * IPv4 frame whose source MAC and source address are the sending endpoint's own (the very check
 * of the anti-spoofing chain's first rule, `ether type ip iifname . ether saddr . ip saddr
 * @port_mac_ip accept`), and whose destination MAC is another endpoint of the same network, it is
 * handed straight to that endpoint's eth0 in its namespace (bpf_redirect_peer): no bridge, no
 * second veth queue. Every other frame (ARP, IPv6, broadcast and multicast, frames to the gateway
 * or to other hosts, frames of networks without inter-container traffic, and every frame that
 * fails the check) is passed on unchanged to the bridge, where the anti-spoofing chain and the
 * rest of the firewall decide as before.
 *
 * Overlay networks (VXLAN): the program is also on the ingress of the network's VXLAN device. A
 * checked frame of a local endpoint whose destination MAC is no local endpoint's, and is unicast,
 * is handed to the VXLAN device's transmit (bpf_redirect): its FDB sends it to the host that has
 * that MAC, as the bridge would have (it floods unknown unicast there too). A decapsulated frame
 * arriving on the VXLAN device for a local endpoint is handed to that endpoint (bpf_redirect_peer);
 * frames from the tunnel have no local sender to check (the sending host checked them), as on the
 * bridge, where the anti-spoofing chain looks at containers' ports only.
 *
 * Maps (filled by ctrnet-fastpath):
 *   eps:  ifindex (host veth, or VXLAN device) → the endpoint behind it: MAC, IPv4 address, network
 *         number, the network's VXLAN device (0: none), flags (EP_TUNNEL: it is the VXLAN device)
 *   dsts: network number . MAC → host veth ifindex of that endpoint
 *   stats: frames redirected (per CPU)
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

struct ep_val {
  __u8 mac[6];
  __u8 pad[2];
  __be32 ip4;
  __u32 net;
  __u32 tunnel;
  __u32 flags;
};

#define EP_TUNNEL 1

struct dst_key {
  __u32 net;
  __u8 mac[6];
  __u8 pad[2];
};

struct {
  __uint(type, BPF_MAP_TYPE_HASH);
  __uint(max_entries, 65536);
  __type(key, __u32);
  __type(value, struct ep_val);
} eps SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_HASH);
  __uint(max_entries, 65536);
  __type(key, struct dst_key);
  __type(value, __u32);
} dsts SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
  __uint(max_entries, 1);
  __type(key, __u32);
  __type(value, __u64);
} stats SEC(".maps");

static __always_inline int mac_eq(const __u8 *a, const __u8 *b) {
  return *(const __u32 *)a == *(const __u32 *)b && *(const __u16 *)(a + 4) == *(const __u16 *)(b + 4);
}

SEC("tc")
int ctrnet_fastpath(struct __sk_buff *skb) {
  void *data = (void *)(long)skb->data;
  void *end = (void *)(long)skb->data_end;
  struct ethhdr *eth = data;
  if ((void *)(eth + 1) > end || eth->h_proto != bpf_htons(ETH_P_IP)) return TC_ACT_OK;
  struct iphdr *ip = (void *)(eth + 1);
  if ((void *)(ip + 1) > end) return TC_ACT_OK;
  __u32 in = skb->ingress_ifindex;
  struct ep_val *src = bpf_map_lookup_elem(&eps, &in);
  if (!src) return TC_ACT_OK;
  int tunnel = src->flags & EP_TUNNEL;
  if (!tunnel && (!mac_eq(eth->h_source, src->mac) || ip->saddr != src->ip4)) return TC_ACT_OK;
  struct dst_key k = {.net = src->net};
  __builtin_memcpy(k.mac, eth->h_dest, 6);
  __u32 *out = bpf_map_lookup_elem(&dsts, &k);
  __u32 zero = 0;
  __u64 *n;
  if (out && *out != in) {
    n = bpf_map_lookup_elem(&stats, &zero);
    if (n) *n += 1;
    return bpf_redirect_peer(*out, 0);
  }
  // Not local: to the other hosts through the network's VXLAN device, unicast only.
  if (out || tunnel || !src->tunnel || (eth->h_dest[0] & 1)) return TC_ACT_OK;
  n = bpf_map_lookup_elem(&stats, &zero);
  if (n) *n += 1;
  return bpf_redirect(src->tunnel, 0);
}

char _license[] SEC("license") = "GPL";
