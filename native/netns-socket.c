/*
 * ctrnet-netns.node: a Node-API addon making sockets of another network namespace for the
 * daemon's own event loop.
 *
 *   udpSocket(nsPath, address, port) -> fd          bound (IPv4 or IPv6 by the address's form)
 *   tcpSocket(nsPath, address, port, listen) -> fd  listening on address:port (listen true), or a
 *                                                   non-blocking connection to it under way (false)
 *
 * A socket belongs to the namespace it was created in for its whole life, whatever thread uses it
 * later. Node's main thread must never switch namespaces, so a short-lived thread does it: it
 * enters the namespace bind-mounted at nsPath (setns affects only the calling thread), creates
 * and binds the socket, and ends; the descriptor goes back to JavaScript, where dgram's
 * bind({ fd }) adopts it. nsPath null or "" means the daemon's own namespace.
 *
 * This is how the embedded resolver answers at 127.0.0.11:53 inside every sandbox (as Docker's
 * does, over UDP and TCP) and forwards from inside it, without a process per container. An IPv6
 * socket is IPv6 only (IPV6_V6ONLY): a family is never answered by the other's socket. Failures are thrown as Errors with `code` set to the
 * errno name (ENOENT, EADDRINUSE, EPERM, ...).
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

/*
 * The few Node-API calls used, declared here from the documented, stable C ABI
 * (https://nodejs.org/api/n-api.html), so that building needs no Node headers: the daemon loads
 * the addon into whatever Node 20 runs it.
 */
typedef struct napi_env__ *napi_env;
typedef struct napi_value__ *napi_value;
typedef struct napi_callback_info__ *napi_callback_info;
typedef napi_value (*napi_callback)(napi_env env, napi_callback_info info);
typedef enum { napi_ok = 0 } napi_status;
typedef enum { napi_undefined, napi_null, napi_boolean, napi_number, napi_string } napi_valuetype;
#define NAPI_AUTO_LENGTH ((size_t)-1)
extern napi_status napi_get_cb_info(napi_env, napi_callback_info, size_t *argc, napi_value *argv, napi_value *this_arg, void **data);
extern napi_status napi_typeof(napi_env, napi_value, napi_valuetype *);
extern napi_status napi_get_value_string_utf8(napi_env, napi_value, char *buf, size_t bufsize, size_t *result);
extern napi_status napi_get_value_uint32(napi_env, napi_value, uint32_t *);
extern napi_status napi_get_value_bool(napi_env, napi_value, _Bool *);
extern napi_status napi_create_int32(napi_env, int32_t, napi_value *);
extern napi_status napi_throw_error(napi_env, const char *code, const char *msg);
extern napi_status napi_throw_type_error(napi_env, const char *code, const char *msg);
extern napi_status napi_create_function(napi_env, const char *name, size_t length, napi_callback cb, void *data, napi_value *result);
extern napi_status napi_set_named_property(napi_env, napi_value object, const char *name, napi_value value);

enum kind { UDP, TCP_LISTEN, TCP_CONNECT };

struct job {
  char ns[4096];
  struct sockaddr_storage addr;
  socklen_t addrlen;
  enum kind kind;
  int fd;
  int err;
  const char *step;
};

static void *work(void *p) {
  struct job *j = p;
  if (j->ns[0]) {
    int nsfd = open(j->ns, O_RDONLY | O_CLOEXEC);
    if (nsfd < 0) {
      j->err = errno, j->step = "opening the namespace";
      return NULL;
    }
    int r = setns(nsfd, CLONE_NEWNET);
    int e = errno;
    close(nsfd);
    if (r) {
      j->err = e, j->step = "entering the namespace";
      return NULL;
    }
  }
  int family = j->addr.ss_family;
  int fd = socket(family, (j->kind == UDP ? SOCK_DGRAM : SOCK_STREAM) | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0) {
    j->err = errno, j->step = "socket";
    return NULL;
  }
  int one = 1;
  if (family == AF_INET6) setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
  if (j->kind == TCP_LISTEN) setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (j->kind == TCP_CONNECT) {
    if (connect(fd, (struct sockaddr *)&j->addr, j->addrlen) && errno != EINPROGRESS) {
      j->err = errno, j->step = "connect";
      close(fd);
      return NULL;
    }
  } else if (bind(fd, (struct sockaddr *)&j->addr, j->addrlen)) {
    j->err = errno, j->step = "bind";
    close(fd);
    return NULL;
  } else if (j->kind == TCP_LISTEN && listen(fd, 64)) {
    j->err = errno, j->step = "listen";
    close(fd);
    return NULL;
  }
  j->fd = fd;
  return NULL;
}

static const char *errno_name(int e) {
  switch (e) {
  case ENOENT: return "ENOENT";
  case EADDRINUSE: return "EADDRINUSE";
  case EADDRNOTAVAIL: return "EADDRNOTAVAIL";
  case EPERM: return "EPERM";
  case EACCES: return "EACCES";
  case EINVAL: return "EINVAL";
  case EMFILE: return "EMFILE";
  case ENFILE: return "ENFILE";
  case ENETUNREACH: return "ENETUNREACH";
  case EHOSTUNREACH: return "EHOSTUNREACH";
  case EAFNOSUPPORT: return "EAFNOSUPPORT";
  default: return "UNKNOWN";
  }
}

static napi_value fail(napi_env env, int e, const char *step, const char *ns) {
  char msg[4200];
  snprintf(msg, sizeof msg, "%s%s%s: %s", step, ns[0] ? " of " : "", ns, strerror(e));
  napi_throw_error(env, errno_name(e), msg);
  return NULL;
}

/* nsPath, address, port (and, for TCP, listen): read into j; false after throwing. */
static int args(napi_env env, napi_callback_info info, struct job *j, size_t want, const char *usage) {
  size_t argc = want;
  napi_value argv[4];
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc != want) {
    napi_throw_type_error(env, "EINVAL", usage);
    return 0;
  }
  memset(j, 0, sizeof *j);
  j->fd = -1;
  napi_valuetype t;
  napi_typeof(env, argv[0], &t);
  if (t == napi_string) {
    size_t n;
    if (napi_get_value_string_utf8(env, argv[0], j->ns, sizeof j->ns, &n) != napi_ok || n >= sizeof j->ns - 1) {
      napi_throw_type_error(env, "EINVAL", "nsPath must be a path shorter than 4095 bytes");
      return 0;
    }
  } else if (t != napi_null && t != napi_undefined) {
    napi_throw_type_error(env, "EINVAL", "nsPath must be a string or null");
    return 0;
  }
  char addr[64];
  size_t n;
  uint32_t port;
  if (napi_get_value_string_utf8(env, argv[1], addr, sizeof addr, &n) != napi_ok || napi_get_value_uint32(env, argv[2], &port) != napi_ok || port > 65535) {
    napi_throw_type_error(env, "EINVAL", "address must be an IP address and port a number from 0 to 65535");
    return 0;
  }
  struct sockaddr_in *a4 = (struct sockaddr_in *)&j->addr;
  struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)&j->addr;
  if (inet_pton(AF_INET, addr, &a4->sin_addr) == 1) {
    a4->sin_family = AF_INET;
    a4->sin_port = htons((uint16_t)port);
    j->addrlen = sizeof *a4;
  } else if (inet_pton(AF_INET6, addr, &a6->sin6_addr) == 1) {
    a6->sin6_family = AF_INET6;
    a6->sin6_port = htons((uint16_t)port);
    j->addrlen = sizeof *a6;
  } else {
    napi_throw_type_error(env, "EINVAL", "address must be an IPv4 or IPv6 address");
    return 0;
  }
  if (want == 4) {
    _Bool listen = 0;
    if (napi_get_value_bool(env, argv[3], &listen) != napi_ok) {
      napi_throw_type_error(env, "EINVAL", "listen must be a boolean");
      return 0;
    }
    j->kind = listen ? TCP_LISTEN : TCP_CONNECT;
  } else {
    j->kind = UDP;
  }
  return 1;
}

static napi_value run(napi_env env, struct job *j) {
  pthread_t th;
  int e = pthread_create(&th, NULL, work, j);
  if (e) return fail(env, e, "starting a thread", "");
  pthread_join(th, NULL);
  if (j->fd < 0) return fail(env, j->err, j->step, j->ns);
  napi_value out;
  napi_create_int32(env, j->fd, &out);
  return out;
}

static napi_value udp_socket(napi_env env, napi_callback_info info) {
  struct job j;
  if (!args(env, info, &j, 3, "udpSocket(nsPath, address, port) takes three arguments")) return NULL;
  return run(env, &j);
}

static napi_value tcp_socket(napi_env env, napi_callback_info info) {
  struct job j;
  if (!args(env, info, &j, 4, "tcpSocket(nsPath, address, port, listen) takes four arguments")) return NULL;
  return run(env, &j);
}

/* The module's entry point, found by name when Node loads the addon (Node-API's module registration). */
__attribute__((visibility("default"))) napi_value napi_register_module_v1(napi_env env, napi_value exports) {
  napi_value fn;
  napi_create_function(env, "udpSocket", NAPI_AUTO_LENGTH, udp_socket, NULL, &fn);
  napi_set_named_property(env, exports, "udpSocket", fn);
  napi_create_function(env, "tcpSocket", NAPI_AUTO_LENGTH, tcp_socket, NULL, &fn);
  napi_set_named_property(env, exports, "tcpSocket", fn);
  return exports;
}
