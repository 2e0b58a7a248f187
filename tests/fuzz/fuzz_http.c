/*
 * fuzz_http.c - libFuzzer harness for the remote source (core/source/
 * {fetch,blocks,http,open}.c): the fuzz input is what an HTTP server answers.
 *
 * Once per process a tiny server thread listens on 127.0.0.1 (port 0).  Per
 * input, dumpfs_open() of http://127.0.0.1:PORT/x (timeout 1 s, no retries,
 * or one, after a wait of 1 to 4 ms, with "~retry\n" in front) reads /header, /vmcoreinfo, a few ranges
 * of /mem and /vmcore.elf and a few dumpfs_read_phys() ranges, and closes.
 * The object served is FUZZ_SAMPLE, a small kdump (583 KiB, made by mkdump
 * at build time: an input costs milliseconds), or with "~flat\n" in front
 * FUZZ_SAMPLE_FLAT, a flattened one (the flattened reader over HTTP: its
 * sidecar request, /x.dfsidx, then the full read, of more blocks than the
 * block cache keeps).  Both are larger than the probe's 256 KiB, so that
 * its answer is whole and later reads meet other blocks.  The server answers each request it receives,
 * in order, with the next answer of the input:
 *
 *   input   = ["~retry\n"] ["~flat\n"] answer (SEP answer)*
 *   SEP     = "\n~~~\n"   close the connection after the answer before it
 *           | "\n~~+\n"   keep it open for the next request (closed if none
 *                         comes within KEEP_MS: a server that stops talking)
 *   answer  = the raw bytes written: status line, headers, body, in which
 *     $BODY   stands for the bytes of FUZZ_SAMPLE (the object served) in the
 *             request's Range (clipped to the object), $HALF for the first
 *             half of them, $LEN for their count, $RANGE for "FIRST-LAST",
 *             $SIZE for the object's size
 *
 * so the fuzzer works on status lines and headers (Content-Range, ETag,
 * Content-Length, Transfer-Encoding, ...) while real answers stay small.
 * A request after the last answer gets its connection closed unanswered
 * (curl fails at once): nothing waits, nothing sleeps but a retry's backoff.
 *
 * Checks, besides the sanitizers: an open error is one line naming the URL;
 * reads return at most what was asked, never past the end (but /stats, whose
 * size changes as transfers end), 0 only at the end,
 * and fail only with EIO (or ENOMEM); the dump closes (no hang).
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "dumpfs.h"

#if !defined(FUZZ_SAMPLE) || !defined(FUZZ_SAMPLE_FLAT)
#error "build with -DFUZZ_SAMPLE=\"path of the dump served\" -DFUZZ_SAMPLE_FLAT=\"a flattened one\""
#endif

#define MAX_CONN 16
#define REQ_MAX 16384
#define KEEP_MS 20              /* a kept connection's wait for a request */
#define SEND_MS 200             /* a stalled reader's wait, then close */
#define READ_LEN (64u << 10)

struct conn {
	int fd;
	size_t got;
	char req[REQ_MAX];
	uint64_t idle_since;    /* kept after an answer: when */
	bool kept;
};

static struct {
	pthread_mutex_t lock;
	int listen_fd;
	uint16_t port;
	const uint8_t *object;  /* the current input's: one of samples[] */
	uint64_t size;
	struct { const uint8_t *p; uint64_t size; } samples[2];  /* FUZZ_SAMPLE{,_FLAT}, mapped */
	/* the current input's answers */
	uint8_t *script;
	size_t script_len, at;
	unsigned generation;
	struct conn conns[MAX_CONN];
} srv = { .lock = PTHREAD_MUTEX_INITIALIZER, .listen_fd = -1 };

static uint64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void die(const char *what)
{
	perror(what);
	abort();
}

/* Write all of @p, waiting at most SEND_MS for a reader that stopped. */
static bool send_all(int fd, const void *p, size_t n)
{
	const uint8_t *b = p;
	while (n) {
		ssize_t w = send(fd, b, n, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (w > 0) {
			b += w, n -= (size_t)w;
			continue;
		}
		if (w < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
			return false;
		struct pollfd pfd = { fd, POLLOUT, 0 };
		if (poll(&pfd, 1, SEND_MS) <= 0)
			return false;
	}
	return true;
}

/* The Range of a request: [*first, *last] clipped to the object; false for
 * none or an empty one. */
static bool request_range(const char *req, uint64_t *first, uint64_t *last)
{
	for (const char *p = req; (p = strchr(p, '\n')); p++) {
		uint64_t a, z;
		if (strncasecmp(p + 1, "Range: bytes=", 13) ||
		    sscanf(p + 14, "%" SCNu64 "-%" SCNu64, &a, &z) != 2)
			continue;
		if (a >= srv.size || z < a)
			return false;
		*first = a;
		*last = z < srv.size ? z : srv.size - 1;
		return true;
	}
	*first = 0;
	*last = srv.size - 1;
	return srv.size > 0;
}

/* Write @answer with its $ tokens replaced for the request @req. */
static bool write_answer(int fd, const char *req, const uint8_t *a, size_t n)
{
	uint64_t first = 0, last = 0;
	bool has = request_range(req, &first, &last);
	uint64_t len = has ? last - first + 1 : 0;
	size_t lit = 0;
	for (size_t i = 0; i < n;) {
		const char *tok[] = { "$BODY", "$HALF", "$LEN", "$RANGE", "$SIZE" };
		size_t k = 0;
		if (a[i] == '$')
			for (; k < 5; k++)
				if (n - i >= strlen(tok[k]) && !memcmp(a + i, tok[k], strlen(tok[k])))
					break;
		if (a[i] != '$' || k == 5) {
			i++;
			continue;
		}
		if (!send_all(fd, a + lit, i - lit))
			return false;
		char num[64];
		bool ok = true;
		switch (k) {
		case 0: ok = !len || send_all(fd, srv.object + first, len); break;
		case 1: ok = !len || send_all(fd, srv.object + first, len / 2); break;
		case 2: snprintf(num, sizeof(num), "%" PRIu64, len); ok = send_all(fd, num, strlen(num)); break;
		case 3: snprintf(num, sizeof(num), "%" PRIu64 "-%" PRIu64, first, last);
			ok = send_all(fd, num, strlen(num)); break;
		case 4: snprintf(num, sizeof(num), "%" PRIu64, srv.size); ok = send_all(fd, num, strlen(num)); break;
		}
		if (!ok)
			return false;
		i += strlen(tok[k]);
		lit = i;
	}
	return send_all(fd, a + lit, n - lit);
}

static void drop(struct conn *c)
{
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
	c->got = 0;
	c->kept = false;
}

/* The next answer of the script into [*a, *a + *n), and whether to keep
 * the connection after it; false when there is none left. */
static bool next_answer(const uint8_t **a, size_t *n, bool *keep)
{
	if (!srv.script || srv.at >= srv.script_len)
		return false;
	const uint8_t *p = srv.script + srv.at, *end = srv.script + srv.script_len;
	const uint8_t *sep = memmem(p, (size_t)(end - p), "\n~~", 3);
	while (sep && (end - sep < 5 || (sep[3] != '~' && sep[3] != '+') || sep[4] != '\n'))
		sep = memmem(sep + 1, (size_t)(end - sep - 1), "\n~~", 3);
	*a = p;
	*n = sep ? (size_t)(sep - p) : (size_t)(end - p);
	*keep = sep && sep[3] == '+';
	srv.at = sep ? (size_t)(sep + 5 - srv.script) : srv.script_len;
	return true;
}

/* A whole request arrived on @c: answer it. */
static void answer(struct conn *c)
{
	const uint8_t *a;
	size_t n;
	bool keep;
	c->req[c->got] = '\0';
	if (getenv("FUZZ_HTTP_LOG")) {     /* what a run asks, to write seeds */
		uint64_t first = 0, last = 0;
		bool has = request_range(c->req, &first, &last);
		fprintf(stderr, "fuzz_http: %" PRIu64 " ms: request %zu: %.*s %s%" PRIu64 "-%" PRIu64 "\n",
			now_ms() % 100000, srv.at, (int)strcspn(c->req, "\r\n"), c->req,
			has ? "" : "no range ", first, last);
	}
	if (!next_answer(&a, &n, &keep) || !write_answer(c->fd, c->req, a, n) || !keep) {
		drop(c);
		return;
	}
	c->got = 0;
	c->kept = true;
	c->idle_since = now_ms();
}

static void *serve(void *arg)
{
	unsigned gen = 0;
	(void)arg;
	for (int i = 0; i < MAX_CONN; i++)
		srv.conns[i].fd = -1;
	for (;;) {
		struct pollfd pfd[MAX_CONN + 1];
		pfd[0] = (struct pollfd){ srv.listen_fd, POLLIN, 0 };
		for (int i = 0; i < MAX_CONN; i++)
			pfd[i + 1] = (struct pollfd){ srv.conns[i].fd, POLLIN, 0 };
		int r = poll(pfd, MAX_CONN + 1, 5);
		pthread_mutex_lock(&srv.lock);
		if (gen != srv.generation) {
			/* a new input: nothing of the last one's goes on */
			gen = srv.generation;
			for (int i = 0; i < MAX_CONN; i++)
				drop(&srv.conns[i]);
			pthread_mutex_unlock(&srv.lock);
			continue;
		}
		uint64_t now = now_ms();
		for (int i = 0; i < MAX_CONN; i++) {
			struct conn *c = &srv.conns[i];
			if (c->fd < 0 || !(pfd[i + 1].revents & (POLLIN | POLLHUP | POLLERR))) {
				if (c->fd >= 0 && c->kept && !c->got && now - c->idle_since > KEEP_MS)
					drop(c);
				continue;
			}
			ssize_t k = recv(c->fd, c->req + c->got, REQ_MAX - 1 - c->got, MSG_DONTWAIT);
			if (k <= 0) {
				if (k == 0 || (errno != EAGAIN && errno != EINTR))
					drop(c);
				continue;
			}
			c->got += (size_t)k;
			c->req[c->got] = '\0';
			if (strstr(c->req, "\r\n\r\n"))
				answer(c);
			else if (c->got >= REQ_MAX - 1)
				drop(c);
		}
		if (r > 0 && (pfd[0].revents & POLLIN)) {
			int fd = accept4(srv.listen_fd, NULL, NULL, SOCK_CLOEXEC);
			int i = 0;
			while (fd >= 0 && i < MAX_CONN && srv.conns[i].fd >= 0)
				i++;
			if (fd >= 0 && i == MAX_CONN)
				close(fd);
			else if (fd >= 0)
				srv.conns[i] = (struct conn){ .fd = fd };
		}
		pthread_mutex_unlock(&srv.lock);
	}
	return NULL;
}

static void map_sample(int i, const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct stat st;
	if (fd < 0 || fstat(fd, &st) < 0)
		die(path);
	srv.samples[i].size = (uint64_t)st.st_size;
	srv.samples[i].p = mmap(NULL, st.st_size ? (size_t)st.st_size : 1, PROT_READ, MAP_PRIVATE, fd, 0);
	if (srv.samples[i].p == MAP_FAILED)
		die("mmap");
	close(fd);
}

static void start_server(void)
{
	map_sample(0, FUZZ_SAMPLE);
	map_sample(1, FUZZ_SAMPLE_FLAT);

	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(sa);
	srv.listen_fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (srv.listen_fd < 0 || bind(srv.listen_fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    listen(srv.listen_fd, 64) < 0 || getsockname(srv.listen_fd, (struct sockaddr *)&sa, &len) < 0)
		die("listen");
	srv.port = ntohs(sa.sin_port);
	pthread_t t;
	if (pthread_create(&t, NULL, serve, NULL))
		die("pthread_create");
	pthread_detach(t);
}

static void fail(const char *what, const char *node, uint64_t off, ssize_t r)
{
	fprintf(stderr, "fuzz_http: %s: %s at offset %" PRIu64 " (returned %zd)\n", what, node, off, r);
	abort();
}

static void check_read(const char *name, uint64_t size, uint64_t off, size_t asked, ssize_t r)
{
	if (r > (ssize_t)asked || (r > 0 && off + (uint64_t)r > size))
		fail("read returned more than there is", name, off, r);
	if (r == 0 && off < size)
		fail("read returned 0 before the end", name, off, r);
	if (r < 0 && r != -EIO && r != -ENOMEM)
		fail("read failed with an unexpected errno", name, off, r);
}

static uint8_t buf[READ_LEN];

/* Read @len bytes of @path at @off (those that lie in the file). */
static void read_at(struct dumpfs_dump *d, const char *path, uint64_t off, size_t len)
{
	struct dumpfs_node_info info;
	int64_t node = dumpfs_node_by_path(d, path);
	if (node < 0 || dumpfs_node_stat(d, (uint32_t)node, &info) != DUMPFS_OK)
		return;
	if (off == UINT64_MAX)  /* the middle */
		off = info.size / 2;
	ssize_t r = dumpfs_node_read(d, (uint32_t)node, buf, len, off);
	/* /stats is rendered again by each read: a transfer that ends between
	 * the stat and the read changes its size */
	check_read(path, info.is_volatile ? UINT64_MAX : info.size, off, len, r);
}

static void exercise(const char *url, int retries)
{
	struct dumpfs_options opts = { .cache_bytes = 1u << 20, .threads = 1,
				       .remote = { .timeout = 1, .retries = retries, .backoff_ms = 2,
						   .cache_bytes = 1u << 20 } };
	const char *paths[] = { url };
	struct dumpfs_dump *d;
	char err[512] = "";
	if (dumpfs_open(&d, paths, 1, &opts, err, sizeof(err)) != DUMPFS_OK) {
		if (!err[0] || strchr(err, '\n') || !strstr(err, url))
			fail("open error is not one line naming the URL", err, 0, 0);
		return;
	}
	read_at(d, "/header", 0, READ_LEN);
	read_at(d, "/vmcoreinfo", 0, 4096);
	uint64_t mem = dumpfs_mem_size(d);
	read_at(d, "/mem", 0, 8192);
	read_at(d, "/mem", UINT64_MAX, READ_LEN);
	read_at(d, "/mem", mem > 4096 ? mem - 4096 : 0, 8192);
	read_at(d, "/vmcore.elf", 0, 4096);
	read_at(d, "/vmcore.elf", UINT64_MAX, READ_LEN);
	for (uint64_t pa = 1u << 20; pa < mem && pa < (64ull << 20); pa += 16ull << 20) {
		ssize_t r = dumpfs_read_phys(d, buf, 4096, pa);
		check_read("phys", mem, pa, 4096, r);
	}
	read_at(d, "/stats", 0, 4096);
	dumpfs_close(d);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;
	pthread_once(&once, start_server);
	int retries = -1, flat = 0;
	if (len >= 7 && !memcmp(data, "~retry\n", 7))
		retries = 1, data += 7, len -= 7;
	if (len >= 6 && !memcmp(data, "~flat\n", 6))
		flat = 1, data += 6, len -= 6;

	uint8_t *copy = malloc(len ? len : 1);
	if (!copy)
		abort();
	memcpy(copy, data, len);
	pthread_mutex_lock(&srv.lock);
	srv.script = copy;
	srv.script_len = len;
	srv.object = srv.samples[flat].p;
	srv.size = srv.samples[flat].size;
	srv.at = 0;
	srv.generation++;
	pthread_mutex_unlock(&srv.lock);

	char url[64];
	snprintf(url, sizeof(url), "http://127.0.0.1:%u/x", (unsigned)srv.port);
	exercise(url, retries);

	pthread_mutex_lock(&srv.lock);
	srv.script = NULL;
	srv.script_len = srv.at = 0;
	srv.generation++;
	pthread_mutex_unlock(&srv.lock);
	free(copy);
	return 0;
}
