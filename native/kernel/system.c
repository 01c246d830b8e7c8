/*
 * What is not rtnetlink: entering namespaces, making and removing them, sysctls, the overlay
 * mount of a container's root, and nft scripts through libnftables.
 * (mount(2) directly: the mount and umount programs read the whole mount table each time, which
 * with a thousand containers' mounts costs ~10 ms per call.)
 */
#include "kernel.h"

#include <fcntl.h>
#include <nftables/libnftables.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <unistd.h>

static int own_ns = -1;
static struct nft_ctx *nft;

int system_init(void) {
  own_ns = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
  nft = nft_ctx_new(NFT_CTX_DEFAULT);
  if (own_ns < 0 || !nft) return -1;
  nft_ctx_buffer_output(nft);
  nft_ctx_buffer_error(nft);
  return 0;
}

int enter(const char *ns) {
  if (!strcmp(ns, "-")) return 0;
  int fd = open(ns, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return fail(errno, "network namespace %s: %s", ns, strerror(errno));
  int r = setns(fd, CLONE_NEWNET);
  int e = errno;
  close(fd);
  if (r) return fail(e, "entering network namespace %s: %s", ns, strerror(e));
  return 0;
}

void leave(const char *ns) {
  if (strcmp(ns, "-") && setns(own_ns, CLONE_NEWNET)) {
    /* Staying in a sandbox's namespace would misdirect every later request: better to die (the
     * daemon starts a new helper and fails only what was in flight). */
    fprintf(stderr, "ctrnet-kernel: cannot return to own network namespace: %s\n", strerror(errno));
    exit(1);
  }
}

/* Writes value to the file at path (relative to dir, or AT_FDCWD); errors name `shown`. */
static int write_at(int dir, const char *path, const char *value, const char *shown) {
  int fd = openat(dir, path, O_WRONLY | O_CLOEXEC);
  if (fd < 0) return fail(errno, "%s: %s", shown, strerror(errno));
  ssize_t w = write(fd, value, strlen(value));
  int e = errno;
  close(fd);
  if (w < 0) return fail(e, "%s: %s", shown, strerror(e));
  return 0;
}

int sysctl_set(const char *key, const char *value) {
  char path[256] = "/proc/sys/";
  if (!*key || strlen(key) > 200 || strstr(key, "..") || key[0] == '/') return fail(EINVAL, "bad sysctl key %s", key);
  strcat(path, key);
  for (char *p = path + 10; *p; p++)
    if (*p == '.') *p = '/';
  return write_at(AT_FDCWD, path, value, path);
}

/*
 * The IPv6 sysctls of a new namespace are written relative to one open of its
 * /proc/sys/net/ipv6/conf: each namespace has its own "net" directory under /proc/sys, so the
 * kernel keeps one same-named dentry per live namespace there and a path lookup compares against
 * every one (perf at 1000 sandboxes: proc_sys_compare under the path walk). One lookup per
 * namespace instead of one per key.
 */
static int conf_set(int dir, const char *key, const char *value) {
  char shown[128];
  snprintf(shown, sizeof shown, "/proc/sys/net/ipv6/conf/%s", key);
  return write_at(dir, key, value, shown);
}

/* A container without an IPv6 network: IPv6 off. The keys are absent on a host booted with
 * ipv6.disable=1: then there is nothing to turn off. */
static int ipv6_off(void) {
  int dir = open("/proc/sys/net/ipv6/conf", O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (dir < 0) return errno == ENOENT ? 0 : fail(errno, "/proc/sys/net/ipv6/conf: %s", strerror(errno));
  int r = conf_set(dir, "all/disable_ipv6", "1") || conf_set(dir, "default/disable_ipv6", "1") ? -1 : 0;
  close(dir);
  return r;
}

/* IPv6 on, quietly: no router advertisements accepted (so no router solicitations sent) and no
 * duplicate address detection (ctrnet's addresses are unique by its IPAM: DAD would only delay
 * them by a second). */
static int ipv6_quiet(void) {
  static const char *keys[][2] = {
      {"all/accept_ra", "0"},   {"default/accept_ra", "0"},
      {"all/accept_dad", "0"},  {"default/accept_dad", "0"},
      {"default/router_solicitations", "0"},
      {"all/disable_ipv6", "0"}, {"default/disable_ipv6", "0"},
  };
  int dir = open("/proc/sys/net/ipv6/conf", O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (dir < 0) return fail(errno, "/proc/sys/net/ipv6/conf: %s", strerror(errno));
  int r = 0;
  for (size_t i = 0; i < sizeof keys / sizeof keys[0] && !r; i++) r = conf_set(dir, keys[i][0], keys[i][1]);
  close(dir);
  return r;
}

int netns_add(const char *path, int ipv6) {
  int fd = open(path, O_RDONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0);
  if (fd < 0) return fail(errno, "%s: %s", path, strerror(errno));
  close(fd);
  int r = 0, mounted = 0;
  if (unshare(CLONE_NEWNET)) r = fail(errno, "unshare: %s", strerror(errno));
  else if (mount("/proc/self/ns/net", path, "none", MS_BIND, NULL)) r = fail(errno, "bind mount %s: %s", path, strerror(errno));
  /* A container without an IPv6 network: without IPv6 a new interface sends no router
   * solicitations, MLD reports or DAD probes, which a bridge would flood to every other container. */
  else if ((mounted = 1, !ipv6 && ipv6_off())) r = -1;
  else if (ipv6 && ipv6_quiet()) r = -1;
  leave("/proc/self/ns/net"); /* any path but "-": always go back */
  if (r) {
    if (mounted) umount2(path, MNT_DETACH);
    unlink(path);
  }
  return r;
}

int netns_del(const char *path) {
  if (umount2(path, MNT_DETACH) && errno != EINVAL && errno != ENOENT) return fail(errno, "unmount %s: %s", path, strerror(errno));
  if (unlink(path) && errno != ENOENT) return fail(errno, "unlink %s: %s", path, strerror(errno));
  return 0;
}

int mount_overlay(const char *lower, const char *upper, const char *work, const char *target) {
  char opts[4096 * 3 + 64];
  if ((size_t)snprintf(opts, sizeof opts, "lowerdir=%s,upperdir=%s,workdir=%s", lower, upper, work) >= sizeof opts) return fail(ENAMETOOLONG, "overlay paths too long");
  if (mount("overlay", target, "overlay", 0, opts)) return fail(errno, "mount overlay on %s: %s", target, strerror(errno));
  return 0;
}

/* mount(8)'s option words that are flags; every other word goes to the filesystem as data. */
static const struct {
  const char *name;
  unsigned long set, clear;
} FLAGS[] = {
    {"ro", MS_RDONLY, 0},       {"rw", 0, MS_RDONLY},         {"bind", MS_BIND, 0},
    {"rbind", MS_BIND | MS_REC, 0}, {"nosuid", MS_NOSUID, 0}, {"suid", 0, MS_NOSUID},
    {"nodev", MS_NODEV, 0},     {"dev", 0, MS_NODEV},         {"noexec", MS_NOEXEC, 0},
    {"exec", 0, MS_NOEXEC},     {"sync", MS_SYNCHRONOUS, 0},  {"async", 0, MS_SYNCHRONOUS},
    {"dirsync", MS_DIRSYNC, 0}, {"noatime", MS_NOATIME, 0},   {"atime", 0, MS_NOATIME},
    {"nodiratime", MS_NODIRATIME, 0}, {"diratime", 0, MS_NODIRATIME},
    {"relatime", MS_RELATIME, 0}, {"norelatime", 0, MS_RELATIME},
    {"strictatime", MS_STRICTATIME, 0}, {"defaults", 0, 0},
};

int mount_fs(const char *source, const char *target, const char *type, const char *options) {
  char data[1024] = "", copy[1024];
  unsigned long flags = 0;
  if (strlen(options) >= sizeof copy) return fail(E2BIG, "mount options too long");
  strcpy(copy, options);
  size_t used = 0;
  for (char *save = NULL, *w = strtok_r(copy, ",", &save); w; w = strtok_r(NULL, ",", &save)) {
    size_t i, n = sizeof FLAGS / sizeof FLAGS[0];
    for (i = 0; i < n && strcmp(w, FLAGS[i].name); i++);
    if (i < n) {
      flags = (flags | FLAGS[i].set) & ~FLAGS[i].clear;
      continue;
    }
    /* a word of data: passed on as mount(8) would */
    int k = snprintf(data + used, sizeof data - used, "%s%s", used ? "," : "", w);
    if (k < 0 || (size_t)k >= sizeof data - used) return fail(E2BIG, "mount options too long");
    used += (size_t)k;
  }
  const char *fstype = strcmp(type, "none") ? type : NULL;
  if (!(flags & MS_BIND)) {
    if (mount(source, target, fstype, flags, used ? data : NULL)) goto failed;
    return 0;
  }
  if (mount(source, target, fstype, flags & ~MS_RDONLY, NULL)) goto failed;
  /* a bind mount takes its flags (ro, nosuid, …) only when remounted */
  if ((flags & ~(MS_BIND | MS_REC)) && mount(NULL, target, NULL, (flags & ~MS_REC) | MS_REMOUNT, NULL)) {
    int e = errno;
    umount2(target, MNT_DETACH);
    errno = e;
    goto failed;
  }
  return 0;
failed:
  return fail(errno, "mount %s on %s (type %s, options %s): %s", source, target, type, *options ? options : "none", strerror(errno));
}

int unmount(const char *target) {
  if (umount2(target, 0)) return fail(errno, "umount %s: %s", target, strerror(errno));
  return 0;
}

int nft_apply(const char *script) {
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
