/*
 * ctrnet-shim: one supervisor process per container init or exec process.
 * It runs runc, then outlives the daemon: it holds the process's stdio, logs
 * its output, serves attach clients and records the exit status.
 *
 * Usage: ctrnet-shim DIR LOGFILE TTY STDIN -- ARGV...
 *   DIR      existing directory; the shim owns DIR/sock, DIR/console.sock
 *            (TTY=1 only) and DIR/exit; runc writes DIR/pid (--pid-file in ARGV)
 *   LOGFILE  file to append output records to, or "-" for none
 *   TTY      "1": ARGV carries --console-socket DIR/console.sock; the shim
 *            receives the pty master. runc's stdin is /dev/null, its stdout and
 *            stderr are pipes (only runc's own messages arrive there).
 *            "0": the process gets stdout/stderr pipes held by the shim.
 *   STDIN    "1": (TTY=0) the process's stdin is a pipe fed by 'A' clients;
 *            "0": /dev/null. With TTY=1 'A' input always goes to the pty.
 *   ARGV     runc command line (run -d / exec -d ...), execvp()ed unchanged.
 *
 * Control protocol on the shim's stdin/stdout (lines, "\n"-terminated):
 *   shim -> daemon  "ready"             sockets are listening (or a line
 *                                       "error <message>" and exit 1)
 *   daemon -> shim  "go"                anything else or EOF: unlink the
 *                                       sockets, exit 1, runc never runs
 *   shim -> daemon  "started <pid>"     runc exited 0; pid from DIR/pid; the
 *                                       shim then detaches fds 0/1 (/dev/null)
 *   or              "failed <code>"     runc exited <code> (128+sig if killed),
 *                                       127 if ARGV could not be executed, 0
 *                                       when the pid file/console could not be
 *                                       obtained; followed by the raw output
 *                                       runc wrote before exiting and/or a
 *                                       "ctrnet-shim: ..." message, then EOF;
 *                                       shim exits 1, closes clients, unlinks
 *                                       the sockets, writes no DIR/exit.
 *
 * Attach socket DIR/sock (unix stream). A client's first byte is its mode:
 *   'A' attach: output frames; later bytes go to the process's stdin (pipe or
 *       pty). Its half-close closes the stdin pipe (TTY=0, STDIN=1); output
 *       keeps flowing to it until the end.
 *   'O' output only (input ignored).   'M' monitor: only the exit frame.
 *   'F' follow: as 'O', but first an ack frame [0][0 0 0][len u32 BE] with the log file's
 *       size in decimal when the shim took the client: what the log holds up to there is not
 *       sent to it, what comes later is (a reader of the log plus this stream sees every byte
 *       once).
 *   'W' resize: then 4 bytes [rows u16 BE][cols u16 BE]; applied to the pty
 *       (ignored without one); the shim closes the connection.
 *   Clients may connect any time after "ready" (at most 64 at once).
 *   Sockets are non-blocking: output a client has not taken yet is queued for it, up to
 *   CLIBUF bytes; a client that falls further behind is dropped (its connection closed), so a
 *   client that stops reading never holds up the log, the other clients or the process.
 * Output frame (A, O):  [stream u8][0 0 0][len u32 BE] payload
 *   stream 1 = stdout or pty, 2 = stderr. Chunks are at most 32 KiB.
 * Exit frame (all):     [9][0 0 0][len u32 BE] decimal exit code (ASCII),
 *   sent after DIR/exit is written; then the connection is closed (after what was queued for
 *   it, within FLUSH_MS at most).
 * Log record (LOGFILE): [stream u8][0 0 0][len u32 BE][time u64 BE, ns since
 *   the epoch, CLOCK_REALTIME] payload. Output produced before "started" is
 *   logged/sent right after it.
 * End: when the process (pid from DIR/pid; the shim is its subreaper) exits,
 *   output is drained until EOF (at most 200 ms more), DIR/exit is written
 *   atomically as "<code>\n" (exit status, or 128+signal), exit frames are
 *   sent, sockets are unlinked, and the shim exits 0.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAXCLI 64
#define CHUNK 32768
#define BUFCAP (4u << 20) /* output kept in memory while runc runs */
#define NREAP 256
/* Output queued for one client: all output kept before start (replayed at once) fits. */
#define CLIBUF (BUFCAP + 2 * (8 + CHUNK))
#define FLUSH_MS 5000 /* at the end, how long clients may take for what is queued for them */

enum { P_WAITGO, P_RUNC, P_RUNNING, P_DRAIN };
struct client {
	int fd; char mode, in_done; unsigned char ws[4]; int wn;
	char *q; size_t qoff, qlen, qcap; /* output not yet taken by the client */
};

static const char *dir;
static int use_tty, use_stdin, phase = P_WAITGO;
static char sock_path[PATH_MAX], con_path[PATH_MAX];
static int log_fd = -1, lfd = -1, cfd = -1, sfd = -1;
static int out[2] = {-1, -1}, master = -1, got_console, stdin_w = -1, stdin_eof;
static struct client cl[MAXCLI];
static pid_t runc_pid = -1, target = -1;
static int runc_done, runc_status;
static struct { pid_t pid; int st; } reaped[NREAP];
static unsigned nreaped;
static char *buf; static size_t blen, bcap;          /* pre-start output */
static char pend[CHUNK]; static size_t pend_off, pend_len; /* stdin backlog */
static char iobuf[CHUNK], lbuf[16 + CHUNK], fbuf[8 + CHUNK];

static int write_all(int fd, const void *p, size_t n) {
	const char *c = p;
	while (n) {
		ssize_t w = write(fd, c, n);
		if (w < 0) { if (errno == EINTR) continue; return -1; }
		c += w; n -= (size_t)w;
	}
	return 0;
}
static void put32(void *d, uint32_t v) { unsigned char *p = d; for (int i = 3; i >= 0; i--, v >>= 8) p[i] = v & 0xff; }
static void put64(void *d, uint64_t v) { unsigned char *p = d; for (int i = 7; i >= 0; i--, v >>= 8) p[i] = v & 0xff; }
static uint64_t now_ns(void) {
	struct timespec ts; clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}
static uint64_t mono_ns(void) {
	struct timespec ts; clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}
static int exit_code(int st) { return WIFSIGNALED(st) ? 128 + WTERMSIG(st) : WEXITSTATUS(st); }
static void drop(struct client *c) {
	if (c->fd >= 0) close(c->fd);
	c->fd = -1; free(c->q); c->q = NULL; c->qoff = c->qlen = c->qcap = 0;
}

/* Sends what is queued for a client as far as its socket takes it; -1: the connection is gone. */
static int flush_client(struct client *c) {
	while (c->qlen) {
		ssize_t w = send(c->fd, c->q + c->qoff, c->qlen, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (w < 0) { if (errno == EINTR) continue; return errno == EAGAIN ? 0 : -1; }
		c->qoff += (size_t)w; c->qlen -= (size_t)w;
	}
	c->qoff = 0;
	return 0;
}

/* Output for one client: sent at once when nothing waits before it, else queued; a client
 * CLIBUF behind is dropped rather than waited for. */
static void to_client(struct client *c, const char *p, size_t n) {
	while (!c->qlen && n) {
		ssize_t w = send(c->fd, p, n, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (w < 0 && errno == EINTR) continue;
		if (w < 0 && errno != EAGAIN) { drop(c); return; }
		if (w < 0) break;
		p += w; n -= (size_t)w;
	}
	if (!n) return;
	if (c->qlen + n > CLIBUF) { drop(c); return; }
	if (c->qoff + c->qlen + n > c->qcap) {
		memmove(c->q, c->q + c->qoff, c->qlen); c->qoff = 0;
		if (c->qlen + n > c->qcap) {
			size_t cap = c->qcap ? c->qcap : CHUNK + 8;
			while (cap < c->qlen + n) cap *= 2;
			if (cap > CLIBUF) cap = CLIBUF;
			char *q = realloc(c->q, cap);
			if (!q) { drop(c); return; }
			c->q = q; c->qcap = cap;
		}
	}
	memcpy(c->q + c->qoff + c->qlen, p, n); c->qlen += n;
}
static void cleanup_socks(void) { unlink(sock_path); if (use_tty) unlink(con_path); }
static void set_nonblock(int fd) { fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK); }

/* One chunk of output: log it and frame it to every client that wants output. */
static void emit(int stream, const char *d, size_t n, uint64_t t) {
	memset(lbuf, 0, 8);
	lbuf[0] = (char)stream; put32(lbuf + 4, (uint32_t)n); put64(lbuf + 8, t);
	memcpy(lbuf + 16, d, n);
	if (log_fd >= 0) write_all(log_fd, lbuf, 16 + n);
	memcpy(fbuf, lbuf, 8); memcpy(fbuf + 8, d, n);
	for (int i = 0; i < MAXCLI; i++)
		if (cl[i].fd >= 0 && (cl[i].mode == 'A' || cl[i].mode == 'O' || cl[i].mode == 'F')) to_client(&cl[i], fbuf, 8 + n);
}

/* Buffered record: [stream u8][len u32][time u64] data (host byte order). */
static void got(int stream, const char *d, size_t n) {
	uint64_t t = now_ns();
	if (phase >= P_RUNNING) { emit(stream, d, n, t); return; }
	if (blen + 13 + n > bcap) {
		size_t nc = (blen + 13 + n) * 2; char *nb = realloc(buf, nc);
		if (!nb) return;
		buf = nb; bcap = nc;
	}
	uint32_t l = (uint32_t)n;
	buf[blen] = (char)stream; memcpy(buf + blen + 1, &l, 4); memcpy(buf + blen + 5, &t, 8);
	memcpy(buf + blen + 13, d, n); blen += 13 + n;
}
/* Replays buffered output raw to fd (fd >= 0) or through emit() (fd < 0). */
static void replay(int fd) {
	for (size_t o = 0; o < blen;) {
		uint32_t l; uint64_t t;
		memcpy(&l, buf + o + 1, 4); memcpy(&t, buf + o + 5, 8);
		if (fd >= 0) write_all(fd, buf + o + 13, l); else emit(buf[o], buf + o + 13, l, t);
		o += 13 + l;
	}
	free(buf); buf = NULL; blen = bcap = 0;
}

static ssize_t read_out(int *fdp, int stream) {
	ssize_t n = read(*fdp, iobuf, sizeof iobuf);
	if (n < 0 && (errno == EINTR || errno == EAGAIN)) return 0;
	if (n <= 0) { /* EOF, or EIO from a pty whose slave side is gone */
		if (fdp == &master) pend_len = 0;
		close(*fdp); *fdp = -1; return -1;
	}
	got(stream, iobuf, (size_t)n);
	return n;
}

static void close_stdin(void) { if (stdin_w >= 0) close(stdin_w); stdin_w = -1; pend_len = 0; }
static int in_target(void) { return use_tty ? master : stdin_w; }
static void flush_pend(void) {
	int fd = in_target();
	if (fd < 0) { pend_len = 0; return; }
	ssize_t w = write(fd, pend + pend_off, pend_len);
	if (w < 0) {
		if (errno == EAGAIN || errno == EINTR) return;
		pend_len = 0; if (!use_tty) close_stdin(); return;
	}
	pend_off += (size_t)w; pend_len -= (size_t)w;
	if (!pend_len && stdin_eof && !use_tty) close_stdin();
}
static void feed(const char *d, size_t n) {
	if (in_target() < 0 || pend_len) return; /* no stdin (any more): discard */
	memcpy(pend, d, n); pend_off = 0; pend_len = n;
	flush_pend();
}

static void client_input(struct client *c) {
	/* the mode byte alone first: an 'A' client's input must wait until stdin exists */
	ssize_t n = recv(c->fd, iobuf, c->mode ? sizeof iobuf : 1, MSG_DONTWAIT);
	if (n < 0) { if (errno != EAGAIN && errno != EINTR) drop(c); return; }
	if (n == 0) {
		if (c->mode == 'A' && !use_tty && stdin_w >= 0) { stdin_eof = 1; if (!pend_len) close_stdin(); }
		if (c->mode == 0 || c->mode == 'W') drop(c); else c->in_done = 1;
		return;
	}
	size_t i = 0;
	if (!c->mode) {
		c->mode = iobuf[i++];
		if (c->mode != 'A' && c->mode != 'O' && c->mode != 'M' && c->mode != 'W' && c->mode != 'F') { drop(c); return; }
		if (c->mode == 'F') {
			/* the log's size now: every later chunk goes to the log and to this client alike */
			char ack[8 + 24];
			long long off = log_fd >= 0 ? (long long)lseek(log_fd, 0, SEEK_END) : 0;
			int len = snprintf(ack + 8, sizeof ack - 8, "%lld", off < 0 ? 0 : off);
			memset(ack, 0, 8); put32(ack + 4, (uint32_t)len);
			to_client(c, ack, 8 + (size_t)len);
			if (c->fd < 0) return;
		}
	}
	if (c->mode == 'W') {
		while (i < (size_t)n && c->wn < 4) c->ws[c->wn++] = (unsigned char)iobuf[i++];
		if (c->wn < 4) return;
		struct winsize ws = { .ws_row = (unsigned short)(c->ws[0] << 8 | c->ws[1]),
		                      .ws_col = (unsigned short)(c->ws[2] << 8 | c->ws[3]) };
		if (master >= 0) ioctl(master, TIOCSWINSZ, &ws);
		drop(c);
	} else if (c->mode == 'A' && i < (size_t)n) feed(iobuf + i, (size_t)n - i);
}

static void accept_clients(void) {
	for (;;) {
		int fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
		if (fd < 0) { if (errno == EINTR) continue; return; }
		int i = 0;
		while (i < MAXCLI && cl[i].fd >= 0) i++;
		if (i == MAXCLI) { close(fd); continue; }
		memset(&cl[i], 0, sizeof cl[i]); cl[i].fd = fd; /* (drop() freed the slot's queue) */
	}
}

/* runc connects to DIR/console.sock and sends the pty master with SCM_RIGHTS. */
static void accept_console(void) {
	int c = accept4(cfd, NULL, NULL, SOCK_CLOEXEC);
	if (c < 0) return;
	char name[256];
	struct iovec iov = { name, sizeof name };
	union { struct cmsghdr h; char b[CMSG_SPACE(sizeof(int))]; } u;
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.b, .msg_controllen = sizeof u.b };
	ssize_t r;
	do r = recvmsg(c, &m, MSG_CMSG_CLOEXEC); while (r < 0 && errno == EINTR);
	struct cmsghdr *h = r >= 0 ? CMSG_FIRSTHDR(&m) : NULL;
	if (h && h->cmsg_level == SOL_SOCKET && h->cmsg_type == SCM_RIGHTS && h->cmsg_len >= CMSG_LEN(sizeof(int))) {
		int fd; memcpy(&fd, CMSG_DATA(h), sizeof fd);
		if (got_console) close(fd); else { master = fd; got_console = 1; set_nonblock(fd); }
	}
	close(c);
	if (got_console) { close(cfd); cfd = -1; }
}

static int listen_on(const char *path) {
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	if (strlen(path) >= sizeof a.sun_path) return -1;
	strcpy(a.sun_path, path);
	unlink(path);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0) return -1;
	if (bind(fd, (struct sockaddr *)&a, sizeof a) < 0 || listen(fd, 128) < 0) { close(fd); return -1; }
	return fd;
}

static void reap(void) {
	struct signalfd_siginfo si;
	while (read(sfd, &si, sizeof si) == (ssize_t)sizeof si) {}
	int st; pid_t p;
	while ((p = waitpid(-1, &st, WNOHANG)) > 0) {
		if (p == runc_pid) { runc_done = 1; runc_status = st; continue; }
		reaped[nreaped % NREAP].pid = p; reaped[nreaped % NREAP].st = st; nreaped++;
	}
}
static int find_reaped(pid_t p, int *st) {
	for (unsigned k = 0; k < nreaped && k < NREAP; k++) {
		unsigned i = (nreaped - 1 - k) % NREAP;
		if (p > 0 && reaped[i].pid == p) { *st = reaped[i].st; return 1; }
	}
	return 0;
}

static void close_clients(void) { for (int i = 0; i < MAXCLI; i++) drop(&cl[i]); }
static void fail(int code, const char *msg) {
	char h[32]; int n = snprintf(h, sizeof h, "failed %d\n", code);
	write_all(1, h, (size_t)n);
	replay(1);
	if (msg) write_all(1, msg, strlen(msg));
	close(1); close_clients(); cleanup_socks(); exit(1);
}

static void start_runc(char **cmd) {
	int o[2], e[2], in[2] = {-1, -1};
	accept_clients(); /* clients queued before "go" must see all output */
	if (pipe2(o, O_CLOEXEC) || pipe2(e, O_CLOEXEC) || (!use_tty && use_stdin && pipe2(in, O_CLOEXEC)))
		fail(127, "ctrnet-shim: pipe failed\n");
	runc_pid = fork();
	if (runc_pid < 0) fail(127, "ctrnet-shim: fork failed\n");
	if (runc_pid == 0) {
		sigset_t ss; sigemptyset(&ss); sigprocmask(SIG_SETMASK, &ss, NULL);
		signal(SIGPIPE, SIG_DFL);
		int nul = open("/dev/null", O_RDWR); /* >= 3: fds 0-2 are always open */
		dup2(in[0] >= 0 ? in[0] : nul, 0); dup2(o[1], 1); dup2(e[1], 2);
#ifdef SYS_close_range
		if (syscall(SYS_close_range, 3U, ~0U, 0U) < 0)
#endif
			for (int fd = 3; fd < 65536; fd++) close(fd);
		execvp(cmd[0], cmd);
		dprintf(2, "ctrnet-shim: exec %s: %s\n", cmd[0], strerror(errno));
		_exit(127);
	}
	close(o[1]); close(e[1]);
	out[0] = o[0]; out[1] = e[0]; set_nonblock(o[0]); set_nonblock(e[0]);
	if (in[0] >= 0) { close(in[0]); stdin_w = in[1]; set_nonblock(stdin_w); }
	phase = P_RUNC;
}

static void on_runc_exit(void) {
	for (int k = 0; k < 2; k++) /* runc wrote its messages before exiting */
		while (out[k] >= 0 && blen < BUFCAP && read_out(&out[k], k + 1) > 0) {}
	int code = exit_code(runc_status);
	if (code) fail(code, NULL);
	char p[PATH_MAX + 8], b[32];
	snprintf(p, sizeof p, "%s/pid", dir);
	int fd = open(p, O_RDONLY | O_CLOEXEC);
	ssize_t n = fd >= 0 ? read(fd, b, sizeof b - 1) : -1;
	if (fd >= 0) close(fd);
	if (n > 0) { b[n] = 0; target = (pid_t)strtol(b, NULL, 10); }
	if (target <= 0) fail(0, "ctrnet-shim: cannot read pid file\n");
	if (use_tty && !got_console && cfd >= 0) accept_console();
	if (use_tty && !got_console) fail(0, "ctrnet-shim: no console received from runc\n");
	n = snprintf(b, sizeof b, "started %d\n", (int)target);
	write_all(1, b, (size_t)n);
	int nul = open("/dev/null", O_RDWR | O_CLOEXEC);
	dup2(nul, 0); dup2(nul, 1);
	if (nul > 2) close(nul);
	for (int i = 0; i < MAXCLI; i++) /* learn modes of clients that connected early */
		if (cl[i].fd >= 0 && !cl[i].mode) client_input(&cl[i]);
	phase = P_RUNNING;
	replay(-1);
}

static void finish(void) {
	int st, code = 255;
	if (find_reaped(target, &st)) code = exit_code(st);
	char p[PATH_MAX + 16], q[PATH_MAX + 16], f[32];
	snprintf(p, sizeof p, "%s/exit.tmp", dir); snprintf(q, sizeof q, "%s/exit", dir);
	int n = snprintf(f + 8, sizeof f - 8, "%d\n", code);
	int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd >= 0) { write_all(fd, f + 8, (size_t)n); fsync(fd); close(fd); rename(p, q); }
	memset(f, 0, 8); f[0] = 9; put32(f + 4, (uint32_t)(n - 1));
	for (int i = 0; i < MAXCLI; i++)
		if (cl[i].fd >= 0) to_client(&cl[i], f, 8 + (size_t)(n - 1));
	/* What is queued goes out, within FLUSH_MS: a client that stopped reading does not keep the
	 * shim (whose exit file is written) alive. */
	uint64_t end = mono_ns() + (uint64_t)FLUSH_MS * 1000000u;
	for (;;) {
		struct pollfd p[MAXCLI]; int idx[MAXCLI], np = 0;
		for (int i = 0; i < MAXCLI; i++)
			if (cl[i].fd >= 0 && cl[i].qlen) { p[np].fd = cl[i].fd; p[np].events = POLLOUT; p[np].revents = 0; idx[np++] = i; }
		uint64_t now = mono_ns();
		if (!np || now >= end) break;
		if (poll(p, (nfds_t)np, (int)((end - now + 999999) / 1000000)) < 0 && errno != EINTR) break;
		for (int k = 0; k < np; k++)
			if (p[k].revents && flush_client(&cl[idx[k]]) < 0) drop(&cl[idx[k]]);
	}
	close_clients();
	cleanup_socks();
	exit(0);
}

int main(int argc, char **argv) {
	if (argc < 7 || strcmp(argv[5], "--")) {
		fprintf(stderr, "usage: ctrnet-shim DIR LOGFILE TTY STDIN -- ARGV...\n");
		return 2;
	}
	dir = argv[1]; use_tty = !strcmp(argv[3], "1"); use_stdin = !strcmp(argv[4], "1");
	char **cmd = argv + 6;
	int fd;
	while ((fd = open("/dev/null", O_RDWR)) >= 0 && fd < 3) {} /* make sure 0-2 exist */
	if (fd > 2) close(fd);
	setsid(); /* EPERM when already a session leader: fine */
	prctl(PR_SET_CHILD_SUBREAPER, 1);
	signal(SIGPIPE, SIG_IGN);
	sigset_t ss; sigemptyset(&ss); sigaddset(&ss, SIGCHLD);
	sigprocmask(SIG_BLOCK, &ss, NULL);
	sfd = signalfd(-1, &ss, SFD_CLOEXEC | SFD_NONBLOCK);
	for (int i = 0; i < MAXCLI; i++) cl[i].fd = -1;
	snprintf(sock_path, sizeof sock_path, "%.*s/sock", PATH_MAX - 16, dir);
	snprintf(con_path, sizeof con_path, "%.*s/console.sock", PATH_MAX - 16, dir);
	int want_log = strcmp(argv[2], "-") != 0;
	if (want_log) log_fd = open(argv[2], O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
	lfd = listen_on(sock_path);
	if (use_tty) cfd = listen_on(con_path);
	if (sfd < 0 || (want_log && log_fd < 0) || lfd < 0 || (use_tty && cfd < 0)) {
		dprintf(1, "error setup failed: %s\n", strerror(errno));
		cleanup_socks(); return 1;
	}
	write_all(1, "ready\n", 6);

	char line[16]; size_t ll = 0;
	uint64_t deadline = 0;
	for (;;) {
		struct pollfd p[MAXCLI + 8]; int tag[MAXCLI + 8], np = 0, timeout = -1, st;
#define ADD(f, ev, t) do { p[np].fd = (f); p[np].events = (ev); p[np].revents = 0; tag[np++] = (t); } while (0)
		if (phase == P_DRAIN) {
			uint64_t now = mono_ns();
			if ((out[0] < 0 && out[1] < 0 && master < 0) || now >= deadline) finish();
			timeout = (int)((deadline - now + 999999) / 1000000);
		}
		int rd = phase != P_RUNC || blen < BUFCAP;
		ADD(sfd, POLLIN, -1);
		if (phase == P_WAITGO) ADD(0, POLLIN, -2);
		ADD(lfd, POLLIN, -3);
		if (cfd >= 0 && phase == P_RUNC) ADD(cfd, POLLIN, -4);
		if (out[0] >= 0 && rd) ADD(out[0], POLLIN, -5);
		if (out[1] >= 0 && rd) ADD(out[1], POLLIN, -6);
		if (master >= 0 && (rd || pend_len)) ADD(master, (rd ? POLLIN : 0) | (pend_len ? POLLOUT : 0), -7);
		if (stdin_w >= 0 && pend_len) ADD(stdin_w, POLLOUT, -8);
		for (int i = 0; i < MAXCLI; i++) {
			struct client *c = &cl[i];
			if (c->fd < 0) continue;
			/* stdin does not exist before go: leave early input (and EOF) queued in the socket */
			int in = !c->in_done && !(c->mode == 'A' && (phase == P_WAITGO || pend_len || (use_tty && !got_console)));
			if (in || c->qlen) ADD(c->fd, (in ? POLLIN : 0) | (c->qlen ? POLLOUT : 0), i);
		}
		if (poll(p, (nfds_t)np, timeout) < 0) {
			if (errno == EINTR) continue;
			close_clients(); cleanup_socks(); return 1;
		}
		int do_accept = 0;
		for (int k = 0; k < np; k++) {
			short re = p[k].revents;
			if (!re) continue;
			switch (tag[k]) {
			case -1: reap(); break;
			case -2: {
				ssize_t n = read(0, line + ll, 1);
				if (n < 0 && (errno == EINTR || errno == EAGAIN)) break;
				if (n <= 0 || ll >= sizeof line - 2) { close_clients(); cleanup_socks(); return 1; }
				if (line[ll++] != '\n') break;
				line[ll] = 0;
				if (strcmp(line, "go\n")) { close_clients(); cleanup_socks(); return 1; }
				start_runc(cmd);
				break;
			}
			case -3: do_accept = 1; break;
			case -4: accept_console(); break;
			case -5: read_out(&out[0], 1); break;
			case -6: read_out(&out[1], 2); break;
			case -7:
				if ((re & POLLOUT) && pend_len) flush_pend();
				if (master >= 0 && rd && (re & ~POLLOUT)) read_out(&master, 1);
				break;
			case -8: flush_pend(); break;
			default: {
				struct client *c = &cl[tag[k]];
				if (c->fd != p[k].fd) break;
				if ((re & (POLLOUT | POLLERR | POLLHUP)) && c->qlen && flush_client(c) < 0) { drop(c); break; }
				if ((p[k].events & POLLIN) && (re & ~POLLOUT)) client_input(c);
			}
			}
		}
		if (do_accept) accept_clients(); /* after the loop: slots stay stable above */
		if (phase == P_RUNC && runc_done) on_runc_exit();
		if (phase == P_RUNNING && find_reaped(target, &st)) { phase = P_DRAIN; deadline = mono_ns() + 200000000u; }
	}
}
