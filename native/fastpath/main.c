/*
 * ctrnet-fastpath: loads fastpath.bpf.o (the tc-BPF fast path between endpoints of one bridge
 * network, described there), keeps its maps, and attaches it to endpoints' host-side veths. One
 * per daemon, in the daemon's network namespace; it dies with the daemon (PR_SET_PDEATHSIG) or at
 * EOF. Programs already attached keep the maps they were given until restore() attaches the new
 * program again (a replacement, in place), so a restart never opens a gap: an endpoint is either
 * on the old maps, which still describe it, or on the new ones.
 *
 * Protocol on stdin/stdout as ctrnet-kernel's (native/kernel/main.c): "<id> <verb> [args]\n",
 * answered by data lines "<id> + <fields>\n" and then "<id> ok\n" or "<id> err <ERRNO> <message>\n".
 *   add NAME MAC IP NET [VX]  endpoint behind host veth NAME (its container's MAC and IPv4
 *                         address, network number NET; VX: the network's VXLAN device, where its
 *                         frames to other hosts go): into the maps, and the program on NAME's ingress
 *   tunnel VX NET         the VXLAN device VX of network NET: frames it decapsulates for a local
 *                         endpoint of NET are handed to it; the program on VX's ingress
 *   del NAME              out of the maps, the program off NAME (a veth already gone is fine)
 *   stats                 "+ redirected=N endpoints=M"
 *   show NAME             "+ attached=0|1": whether this helper's program is on NAME's ingress,
 *                         read from the kernel (tc), for explain
 *   probe IFINDEX HEX     runs the program on a frame (hex bytes) as if it came in on IFINDEX,
 *                         without sending it anywhere: "+ verdict=N" (0 pass, 7 redirect)
 */
#define _GNU_SOURCE
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <libgen.h>
#include <linux/if_ether.h>
#include <linux/pkt_cls.h>
#include <net/if.h>
#include <arpa/inet.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

#define MAX_LINE 4096
#define MAX_EPS 65536

struct ep_val {
  unsigned char mac[6];
  unsigned char pad[2];
  unsigned int ip4; /* network order */
  unsigned int net;
  unsigned int tunnel; /* ifindex of the network's VXLAN device, 0: none */
  unsigned int flags;
};
#define EP_TUNNEL 1
struct dst_key {
  unsigned int net;
  unsigned char mac[6];
  unsigned char pad[2];
};

/* What add was told, so that del can undo it after the veth (and its ifindex) is gone. */
struct known {
  char name[IF_NAMESIZE];
  int ifindex;
  int tunnel; /* a VXLAN device: no destination entry */
  struct dst_key dst;
};
static struct known *known;
static int nknown;

static int prog_fd, eps_fd, dsts_fd, stats_fd;
static char errmsg[512];
static int errnum;

static int fail(int e, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(errmsg, sizeof errmsg, fmt, ap);
  va_end(ap);
  errnum = e;
  return -1;
}

static int parse_mac(const char *s, unsigned char mac[6]) {
  unsigned v[6];
  char extra;
  if (sscanf(s, "%2x:%2x:%2x:%2x:%2x:%2x%c", &v[0], &v[1], &v[2], &v[3], &v[4], &v[5], &extra) != 6) return fail(EINVAL, "bad MAC address %.40s", s);
  for (int i = 0; i < 6; i++) mac[i] = (unsigned char)v[i];
  return 0;
}

static int parse_uint(const char *s, unsigned long max, unsigned long *out) {
  char *e;
  errno = 0;
  unsigned long v = strtoul(s, &e, 10);
  if (!*s || *e || errno || v > max || *s == '-' || *s == '+') return fail(EINVAL, "bad number %.40s", s);
  *out = v;
  return 0;
}

static struct known *find(const char *name) {
  for (int i = 0; i < nknown; i++)
    if (!strcmp(known[i].name, name)) return &known[i];
  return NULL;
}

static int attach(int ifindex, const char *name) {
  LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex, .attach_point = BPF_TC_INGRESS);
  int r = bpf_tc_hook_create(&hook);
  if (r && r != -EEXIST) return fail(-r, "clsact qdisc on %s: %s", name, strerror(-r));
  LIBBPF_OPTS(bpf_tc_opts, opts, .handle = 1, .priority = 1, .prog_fd = prog_fd, .flags = BPF_TC_F_REPLACE);
  r = bpf_tc_attach(&hook, &opts);
  if (r) return fail(-r, "tc-BPF program on %s: %s", name, strerror(-r));
  return 0;
}

static void detach(int ifindex) {
  LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex, .attach_point = BPF_TC_INGRESS);
  LIBBPF_OPTS(bpf_tc_opts, opts, .handle = 1, .priority = 1);
  /* A veth already gone took its filter with it: nothing to undo. */
  bpf_tc_detach(&hook, &opts);
}

static struct known *remember(const char *name, int ifindex, int tunnel, const struct dst_key *k) {
  struct known *kn = find(name);
  if (!kn) {
    if (nknown == MAX_EPS) {
      fail(ENOSPC, "more than %d endpoints", MAX_EPS);
      return NULL;
    }
    kn = &known[nknown++];
    snprintf(kn->name, sizeof kn->name, "%s", name);
  } else if (kn->ifindex != ifindex || kn->tunnel != tunnel || memcmp(&kn->dst, k, sizeof *k)) {
    /* the same name for another endpoint: the old one's entries go first */
    if (!kn->tunnel) bpf_map_delete_elem(dsts_fd, &kn->dst);
    bpf_map_delete_elem(eps_fd, &kn->ifindex);
  }
  kn->ifindex = ifindex;
  kn->tunnel = tunnel;
  kn->dst = *k;
  return kn;
}

static int add(const char *name, const char *mac, const char *ip, const char *net, const char *vx) {
  struct ep_val v = {0};
  struct dst_key k = {0};
  unsigned long n;
  struct in_addr a;
  if (strlen(name) >= IF_NAMESIZE) return fail(EINVAL, "bad interface name %.40s", name);
  if (parse_mac(mac, v.mac) || parse_uint(net, 0xffffffffu, &n)) return -1;
  if (inet_pton(AF_INET, ip, &a) != 1) return fail(EINVAL, "bad IPv4 address %.40s", ip);
  int ifindex = (int)if_nametoindex(name);
  if (!ifindex) return fail(ENODEV, "no interface %s", name);
  if (vx && !(v.tunnel = if_nametoindex(vx))) return fail(ENODEV, "no interface %.40s", vx);
  v.ip4 = a.s_addr;
  v.net = (unsigned int)n;
  k.net = v.net;
  memcpy(k.mac, v.mac, 6);
  if (!remember(name, ifindex, 0, &k)) return -1;
  unsigned int idx = (unsigned int)ifindex;
  if (bpf_map_update_elem(eps_fd, &idx, &v, BPF_ANY)) return fail(errno, "endpoint map: %s", strerror(errno));
  if (bpf_map_update_elem(dsts_fd, &k, &idx, BPF_ANY)) return fail(errno, "destination map: %s", strerror(errno));
  return attach(ifindex, name);
}

static int tunnel(const char *name, const char *net) {
  struct ep_val v = {.flags = EP_TUNNEL};
  struct dst_key k = {0};
  unsigned long n;
  if (strlen(name) >= IF_NAMESIZE) return fail(EINVAL, "bad interface name %.40s", name);
  if (parse_uint(net, 0xffffffffu, &n)) return -1;
  int ifindex = (int)if_nametoindex(name);
  if (!ifindex) return fail(ENODEV, "no interface %s", name);
  v.net = (unsigned int)n;
  if (!remember(name, ifindex, 1, &k)) return -1;
  unsigned int idx = (unsigned int)ifindex;
  if (bpf_map_update_elem(eps_fd, &idx, &v, BPF_ANY)) return fail(errno, "endpoint map: %s", strerror(errno));
  return attach(ifindex, name);
}

static int del(const char *name) {
  struct known *kn = find(name);
  if (!kn) return 0;
  /* The destination first: no frame is sent to a veth on its way out. */
  if (!kn->tunnel) bpf_map_delete_elem(dsts_fd, &kn->dst);
  unsigned int idx = (unsigned int)kn->ifindex;
  bpf_map_delete_elem(eps_fd, &idx);
  if ((int)if_nametoindex(name) == kn->ifindex) detach(kn->ifindex);
  *kn = known[--nknown];
  return 0;
}

static int show(const char *id, const char *name) {
  int ifindex = (int)if_nametoindex(name);
  if (!ifindex) return fail(ENODEV, "no interface %s", name);
  LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex, .attach_point = BPF_TC_INGRESS);
  LIBBPF_OPTS(bpf_tc_opts, opts, .handle = 1, .priority = 1);
  struct bpf_prog_info info = {0};
  unsigned int len = sizeof info;
  if (bpf_obj_get_info_by_fd(prog_fd, &info, &len)) return fail(errno, "program info: %s", strerror(errno));
  int on = bpf_tc_query(&hook, &opts) == 0 && opts.prog_id == info.id;
  printf("%s + attached=%d\n", id, on);
  return 0;
}

static int probe(const char *id, const char *ifx, const char *hex) {
  unsigned long ifindex;
  if (parse_uint(ifx, 0x7fffffff, &ifindex)) return -1;
  size_t len = strlen(hex) / 2;
  if (len < 14 || len > 1514 || strlen(hex) % 2) return fail(EINVAL, "a frame of 14 to 1514 bytes, in hex");
  unsigned char frame[1514];
  for (size_t i = 0; i < len; i++) {
    unsigned v;
    if (sscanf(hex + 2 * i, "%2x", &v) != 1) return fail(EINVAL, "bad hex at byte %zu", i);
    frame[i] = (unsigned char)v;
  }
  struct __sk_buff ctx = {.ingress_ifindex = (unsigned int)ifindex};
  LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = frame, .data_size_in = (unsigned int)len, .ctx_in = &ctx, .ctx_size_in = sizeof ctx, .repeat = 1);
  if (bpf_prog_test_run_opts(prog_fd, &opts)) return fail(errno, "test run: %s", strerror(errno));
  printf("%s + verdict=%u\n", id, opts.retval);
  return 0;
}

static int quiet(enum libbpf_print_level level, const char *fmt, va_list ap) {
  if (level == LIBBPF_WARN) return vfprintf(stderr, fmt, ap);
  return 0;
}

static int load(const char *path) {
  libbpf_set_print(quiet);
  struct bpf_object *obj = bpf_object__open_file(path, NULL);
  if (!obj) return fail(errno, "opening %s: %s", path, strerror(errno));
  if (bpf_object__load(obj)) return fail(errno, "loading %s into the kernel: %s", path, strerror(errno));
  struct bpf_program *p = bpf_object__find_program_by_name(obj, "ctrnet_fastpath");
  if (!p) return fail(ENOENT, "%s has no program ctrnet_fastpath", path);
  prog_fd = bpf_program__fd(p);
  eps_fd = bpf_object__find_map_fd_by_name(obj, "eps");
  dsts_fd = bpf_object__find_map_fd_by_name(obj, "dsts");
  stats_fd = bpf_object__find_map_fd_by_name(obj, "stats");
  if (prog_fd < 0 || eps_fd < 0 || dsts_fd < 0 || stats_fd < 0) return fail(ENOENT, "%s lacks a map", path);
  return 0;
}

int main(int argc, char **argv) {
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  const char *parent = getenv("CTRNET_KERNEL_PARENT");
  if (parent && atoi(parent) != getppid()) return 1;
  char obj[PATH_MAX];
  if (argc > 1) snprintf(obj, sizeof obj, "%s", argv[1]);
  else {
    char self[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    if (n < 0) return 1;
    self[n] = 0;
    snprintf(obj, sizeof obj, "%s/ctrnet-fastpath.bpf.o", dirname(self));
  }
  known = calloc(MAX_EPS, sizeof *known);
  if (!known || load(obj)) {
    fprintf(stderr, "ctrnet-fastpath: cannot start: %s\n", errmsg[0] ? errmsg : strerror(errno));
    return 1;
  }
  static char line[MAX_LINE + 2];
  while (fgets(line, sizeof line, stdin)) {
    line[strcspn(line, "\n")] = 0;
    char *save = NULL, *id = strtok_r(line, " \t", &save), *verb = strtok_r(NULL, " \t", &save);
    if (!id) continue;
    char *a[5] = {0};
    int n = 0;
    for (char *t; n < 5 && (t = strtok_r(NULL, " \t", &save));) a[n++] = t;
    errmsg[0] = 0;
    int r;
    if (!verb) r = fail(EINVAL, "bad request");
    else if (!strcmp(verb, "add") && (n == 4 || n == 5)) r = add(a[0], a[1], a[2], a[3], n == 5 ? a[4] : NULL);
    else if (!strcmp(verb, "tunnel") && n == 2) r = tunnel(a[0], a[1]);
    else if (!strcmp(verb, "del") && n == 1) r = del(a[0]);
    else if (!strcmp(verb, "stats") && n == 0) {
      /* the data line carries the request's id */
      int ncpu = libbpf_num_possible_cpus();
      unsigned long long *per = ncpu > 0 ? calloc((size_t)ncpu, sizeof *per) : NULL, sum = 0;
      unsigned int zero = 0;
      if (!per) r = fail(ENOMEM, "cannot read the counters");
      else if (bpf_map_lookup_elem(stats_fd, &zero, per)) r = fail(errno, "stats map: %s", strerror(errno));
      else {
        for (int i = 0; i < ncpu; i++) sum += per[i];
        printf("%s + redirected=%llu endpoints=%d\n", id, sum, nknown);
        r = 0;
      }
      free(per);
    } else if (!strcmp(verb, "show") && n == 1) r = show(id, a[0]);
    else if (!strcmp(verb, "probe") && n == 2) r = probe(id, a[0], a[1]);
    else r = fail(EINVAL, "bad request: \"%.100s\"", verb);
    if (r == 0) printf("%s ok\n", id);
    else {
      const char *name = strerrorname_np(errnum);
      printf("%s err %s %s\n", id, name ? name : "EUNKNOWN", errmsg);
    }
    fflush(stdout);
  }
  return 0;
}
