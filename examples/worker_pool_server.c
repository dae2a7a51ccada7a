/*
 * worker_pool_server: a threaded HTTP server built around one channel.
 *
 * An acceptor thread accepts TCP connections on 127.0.0.1 and sends each
 * file descriptor into a bounded CHAN_BLOCK channel; a pool of worker
 * threads receives them and serves HTTP/1.1 GET and HEAD requests, with
 * keep-alive, so curl, wrk or ab can talk to it.  When every worker is busy
 * and the channel is full, chan_send waits: the acceptor stops accepting and
 * new clients wait in the kernel's listen backlog rather than in our memory.
 * That is back-pressure, and it costs nothing but the channel's capacity.
 *
 * SIGINT or SIGTERM stops the server gracefully.  A thread waiting in
 * sigwait(3) (no signal handler, so no channel call in one) tells the
 * acceptor to stop; the acceptor closes the channel after its last send; the
 * workers serve every connection already accepted, then chan_recv returns
 * EPIPE on the drained channel and they exit.  No accepted connection is
 * dropped: every one reaches a worker, which serves it and closes it, and
 * the exit status is 0 only if that held for each ("served" counts them)
 * and the acceptor did not stop on an error of its own.  Running out of
 * descriptors (EMFILE) is not such an error: the acceptor backs off and
 * accepts again once workers have closed some.
 *
 *	worker_pool_server [--port N] [--workers N] [--queue N]
 *	    [--max-requests N] [--work-ms N]
 *	worker_pool_server --demo [--workers N] [--queue N] [--clients N]
 *	    [--seconds S | --quick]
 *	worker_pool_server --client PORT [--conns N] [--requests N] [--tolerant]
 *
 * --port 0 picks a free port; the server prints "listening on
 * 127.0.0.1:PORT" either way.  --max-requests is how many requests a worker
 * serves on one kept-alive connection before it closes it, so that one busy
 * client cannot keep a worker from the connections queued behind it.  An
 * idle one holds its worker too, waiting up to 5 s for its next request
 * (IDLE_MS): size the pool for the connections you keep open, not only for
 * the requests in flight.  A request head must arrive whole within those
 * 5 s, however its bytes trickle in.  After a connection's last answer,
 * its worker waits up to 2 s (LINGER_MS) for the client to close it.
 * --work-ms makes each request take that long, as if it did real work.
 * --demo runs the server with 1, 4 and 16 workers (or --workers) against a
 * built-in load generator and prints requests per second and latencies.
 * --client is that load generator on its own, for tests: --conns threads,
 * each sending --requests requests on keep-alive connections.
 */
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/types.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "chan.h"

#define REQ_MAX		8192	/* longest request head we accept */
#define IDLE_MS		5000	/* wait for a client's next request */
#define GRACE_MS	1000	/* ... once the server is stopping */
#define LINGER_MS	2000	/* wait for a client to close after our last */
#define LINGER_MAX	(1 << 20)	/* ... reading this much at most */
#define IO_TIMEOUT_S	5	/* a write to a client that does not read */
#define MAX_WORKERS	256
#define MAX_CLIENTS	1024
#define MAX_SAMPLES	(1 << 21)	/* latencies kept per demo run */

struct server {
	int		 lfd;		/* the listening socket */
	int		 port;
	int		 stop[2];	/* a pipe; closing stop[1] means stop */
	_Atomic uint64_t stop_ns;	/* now_ns() at the stop; 0 running */
	atomic_bool	 failed;	/* the acceptor stopped on its own */
	chan_t		*conns;		/* accepted fds: acceptor to workers */
	pthread_t	 acceptor;
	struct worker	*workers;
	int		 nworkers;
	int		 max_requests;
	int		 work_ms;
	bool		 quiet;		/* no log lines (the demo) */
	atomic_ulong	 accepted;	/* connections accepted */
	atomic_ulong	 served;	/* connections served and closed */
	atomic_ulong	 requests;	/* requests answered */
	atomic_ulong	 full;		/* times the acceptor found no room */
};

struct worker {
	struct server	*srv;
	pthread_t	 tid;
	int		 id;
};

static void
die(const char *what, int error)
{
	fprintf(stderr, "worker_pool_server: %s: %s\n", what, strerror(error));
	exit(1);
}

static uint64_t
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000 + (uint64_t)ts.tv_nsec;
}

static bool
write_all(int fd, const char *p, size_t len)
{
	ssize_t n;

	while (len > 0) {
		if ((n = write(fd, p, len)) == -1) {
			if (errno == EINTR)
				continue;
			return false;	/* reset, or IO_TIMEOUT_S passed */
		}
		p += n;
		len -= (size_t)n;
	}
	return true;
}

/* Bound every blocking read and write on fd, so no peer can hang us. */
static void
set_timeouts(int fd)
{
	struct timeval tv = { IO_TIMEOUT_S, 0 };
	int one = 1;

	(void)setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	(void)setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	/* Small request, small response: send each at once. */
	(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
}

static void
loopback(struct sockaddr_in *sin, int port)
{
	memset(sin, 0, sizeof(*sin));
	sin->sin_family = AF_INET;
	sin->sin_port = htons((uint16_t)port);
	(void)inet_pton(AF_INET, "127.0.0.1", &sin->sin_addr);
}

/* Server: serving one connection. */

/* header_end returns the length of the request head in buf, 0 if partial. */
static size_t
header_end(const char *buf, size_t len)
{
	size_t i;

	for (i = 3; i < len; i++)
		if (buf[i] == '\n' && buf[i - 1] == '\r' && buf[i - 2] == '\n' &&
		    buf[i - 3] == '\r')
			return i + 1;
	return 0;
}

/* stopping: whether server_stop has been called. */
static bool
stopping(struct server *srv)
{
	return atomic_load(&srv->stop_ns) != 0;
}

/*
 * wait_request waits until fd has something to read (more of a request,
 * or EOF), giving up at deadline (now_ns), by which the whole request head
 * must have come: a client that sends a byte at a time holds a worker no
 * longer than one that sends nothing.  Once the server is stopping, it
 * gives up GRACE_MS after the stop at the latest; and at idle, between two
 * requests of a kept-alive connection, at once: HTTP lets a server close an
 * idle connection, and clients then retry on a new one.  But a connection
 * accepted and not yet served is owed its request, so there it waits out
 * the grace period.
 */
static bool
wait_request(struct server *srv, int fd, bool idle, uint64_t deadline)
{
	struct pollfd pfd[2];
	uint64_t now, stop, grace_end;
	int n;

	pfd[0].fd = fd;
	pfd[0].events = POLLIN;
	pfd[1].fd = srv->stop[0];
	pfd[1].events = POLLIN;
	for (;;) {
		if ((stop = atomic_load(&srv->stop_ns)) != 0) {
			grace_end = stop + GRACE_MS * 1000000ULL;
			if (idle)
				deadline = 0;
			else if (grace_end < deadline)
				deadline = grace_end;
		}
		now = now_ns();
		n = poll(pfd, stop != 0 ? 1 : 2, now >= deadline ? 0 :
		    (int)((deadline - now + 999999) / 1000000));
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			return false;	/* timed out */
		if (pfd[0].revents != 0)
			return true;
		/* Only the stop pipe: go round with the stopping limits. */
	}
}

struct request {
	char	method[16];
	int	minor;		/* HTTP/1.minor */
	bool	keep_alive;
	bool	has_body;	/* we serve no bodies: close after it */
};

/* parse_request parses the request head in head, a string; false if bad. */
static bool
parse_request(char *head, struct request *req)
{
	char *line, *save, *v;
	int major;

	/* Every target gets the same answer, so %*s skips it. */
	if (sscanf(head, "%15s %*s HTTP/%d.%d", req->method, &major,
	    &req->minor) != 3 || major != 1)
		return false;
	req->keep_alive = req->minor >= 1;	/* the HTTP/1.1 default */
	req->has_body = false;
	line = strtok_r(head, "\r\n", &save);	/* the request line */
	while ((line = strtok_r(NULL, "\r\n", &save)) != NULL) {
		if ((v = strchr(line, ':')) == NULL)
			continue;
		for (v++; *v == ' ' || *v == '\t'; v++)
			continue;
		if (strncasecmp(line, "Connection:", 11) == 0) {
			if (strncasecmp(v, "close", 5) == 0)
				req->keep_alive = false;
			else if (strncasecmp(v, "keep-alive", 10) == 0)
				req->keep_alive = true;
		} else if ((strncasecmp(line, "Content-Length:", 15) == 0 &&
		    atol(v) != 0) ||
		    strncasecmp(line, "Transfer-Encoding:", 18) == 0)
			req->has_body = true;
	}
	return true;
}

static bool
respond(int fd, int status, const char *reason, const char *body,
    bool send_body, bool keep_alive)
{
	char out[512];
	int n;

	n = snprintf(out, sizeof(out), "HTTP/1.1 %d %s\r\n"
	    "Content-Type: text/plain\r\n"
	    "Content-Length: %zu\r\n"
	    "Connection: %s\r\n"
	    "\r\n"
	    "%s", status, reason, strlen(body),
	    keep_alive ? "keep-alive" : "close", send_body ? body : "");
	return n > 0 && (size_t)n < sizeof(out) &&
	    write_all(fd, out, (size_t)n);
}

/*
 * serve answers the requests on fd until one side closes it: true if we
 * close it after an answer, false if the client went, or failed us.
 */
static bool
serve(struct worker *w, int fd)
{
	struct server *srv = w->srv;
	struct request req;
	struct timespec work;
	char buf[REQ_MAX], head[REQ_MAX + 1], body[64];
	size_t hlen, len = 0;
	uint64_t deadline;
	ssize_t n;
	int nreq = 0;
	bool keep, ok;

	for (;;) {
		/* Read until a whole request head is in buf, in IDLE_MS. */
		deadline = now_ns() + IDLE_MS * 1000000ULL;
		while ((hlen = header_end(buf, len)) == 0) {
			if (len == sizeof(buf)) {
				(void)respond(fd, 431, "Request Header Fields"
				    " Too Large", "too large\n", true, false);
				return true;
			}
			if (!wait_request(srv, fd, len == 0 && nreq > 0,
			    deadline))
				return false;
			n = read(fd, buf + len, sizeof(buf) - len);
			if (n == 0 || (n == -1 && errno != EINTR))
				return false;	/* the client closed, or reset */
			if (n > 0)
				len += (size_t)n;
		}
		memcpy(head, buf, hlen);
		head[hlen] = '\0';
		nreq++;

		if (!parse_request(head, &req)) {
			(void)respond(fd, 400, "Bad Request", "bad request\n",
			    true, false);
			return true;
		}
		if (srv->work_ms > 0) {
			work.tv_sec = srv->work_ms / 1000;
			work.tv_nsec = srv->work_ms % 1000 * 1000000L;
			nanosleep(&work, NULL);		/* "real work" */
		}
		/* Close after the last allowed request, and when stopping. */
		keep = req.keep_alive && !req.has_body &&
		    nreq < srv->max_requests && !stopping(srv);
		if (strcmp(req.method, "GET") == 0 ||
		    strcmp(req.method, "HEAD") == 0) {
			snprintf(body, sizeof(body), "hello from worker %d\n",
			    w->id);
			ok = respond(fd, 200, "OK", body,
			    strcmp(req.method, "GET") == 0, keep);
		} else {
			keep = false;
			ok = respond(fd, 405, "Method Not Allowed",
			    "GET or HEAD only\n", true, false);
		}
		if (!ok)
			return false;
		atomic_fetch_add(&srv->requests, 1);
		if (!keep)
			return true;
		/* Keep what the client pipelined after this request. */
		memmove(buf, buf + hlen, len - hlen);
		len -= hlen;
	}
}

/*
 * linger ends a connection we close after an answer.  Closing a socket with
 * unread input (a body we did not want, more pipelined requests) makes the
 * kernel reset the connection instead of ending it, and the reset can cost
 * the client our answer; so we end our side, then read and throw away what
 * the client still sends until it closes too, for LINGER_MS and LINGER_MAX
 * bytes at most (and GRACE_MS after a stop at the latest).
 */
static void
linger(struct server *srv, int fd)
{
	char buf[4096];
	uint64_t deadline = now_ns() + LINGER_MS * 1000000ULL;
	size_t total = 0;
	ssize_t n;

	if (shutdown(fd, SHUT_WR) == -1)
		return;
	while (total < LINGER_MAX && wait_request(srv, fd, false, deadline)) {
		if ((n = read(fd, buf, sizeof(buf))) == 0 ||
		    (n == -1 && errno != EINTR))
			return;		/* closed, or reset */
		if (n > 0)
			total += (size_t)n;
	}
}

/* Server: the threads. */

static void *
worker_main(void *arg)
{
	struct worker *w = arg;
	int fd;

	/* EPIPE ends the loop: the channel is closed and drained. */
	while (chan_recv(w->srv->conns, &fd) == 0) {
		if (serve(w, fd))
			linger(w->srv, fd);
		close(fd);
		atomic_fetch_add(&w->srv->served, 1);
	}
	return NULL;
}

static void *
acceptor_main(void *arg)
{
	struct server *srv = arg;
	struct pollfd pfd[2];
	int error, fd, flags;

	pfd[0].fd = srv->lfd;
	pfd[0].events = POLLIN;
	pfd[1].fd = srv->stop[0];
	pfd[1].events = POLLIN;
	while (!stopping(srv)) {
		if (poll(pfd, 2, -1) == -1) {
			if (errno == EINTR)
				continue;
			perror("poll");
			break;
		}
		if (pfd[1].revents != 0)
			break;		/* stop */
		/* lfd is non-blocking: a client may be gone by now. */
		if ((fd = accept(srv->lfd, NULL, NULL)) == -1) {
			switch (errno) {
			case EMFILE:
			case ENFILE:
			case ENOBUFS:
			case ENOMEM:
				/*
				 * Out of descriptors or memory: transient, as
				 * workers close connections.  Back off (a stop
				 * still wakes us at once), then try again.
				 */
				perror("accept");
				(void)poll(&pfd[1], 1, 100);
				continue;
			case EBADF:
			case EFAULT:
			case EINVAL:
			case ENOTSOCK:
				perror("accept");	/* a bug: stop */
				atomic_store(&srv->failed, true);
				break;
			default:
				/*
				 * EAGAIN, EINTR, ECONNABORTED, and the network
				 * errors Linux passes on from the new
				 * connection (EPROTO, ENETDOWN, EHOSTUNREACH...,
				 * see accept(2)): retry.
				 */
				continue;
			}
			break;
		}
		/* Not every system gives fd lfd's O_NONBLOCK; make sure. */
		if ((flags = fcntl(fd, F_GETFL)) != -1)
			(void)fcntl(fd, F_SETFL, flags & ~O_NONBLOCK);
		set_timeouts(fd);
		atomic_fetch_add(&srv->accepted, 1);

		/*
		 * Hand fd to a worker.  The trysend only lets us count (and
		 * say, once) that the queue was full; the chan_send after it
		 * is the back-pressure: it waits until a worker takes a
		 * connection, and meanwhile we accept no more.
		 */
		if ((error = chan_trysend(srv->conns, &fd)) == EAGAIN) {
			if (atomic_fetch_add(&srv->full, 1) == 0 &&
			    !srv->quiet) {
				printf("queue full (%zu connections waiting): "
				    "acceptor blocks in chan_send\n",
				    chan_len(srv->conns));
				fflush(stdout);
			}
			error = chan_send(srv->conns, &fd);
		}
		if (error != 0) {
			/* Only this thread closes conns, so never. */
			fprintf(stderr, "chan_send: %s\n", strerror(error));
			close(fd);
		}
	}
	/*
	 * We are the only sender, so we close the channel, after our last
	 * send: a close from another thread could fail a send we had already
	 * started and drop its connection.  Clients still in the listen
	 * backlog were never accepted; closing lfd resets them.
	 */
	close(srv->lfd);
	chan_close(srv->conns);
	return NULL;
}

/* server_start listens on 127.0.0.1:port and starts the threads. */
static void
server_start(struct server *srv, int port, int nworkers, int queue,
    int max_requests, int work_ms, bool quiet)
{
	struct sockaddr_in sin;
	socklen_t slen = sizeof(sin);
	int error, i, one = 1;

	memset(srv, 0, sizeof(*srv));
	srv->nworkers = nworkers;
	srv->max_requests = max_requests;
	srv->work_ms = work_ms;
	srv->quiet = quiet;

	if ((srv->lfd = socket(AF_INET, SOCK_STREAM, 0)) == -1)
		die("socket", errno);
	(void)setsockopt(srv->lfd, SOL_SOCKET, SO_REUSEADDR, &one,
	    sizeof(one));
	loopback(&sin, port);
	if (bind(srv->lfd, (struct sockaddr *)&sin, sizeof(sin)) == -1)
		die("bind", errno);
	if (listen(srv->lfd, 128) == -1)
		die("listen", errno);
	if (getsockname(srv->lfd, (struct sockaddr *)&sin, &slen) == -1)
		die("getsockname", errno);
	srv->port = ntohs(sin.sin_port);
	if (fcntl(srv->lfd, F_SETFL, fcntl(srv->lfd, F_GETFL) |
	    O_NONBLOCK) == -1)
		die("fcntl", errno);
	if (pipe(srv->stop) == -1)
		die("pipe", errno);

	/* The bounded queue between acceptor and workers. */
	if ((srv->conns = chan_create(sizeof(int), (size_t)queue,
	    CHAN_BLOCK)) == NULL)
		die("chan_create", errno);

	if ((srv->workers = calloc((size_t)nworkers,
	    sizeof(*srv->workers))) == NULL)
		die("calloc", errno);
	for (i = 0; i < nworkers; i++) {
		srv->workers[i].srv = srv;
		srv->workers[i].id = i;
		if ((error = pthread_create(&srv->workers[i].tid, NULL,
		    worker_main, &srv->workers[i])) != 0)
			die("pthread_create", error);
	}
	if ((error = pthread_create(&srv->acceptor, NULL, acceptor_main,
	    srv)) != 0)
		die("pthread_create", error);
}

/*
 * server_stop asks the server to stop; any thread may call it, any number
 * of times.  Closing the pipe's write end wakes every poll on its read end
 * at once, and keeps them awake.
 */
static void
server_stop(struct server *srv)
{
	uint64_t zero = 0;

	/* The first stop starts the grace period and closes the pipe. */
	if (atomic_compare_exchange_strong(&srv->stop_ns, &zero, now_ns()))
		close(srv->stop[1]);
}

/* server_wait waits for the server to stop, then frees it. */
static void
server_wait(struct server *srv)
{
	int error, i;

	if ((error = pthread_join(srv->acceptor, NULL)) != 0)
		die("pthread_join", error);
	for (i = 0; i < srv->nworkers; i++)
		if ((error = pthread_join(srv->workers[i].tid, NULL)) != 0)
			die("pthread_join", error);
	/* The acceptor may have stopped on its own (accept failed). */
	server_stop(srv);
	close(srv->stop[0]);
	chan_destroy(srv->conns);
	free(srv->workers);
}

static void *
signal_main(void *arg)
{
	struct server *srv = arg;
	sigset_t set;
	int sig;

	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGUSR1);	/* run_server's "server gone" */
	if (sigwait(&set, &sig) == 0 && sig != SIGUSR1) {
		printf("caught SIG%s, shutting down\n",
		    sig == SIGINT ? "INT" : "TERM");
		fflush(stdout);
	}
	server_stop(srv);
	return NULL;
}

static int
run_server(int port, int nworkers, int queue, int max_requests, int work_ms)
{
	struct server srv;
	pthread_t sigtid;
	sigset_t set;
	unsigned long accepted, served;
	int error;

	/*
	 * Block the stop signals in every thread (threads inherit the mask),
	 * so that only signal_main, in sigwait, ever receives them.
	 */
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGUSR1);
	if ((error = pthread_sigmask(SIG_BLOCK, &set, NULL)) != 0)
		die("pthread_sigmask", error);

	server_start(&srv, port, nworkers, queue, max_requests, work_ms,
	    false);
	printf("listening on 127.0.0.1:%d (%d workers, queue %d)\n",
	    srv.port, nworkers, queue);
	fflush(stdout);
	if ((error = pthread_create(&sigtid, NULL, signal_main, &srv)) != 0)
		die("pthread_create", error);
	server_wait(&srv);
	/*
	 * signal_main uses srv, on our stack: wake it (the server may have
	 * stopped on its own) and join it before srv goes out of scope.
	 */
	(void)pthread_kill(sigtid, SIGUSR1);	/* ESRCH once it returned */
	if ((error = pthread_join(sigtid, NULL)) != 0)
		die("pthread_join", error);
	accepted = atomic_load(&srv.accepted);
	served = atomic_load(&srv.served);
	printf("stopped: accepted %lu served %lu requests %lu "
	    "queue-full %lu\n", accepted, served,
	    atomic_load(&srv.requests), atomic_load(&srv.full));
	return accepted == served && !atomic_load(&srv.failed) ? 0 : 1;
}

/* Client: the load generator, for --client and --demo. */

struct client {
	int		 port;
	int		 max_requests;	/* stop after this many */
	uint64_t	 deadline;	/* or at this time (now_ns), or 0 */
	uint64_t	*lat;		/* latency of each answered request */
	size_t		 nlat;
	unsigned long	 ok;		/* requests answered 200 */
	unsigned long	 failed;
	unsigned long	 conns;		/* connections opened */
	pthread_t	 tid;
};

static int
dial(int port)
{
	struct sockaddr_in sin;
	int fd;

	if ((fd = socket(AF_INET, SOCK_STREAM, 0)) == -1)
		return -1;
	loopback(&sin, port);
	if (connect(fd, (struct sockaddr *)&sin, sizeof(sin)) == -1) {
		close(fd);
		return -1;
	}
	set_timeouts(fd);
	return fd;
}

/*
 * get sends one GET on fd and reads the whole response: it returns the
 * status (0 if there was none) and says whether the server keeps fd open.
 */
static int
get(int fd, bool *keep)
{
	static const char req[] = "GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";
	char buf[4096], *p;
	size_t hlen, len = 0, want;
	ssize_t n;
	int status;

	*keep = false;
	if (!write_all(fd, req, sizeof(req) - 1))
		return 0;
	while ((hlen = header_end(buf, len)) == 0) {
		if (len == sizeof(buf) - 1)
			return 0;
		if ((n = read(fd, buf + len, sizeof(buf) - 1 - len)) <= 0)
			return 0;	/* closed, reset or timed out */
		len += (size_t)n;
	}
	buf[len] = '\0';
	if (sscanf(buf, "HTTP/1.1 %d", &status) != 1 ||
	    (p = strstr(buf, "Content-Length: ")) == NULL || p > buf + hlen)
		return 0;
	want = hlen + (size_t)atol(p + 16);
	if (want >= sizeof(buf))
		return 0;
	*keep = strstr(buf, "Connection: keep-alive\r\n") != NULL;
	if (len > want)
		return 0;	/* we sent one request: nothing may follow */
	while (len < want) {
		if ((n = read(fd, buf + len, want - len)) <= 0)
			return 0;
		len += (size_t)n;
	}
	return status;
}

static void *
client_main(void *arg)
{
	struct client *c = arg;
	uint64_t t0;
	int fd = -1, i;
	bool keep;

	for (i = 0; i < c->max_requests; i++) {
		if (c->deadline != 0 && now_ns() >= c->deadline)
			break;
		if (fd == -1) {
			if ((fd = dial(c->port)) == -1) {
				c->failed++;
				break;
			}
			c->conns++;
		}
		t0 = now_ns();
		if (get(fd, &keep) == 200) {
			c->ok++;
			if (c->lat != NULL)
				c->lat[c->nlat++] = now_ns() - t0;
		} else {
			c->failed++;	/* and stop: the server is broken or gone */
			break;
		}
		if (!keep) {
			close(fd);
			fd = -1;
		}
	}
	if (fd != -1)
		close(fd);
	return NULL;
}

/* run_clients runs nclients clients at once and adds up their counts. */
static void
run_clients(struct client *cs, int nclients, struct client *sum)
{
	int error, i;

	for (i = 0; i < nclients; i++)
		if ((error = pthread_create(&cs[i].tid, NULL, client_main,
		    &cs[i])) != 0)
			die("pthread_create", error);
	memset(sum, 0, sizeof(*sum));
	for (i = 0; i < nclients; i++) {
		if ((error = pthread_join(cs[i].tid, NULL)) != 0)
			die("pthread_join", error);
		sum->ok += cs[i].ok;
		sum->failed += cs[i].failed;
		sum->conns += cs[i].conns;
	}
}

static int
run_client(int port, int nconns, int nrequests, bool tolerant)
{
	struct client *cs, sum;
	int i;

	if ((cs = calloc((size_t)nconns, sizeof(*cs))) == NULL)
		die("calloc", errno);
	for (i = 0; i < nconns; i++) {
		cs[i].port = port;
		cs[i].max_requests = nrequests;
	}
	run_clients(cs, nconns, &sum);
	free(cs);
	printf("client: ok %lu failed %lu connections %lu\n", sum.ok,
	    sum.failed, sum.conns);
	return sum.failed == 0 || tolerant ? 0 : 1;
}

static int
cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static double
percentile_us(const uint64_t *v, size_t n, double pct)
{
	size_t i;

	if (n == 0)
		return 0;
	i = (size_t)(pct / 100 * (double)(n - 1) + 0.5);
	return (double)v[i] / 1000;
}

/* demo_one runs the server with nworkers against nclients; 0 if all ok. */
static int
demo_one(int nworkers, int queue, int max_requests, int nclients,
    double seconds)
{
	struct server srv;
	struct client *cs, sum;
	uint64_t *lat, start, elapsed;
	size_t n, per;
	int i;

	server_start(&srv, 0, nworkers, queue, max_requests, 0, true);

	per = MAX_SAMPLES / (size_t)nclients;
	if ((cs = calloc((size_t)nclients, sizeof(*cs))) == NULL ||
	    (lat = malloc(per * (size_t)nclients * sizeof(*lat))) == NULL)
		die("malloc", errno);
	start = now_ns();
	for (i = 0; i < nclients; i++) {
		cs[i].port = srv.port;
		cs[i].max_requests = (int)per;
		cs[i].deadline = start + (uint64_t)(seconds * 1e9);
		cs[i].lat = lat + per * (size_t)i;
	}
	run_clients(cs, nclients, &sum);
	elapsed = now_ns() - start;

	/* The same stop as SIGTERM, then every accepted one is served. */
	server_stop(&srv);
	server_wait(&srv);

	/* Gather the latencies at the front of lat, then sort them. */
	for (i = 0, n = 0; i < nclients; i++) {
		memmove(lat + n, cs[i].lat, cs[i].nlat * sizeof(*lat));
		n += cs[i].nlat;
	}
	qsort(lat, n, sizeof(*lat), cmp_u64);
	printf("workers %2d: %8.0f req/s  latency us: p50 %7.1f  p90 %7.1f"
	    "  p99 %8.1f  max %8.1f  (%lu requests, %lu connections, "
	    "acceptor waited %lu times)\n", nworkers,
	    (double)sum.ok / ((double)elapsed / 1e9),
	    percentile_us(lat, n, 50), percentile_us(lat, n, 90),
	    percentile_us(lat, n, 99), n > 0 ? (double)lat[n - 1] / 1000 : 0,
	    sum.ok, atomic_load(&srv.accepted), atomic_load(&srv.full));
	fflush(stdout);
	free(lat);
	free(cs);

	/* Every request answered, every connection served, all counted. */
	if (sum.failed != 0 || sum.ok == 0 ||
	    sum.ok != atomic_load(&srv.requests) ||
	    atomic_load(&srv.accepted) != atomic_load(&srv.served)) {
		fprintf(stderr, "demo: %lu failed, %lu answered, server "
		    "counted %lu requests, accepted %lu, served %lu\n",
		    sum.failed, sum.ok, atomic_load(&srv.requests),
		    atomic_load(&srv.accepted), atomic_load(&srv.served));
		return 1;
	}
	return 0;
}

static int
run_demo(int nworkers, int queue, int max_requests, int nclients,
    double seconds)
{
	static const int sizes[] = { 1, 4, 16 };
	size_t i;
	int status = 0;

	printf("demo: %d keep-alive clients on 127.0.0.1 for %.1f s per run, "
	    "queue %d, %d requests per connection at most;\n"
	    "      a new connection's first request also waits in the queue "
	    "and the backlog\n", nclients, seconds, queue, max_requests);
	fflush(stdout);
	if (nworkers > 0)
		return demo_one(nworkers, queue, max_requests, nclients,
		    seconds);
	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++)
		status |= demo_one(sizes[i], queue, max_requests, nclients,
		    seconds);
	return status;
}

static void
usage(void)
{
	fprintf(stderr, "usage: worker_pool_server [--port N] [--workers N] "
	    "[--queue N]\n\t[--max-requests N] [--work-ms N]\n"
	    "       worker_pool_server --demo [--workers N] [--queue N] "
	    "[--clients N]\n\t[--seconds S | --quick]\n"
	    "       worker_pool_server --client PORT [--conns N] "
	    "[--requests N] [--tolerant]\n");
	exit(2);
}

/* number returns the integer in s if it is in [min, max]. */
static long
number(const char *s, long min, long max)
{
	char *end;
	long v;

	if (s == NULL)
		usage();
	errno = 0;
	v = strtol(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || v < min || v > max)
		usage();
	return v;
}

int
main(int argc, char *argv[])
{
	double seconds = 3;
	int client_port = -1, clients = 32, conns = 4, i, max_requests = 100;
	int port = 8080, queue = 16, requests = 100, work_ms = 0, workers = -1;
	bool demo = false, tolerant = false;
	char *end;

	for (i = 1; i < argc; i++) {
		const char *opt = argv[i], *arg;

		/* Options without an argument. */
		if (strcmp(opt, "--demo") == 0) {
			demo = true;
			continue;
		} else if (strcmp(opt, "--quick") == 0) {
			seconds = 0.3;
			continue;
		} else if (strcmp(opt, "--tolerant") == 0) {
			tolerant = true;
			continue;
		}

		/* Options with one. */
		if (++i >= argc)
			usage();
		arg = argv[i];
		if (strcmp(opt, "--port") == 0)
			port = (int)number(arg, 0, 65535);
		else if (strcmp(opt, "--workers") == 0)
			workers = (int)number(arg, 1, MAX_WORKERS);
		else if (strcmp(opt, "--queue") == 0)
			queue = (int)number(arg, 1, 1 << 20);
		else if (strcmp(opt, "--max-requests") == 0)
			max_requests = (int)number(arg, 1, 1 << 30);
		else if (strcmp(opt, "--work-ms") == 0)
			work_ms = (int)number(arg, 0, 10000);
		else if (strcmp(opt, "--client") == 0)
			client_port = (int)number(arg, 1, 65535);
		else if (strcmp(opt, "--conns") == 0)
			conns = (int)number(arg, 1, MAX_CLIENTS);
		else if (strcmp(opt, "--clients") == 0)
			clients = (int)number(arg, 1, MAX_CLIENTS);
		else if (strcmp(opt, "--requests") == 0)
			requests = (int)number(arg, 1, 1 << 30);
		else if (strcmp(opt, "--seconds") == 0) {
			seconds = strtod(arg, &end);
			if (end == arg || *end != '\0' || !(seconds > 0) ||
			    seconds > 600)
				usage();
		} else
			usage();
	}

	/* A client that hangs up must not kill us: write gets EPIPE. */
	signal(SIGPIPE, SIG_IGN);
	if (client_port != -1)
		return run_client(client_port, conns, requests, tolerant);
	if (demo)
		return run_demo(workers, queue, max_requests, clients,
		    seconds);
	return run_server(port, workers > 0 ? workers : 4, queue,
	    max_requests, work_ms);
}
