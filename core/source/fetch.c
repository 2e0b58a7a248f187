/*
 * fetch.c - range requests for one remote object, on libcurl's multi
 * interface.
 *
 * One thread per object runs the multi handle: readers queue requests and
 * wait for the blocks they fill (blocks.c), the thread keeps up to
 * MAX_ACTIVE transfers on the multi handle's few reused connections, and
 * requests that fail for a reason that passes (a dropped connection, 408,
 * 429, 5xx, S3's RequestTimeout) wait a jittered, doubling delay and go
 * again.  The thread starts with the first request and stops for a fork()
 * (fetcher_quiesce), which would not copy it.
 *
 * Every answer is checked against the object's first one: the status must
 * be 206, its Content-Range the range asked with the same total size, and
 * its ETag the same; later requests carry If-Match (or, without a strong
 * ETag, If-Unmodified-Since), so a store that replaced the object answers
 * 412.  An object that changed ends every later read with an error: a
 * reader gets old bytes it already had or an error, never a mix.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <curl/curl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "source/remote.h"

#define MAX_ACTIVE 4
#define DEFAULT_TIMEOUT 10              /* seconds */
#define DEFAULT_RETRIES 5
#define BACKOFF_BASE_MS 200
#define BACKOFF_CAP_MS 5000
#define LOW_SPEED_BYTES 1024            /* per second, over the timeout */
#define ERROR_BODY_MAX 2048
/* After a request failed for a reason that passes (its tries spent), new
 * requests fail at once for this long: one FUSE read touches several
 * blocks, and a dead server must cost it one request's tries, not one per
 * block.  The first request after it tries the server again. */
#define FAILING_HOLD_MS 3000

struct fetcher {
	char *name;                     /* the user's name for messages */
	char *request_url;
	bool follow_redirects;
	fetch_sign_fn sign;
	void *sign_arg;
	char *ca_file;
	long timeout;
	int retries;
	unsigned backoff_base;          /* ms */

	uint64_t size;                  /* UINT64_MAX until the first answer */
	char etag[256];                 /* strong ETag, "" if none */
	char last_modified[80];         /* if no strong ETag */
	char validator[360];            /* for /header */
	char changed[ERRMSG_MAX];       /* why the object is no longer read */
	uint64_t failing_until_ms;      /* new requests fail at once before this */
	char failing[ERRMSG_MAX];       /* why */

	pthread_mutex_t lock;
	CURLM *multi;
	struct fetch_req *queue, *queue_tail;   /* waiting to start */
	struct fetch_req *delayed;              /* waiting out a backoff */
	unsigned active;
	struct fetch_req *on_wire[MAX_ACTIVE];  /* the active ones, for closing */
	pthread_t thread;
	pid_t thread_pid;                       /* 0: no thread */
	bool stop;
	unsigned seed;
	struct fetch_stats stats;
};

/* A request's state while it is on the wire. */
struct transfer {
	struct fetcher *f;
	CURL *easy;
	struct curl_slist *headers;
	unsigned attempt;
	uint64_t not_before_ms;
	/* Bytes in place: @kept from earlier tries, which a retry does not ask
	 * again, and @got in all. */
	size_t kept, got;
	bool has_range;
	uint64_t range_first, range_last, range_total;
	bool wrong_range, overflow, other_object;
	char etag[256], last_modified[80];
	char reason[64];                /* the status line's words, "Not Found" */
	char body[ERROR_BODY_MAX];
	size_t body_len;
	char curl_error[CURL_ERROR_SIZE];
};

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static bool curl_ready;

static void init_curl(void)
{
	curl_ready = curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK;
}

static uint64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* ---- the answer's headers and body ------------------------------------- */

/* Header @h (length @n, "Name: value\r\n") if it is @name: its value,
 * trimmed, into @out. */
static bool header_value(const char *h, size_t n, const char *name, char *out, size_t outlen)
{
	size_t k = strlen(name);
	if (n <= k || strncasecmp(h, name, k) || h[k] != ':')
		return false;
	const char *v = h + k + 1, *end = h + n;
	while (v < end && (*v == ' ' || *v == '\t'))
		v++;
	while (end > v && (end[-1] == '\r' || end[-1] == '\n' || end[-1] == ' '))
		end--;
	size_t len = (size_t)(end - v) < outlen ? (size_t)(end - v) : outlen - 1;
	memcpy(out, v, len);
	out[len] = '\0';
	return true;
}

static size_t on_header(char *h, size_t size, size_t n, void *arg)
{
	struct fetch_req *req = arg;
	struct transfer *t = req->priv;
	char v[300];
	(void)size;

	if (n >= 5 && !strncmp(h, "HTTP/", 5)) {
		/* a new answer (after a redirect or a 100): forget the last one's */
		t->has_range = false;
		t->etag[0] = t->last_modified[0] = t->reason[0] = '\0';
		t->body_len = 0;
		const char *sp = memchr(h, ' ', n), *end = h + n;
		sp = sp ? memchr(sp + 1, ' ', (size_t)(end - sp - 1)) : NULL;
		if (sp) {
			while (end > sp + 1 && (end[-1] == '\r' || end[-1] == '\n'))
				end--;
			size_t len = (size_t)(end - sp - 1) < sizeof(t->reason) ? (size_t)(end - sp - 1)
										  : sizeof(t->reason) - 1;
			memcpy(t->reason, sp + 1, len);
			t->reason[len] = '\0';
		}
	} else if (header_value(h, n, "Content-Range", v, sizeof(v))) {
		t->has_range = sscanf(v, "bytes %" SCNu64 "-%" SCNu64 "/%" SCNu64, &t->range_first,
				      &t->range_last, &t->range_total) == 3 &&
			       t->range_first <= t->range_last && t->range_last < t->range_total;
	} else if (!header_value(h, n, "ETag", t->etag, sizeof(t->etag))) {
		header_value(h, n, "Last-Modified", t->last_modified, sizeof(t->last_modified));
	}
	return n;
}

static size_t on_body(char *data, size_t size, size_t n, void *arg)
{
	struct fetch_req *req = arg;
	struct transfer *t = req->priv;
	long code = 0;
	(void)size;

	curl_easy_getinfo(t->easy, CURLINFO_RESPONSE_CODE, &code);
	if (code != 206) {
		/* an error's text, for the message; a 200 would be the whole
		 * object, which we refuse to download */
		size_t room = sizeof(t->body) - 1 - t->body_len, k = n < room ? n : room;
		memcpy(t->body + t->body_len, data, k);
		t->body_len += k;
		t->body[t->body_len] = '\0';
		return code == 200 ? 0 : n;
	}
	if (!t->has_range || t->range_first != req->off + t->kept) {
		t->wrong_range = true;
		return 0;
	}
	/* checked before a byte is kept: a retry resumes after these bytes */
	const struct fetcher *f = t->f;
	if (f->size != UINT64_MAX &&
	    (t->range_total != f->size || (f->etag[0] && t->etag[0] && strcmp(t->etag, f->etag)))) {
		t->other_object = true;
		return 0;
	}
	if (n > req->len - t->got) {
		t->overflow = true;
		return 0;
	}
	for (size_t done = 0; done < n;) {
		size_t at = t->got + done, blk = at / req->block_size, in = at % req->block_size;
		size_t k = req->block_size - in < n - done ? req->block_size - in : n - done;
		memcpy(req->dest[blk] + in, data + done, k);
		done += k;
	}
	t->got += n;
	return n;
}

/* S3's <Code> and <Message> of an error body, "" if it has none. */
static void s3_error(const char *body, char *out, size_t outlen)
{
	char code[64] = "", msg[200] = "";
	const char *c = strstr(body, "<Code>"), *m = strstr(body, "<Message>");
	if (c)
		sscanf(c + 6, "%63[^<]", code);
	if (m)
		sscanf(m + 9, "%199[^<]", msg);
	if (code[0])
		snprintf(out, outlen, " (%s%s%s)", code, msg[0] ? ": " : "", msg);
	else
		out[0] = '\0';
}

/* ---- one attempt --------------------------------------------------------- */

static bool strong_etag(const char *etag)
{
	return etag[0] == '"';
}

static bool add_header(struct curl_slist **list, const char *fmt, const char *value)
{
	char h[700];
	snprintf(h, sizeof(h), fmt, value);
	struct curl_slist *l = curl_slist_append(*list, h);
	if (!l)
		return false;
	*list = l;
	return true;
}

/* A new easy handle for @req's next attempt; false with req->error. */
static bool start_attempt(struct fetcher *f, struct fetch_req *req)
{
	struct transfer *t = req->priv;
	char range[64];
	const char *if_match = f->etag[0] ? f->etag : NULL;

	snprintf(range, sizeof(range), "bytes=%" PRIu64 "-%" PRIu64, req->off + t->kept,
		 req->off + req->len - 1);
	t->got = t->kept;
	t->has_range = t->wrong_range = t->overflow = false;
	t->body_len = 0;
	t->body[0] = t->curl_error[0] = '\0';
	curl_slist_free_all(t->headers);
	t->headers = NULL;
	if (!add_header(&t->headers, "Range: %s", range) ||
	    (if_match && !add_header(&t->headers, "If-Match: %s", if_match)) ||
	    (!if_match && f->last_modified[0] &&
	     !add_header(&t->headers, "If-Unmodified-Since: %s", f->last_modified))) {
		snprintf(req->error, sizeof(req->error), "%s: out of memory", f->name);
		return false;
	}
	/* no Accept-Encoding: the bytes must come as they are stored */
	if (f->sign && !f->sign(f->sign_arg, range, if_match, &t->headers, req->error, sizeof(req->error)))
		return false;

	CURL *e = t->easy ? t->easy : curl_easy_init();
	if (!e) {
		snprintf(req->error, sizeof(req->error), "%s: out of memory", f->name);
		return false;
	}
	t->easy = e;
	curl_easy_reset(e);
	curl_easy_setopt(e, CURLOPT_URL, f->request_url);
	curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(e, CURLOPT_HTTPHEADER, t->headers);
	curl_easy_setopt(e, CURLOPT_USERAGENT, "dumpfs/" DUMPFS_VERSION);
	curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT, f->timeout);
	curl_easy_setopt(e, CURLOPT_LOW_SPEED_LIMIT, (long)LOW_SPEED_BYTES);
	curl_easy_setopt(e, CURLOPT_LOW_SPEED_TIME, f->timeout);
	curl_easy_setopt(e, CURLOPT_TCP_KEEPALIVE, 1L);
	curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(e, CURLOPT_HEADERDATA, req);
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(e, CURLOPT_WRITEDATA, req);
	curl_easy_setopt(e, CURLOPT_ERRORBUFFER, t->curl_error);
	curl_easy_setopt(e, CURLOPT_PRIVATE, req);
	if (f->follow_redirects) {
		/* a signed S3 request does not follow: the signature names the host */
		curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 1L);
		curl_easy_setopt(e, CURLOPT_MAXREDIRS, 5L);
		curl_easy_setopt(e, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
	}
	if (f->ca_file)
		curl_easy_setopt(e, CURLOPT_CAINFO, f->ca_file);
	return true;
}

/* ---- how an attempt ended ------------------------------------------------ */

enum outcome { DONE, RETRY, FAIL, CHANGED };

static bool passing_curl_error(CURLcode rc)
{
	switch (rc) {
	case CURLE_COULDNT_RESOLVE_HOST: case CURLE_COULDNT_CONNECT: case CURLE_OPERATION_TIMEDOUT:
	case CURLE_SEND_ERROR: case CURLE_RECV_ERROR: case CURLE_GOT_NOTHING: case CURLE_PARTIAL_FILE:
	case CURLE_SSL_CONNECT_ERROR: case CURLE_HTTP2: case CURLE_HTTP2_STREAM:
		return true;
	default:
		return false;
	}
}

static bool passing_status(long code, const char *s3)
{
	return code == 408 || code == 429 || code == 500 || code == 502 || code == 503 || code == 504 ||
	       (code == 400 && strstr(s3, "(RequestTimeout"));
}

/* Check a 206 against the object's first answer. */
static enum outcome check_partial(struct fetcher *f, struct fetch_req *req, char *why, size_t whylen)
{
	struct transfer *t = req->priv;
	bool probe = f->size == UINT64_MAX;

	if (!t->has_range) {
		snprintf(why, whylen, "206 without a Content-Range");
		return FAIL;
	}
	if (!probe && (t->range_total != f->size || t->other_object)) {
		snprintf(why, whylen, "the object changed under the mount: its size was %" PRIu64 ", now %" PRIu64,
			 f->size, t->range_total);
		return CHANGED;
	}
	if (!probe && f->etag[0] && t->etag[0] && strcmp(t->etag, f->etag)) {
		snprintf(why, whylen, "the object changed under the mount: ETag was %.120s, now %.120s", f->etag,
			 t->etag);
		return CHANGED;
	}
	/* no file is larger (off_t), and block counts must not wrap */
	if (probe && t->range_total > INT64_MAX) {
		snprintf(why, whylen, "a size of %" PRIu64 " bytes (Content-Range) is not a file's", t->range_total);
		return FAIL;
	}
	uint64_t want_last = probe ? t->range_last : req->off + req->len - 1;
	if (t->range_first != req->off + t->kept || t->range_last != want_last) {
		snprintf(why, whylen, "answered bytes %" PRIu64 "-%" PRIu64, t->range_first, t->range_last);
		return FAIL;
	}
	if (t->got - t->kept != t->range_last - t->range_first + 1) {
		snprintf(why, whylen, "body cut short after %zu of %zu bytes", t->got, probe ? t->got : req->len);
		return RETRY;
	}
	return DONE;
}

static enum outcome judge(struct fetcher *f, struct fetch_req *req, CURLcode rc, char *why, size_t whylen)
{
	struct transfer *t = req->priv;
	long code = 0;
	char s3[300];

	curl_easy_getinfo(t->easy, CURLINFO_RESPONSE_CODE, &code);
	s3_error(t->body, s3, sizeof(s3));
	if (rc == CURLE_WRITE_ERROR && code == 200) {
		snprintf(why, whylen, "the server answered a range request with the whole object (200): "
			 "dumpfs reads only ranges, it does not download the dump");
		return FAIL;
	}
	if (t->other_object)
		return check_partial(f, req, why, whylen);
	if (t->wrong_range || t->overflow) {
		snprintf(why, whylen, t->overflow ? "the server sent more than the range asked"
			 : "the server answered another range than the one asked");
		return FAIL;
	}
	if (rc != CURLE_OK) {
		const char *what = t->curl_error[0] ? t->curl_error : curl_easy_strerror(rc);
		if (code == 206 && t->got > t->kept)
			snprintf(why, whylen, "body cut short after %zu of %zu bytes (%s)", t->got, req->len, what);
		else
			snprintf(why, whylen, "%s", what);
		return passing_curl_error(rc) ? RETRY : FAIL;
	}
	if (code == 206)
		return check_partial(f, req, why, whylen);
	if (code == 412) {
		snprintf(why, whylen, "the object changed under the mount: 412 Precondition Failed to %s%s",
			 f->etag[0] ? "If-Match " : "If-Unmodified-Since ", f->etag[0] ? f->etag : f->last_modified);
		return CHANGED;
	}
	/* nginx's answer to a range request of an empty file (any byte of a
	 * 200 fails the transfer above) */
	if (code == 200 && f->size == UINT64_MAX) {
		snprintf(why, whylen, "the object is empty (200 without a body to a range request)");
		return FAIL;
	}
	if (code == 416 && f->size == UINT64_MAX) {
		snprintf(why, whylen, "the object is empty (416 to a range request)");
		return FAIL;
	}
	snprintf(why, whylen, "HTTP %ld%s%s%s", code, t->reason[0] && !s3[0] ? " " : "",
		 s3[0] ? "" : t->reason, s3);
	return passing_status(code, s3) ? RETRY : FAIL;
}

/* ---- the queue and the thread -------------------------------------------- */

static void end_request(struct fetcher *f, struct fetch_req *req, enum dumpfs_status st)
{
	struct transfer *t = req->priv;
	if (t) {
		if (t->easy) {
			curl_multi_remove_handle(f->multi, t->easy);
			curl_easy_cleanup(t->easy);
		}
		curl_slist_free_all(t->headers);
		free(t);
		req->priv = NULL;
	}
	req->status = st;
	req->done(req);
}

static void fail_request(struct fetcher *f, struct fetch_req *req, const char *why, unsigned tries,
			 enum dumpfs_status st)
{
	char n[40] = "";
	if (tries > 1)
		snprintf(n, sizeof(n), " (after %u tries)", tries);
	snprintf(req->error, sizeof(req->error), "%s: bytes %" PRIu64 "-%" PRIu64 ": %s%s", f->name, req->off,
		 req->off + req->len - 1, why, n);
	/* the server's words are quoted in it: one printable line */
	for (char *c = req->error; *c; c++)
		if ((unsigned char)*c < 0x20 || (unsigned char)*c >= 0x7f)
			*c = '?';
	pthread_mutex_lock(&f->lock);
	f->stats.failures++;
	pthread_mutex_unlock(&f->lock);
	end_request(f, req, st);
}

/* Full jitter: a uniform wait up to a doubling bound. */
static uint64_t backoff_ms(struct fetcher *f, unsigned attempt)
{
	uint64_t bound = (uint64_t)f->backoff_base << (attempt < 10 ? attempt : 10);
	if (bound > BACKOFF_CAP_MS)
		bound = BACKOFF_CAP_MS;
	return 1 + (uint64_t)rand_r(&f->seed) % bound;
}

/* The first answer fixes the object: its size and what tells a change. */
static void adopt(struct fetcher *f, const struct transfer *t)
{
	f->size = t->range_total;
	if (strong_etag(t->etag)) {
		snprintf(f->etag, sizeof(f->etag), "%s", t->etag);
		snprintf(f->validator, sizeof(f->validator), "ETag %s", t->etag);
	} else if (t->last_modified[0]) {
		snprintf(f->last_modified, sizeof(f->last_modified), "%s", t->last_modified);
		snprintf(f->validator, sizeof(f->validator), "Last-Modified %s", t->last_modified);
	} else {
		snprintf(f->validator, sizeof(f->validator), "none");
	}
}

static long code_of(const struct transfer *t)
{
	long code = 0;
	curl_easy_getinfo(t->easy, CURLINFO_RESPONSE_CODE, &code);
	return code;
}

/* A transfer ended: done, failed, or delayed for a retry (true). */
static bool finished(struct fetcher *f, struct fetch_req *req, CURLcode rc)
{
	struct transfer *t = req->priv;
	char why[400];
	enum outcome o = judge(f, req, rc, why, sizeof(why));

	curl_multi_remove_handle(f->multi, t->easy);
	pthread_mutex_lock(&f->lock);
	f->active--;
	for (size_t i = 0; i < MAX_ACTIVE; i++)
		if (f->on_wire[i] == req)
			f->on_wire[i] = NULL;
	f->stats.bytes += t->got - t->kept;
	if (o == CHANGED && !f->changed[0])
		snprintf(f->changed, sizeof(f->changed), "%s: %s", f->name, why);
	if (o == RETRY && t->attempt <= (unsigned)f->retries) {
		f->stats.retries++;
		/* what a good 206 brought stays; the probe, whose length the
		 * answer decides, starts again */
		if (f->size != UINT64_MAX && code_of(t) == 206 && !t->wrong_range)
			t->kept = t->got;
		t->not_before_ms = now_ms() + backoff_ms(f, t->attempt);
		req->next = f->delayed;
		f->delayed = req;
		pthread_mutex_unlock(&f->lock);
		return true;
	}
	if (o == DONE && f->size == UINT64_MAX)
		adopt(f, t);
	if (o == RETRY) {
		f->failing_until_ms = now_ms() + FAILING_HOLD_MS;
		snprintf(f->failing, sizeof(f->failing), "%s", why);
	}
	pthread_mutex_unlock(&f->lock);
	if (o == DONE)
		end_request(f, req, DUMPFS_OK);
	else
		fail_request(f, req, why, t->attempt, code_of(t) == 404 ? DUMPFS_ERR_NODATA : DUMPFS_ERR_IO);
	return false;
}

/* Start what may start: delayed requests whose time has come, then the
 * queue, up to MAX_ACTIVE.  Called with the lock held; returns how long
 * the thread may sleep. */
static long start_due(struct fetcher *f, struct fetch_req **failed)
{
	uint64_t now = now_ms(), next = now + 1000;
	struct fetch_req **pp = &f->delayed;

	while (*pp) {
		struct fetch_req *req = *pp;
		struct transfer *t = req->priv;
		if (t->not_before_ms <= now && f->active < MAX_ACTIVE) {
			*pp = req->next;
			req->next = f->queue;   /* ahead of new requests: it waited */
			f->queue = req;
			if (!f->queue_tail)
				f->queue_tail = req;
		} else {
			if (t->not_before_ms < next)
				next = t->not_before_ms;
			pp = &req->next;
		}
	}
	while (f->queue && f->active < MAX_ACTIVE) {
		struct fetch_req *req = f->queue;
		f->queue = req->next;
		if (!f->queue)
			f->queue_tail = NULL;
		struct transfer *t = req->priv;
		if (f->changed[0] || f->failing_until_ms > now) {
			if (f->changed[0])
				snprintf(req->error, sizeof(req->error), "%s", f->changed);
			else
				snprintf(req->error, sizeof(req->error), "%s: bytes %" PRIu64 "-%" PRIu64
					 ": not asked: the server failed a moment ago (%.300s)", f->name, req->off,
					 req->off + req->len - 1, f->failing);
			req->next = *failed;
			*failed = req;
			continue;
		}
		t->attempt++;
		if (!start_attempt(f, req) || curl_multi_add_handle(f->multi, t->easy) != CURLM_OK) {
			if (!req->error[0])
				snprintf(req->error, sizeof(req->error), "%s: cannot start a request", f->name);
			req->next = *failed;
			*failed = req;
			continue;
		}
		f->active++;
		f->stats.requests++;
		for (size_t i = 0; i < MAX_ACTIVE; i++)
			if (!f->on_wire[i]) {
				f->on_wire[i] = req;
				break;
			}
	}
	return next > now ? (long)(next - now) : 0;
}

static void *run(void *arg)
{
	struct fetcher *f = arg;
	pthread_mutex_lock(&f->lock);
	while (!f->stop) {
		struct fetch_req *failed = NULL;
		long wait = start_due(f, &failed);
		pthread_mutex_unlock(&f->lock);
		while (failed) {
			struct fetch_req *req = failed;
			failed = req->next;
			struct transfer *t = req->priv;
			if (t && t->easy)
				curl_multi_remove_handle(f->multi, t->easy);
			end_request(f, req, DUMPFS_ERR_IO);
		}
		int running;
		curl_multi_perform(f->multi, &running);
		CURLMsg *m;
		int left;
		bool delayed = false;
		while ((m = curl_multi_info_read(f->multi, &left)))
			if (m->msg == CURLMSG_DONE) {
				struct fetch_req *req = NULL;
				curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (char **)&req);
				delayed |= finished(f, req, m->data.result);
			}
		/* a retry just delayed is due before @wait, which start_due()
		 * reckoned without it: go round and reckon again */
		if (!delayed)
			curl_multi_poll(f->multi, NULL, 0, (int)(wait < 1000 ? wait : 1000), NULL);
		pthread_mutex_lock(&f->lock);
	}
	pthread_mutex_unlock(&f->lock);
	return NULL;
}

void fetcher_submit(struct fetcher *f, struct fetch_req *req)
{
	req->status = DUMPFS_OK;
	req->error[0] = '\0';
	req->next = NULL;
	struct transfer *t = calloc(1, sizeof(struct transfer));
	req->priv = t;
	if (t)
		t->f = f;
	if (!t) {
		snprintf(req->error, sizeof(req->error), "%s: out of memory", f->name);
		req->status = DUMPFS_ERR_NOMEM;
		req->done(req);
		return;
	}
	pthread_mutex_lock(&f->lock);
	if (f->queue_tail)
		f->queue_tail->next = req;
	else
		f->queue = req;
	f->queue_tail = req;
	/* the thread is started by the first request of each process: a fork
	 * (the mount going to the background) does not copy it */
	if (f->thread_pid != getpid()) {
		f->stop = false;
		if (pthread_create(&f->thread, NULL, run, f) == 0)
			f->thread_pid = getpid();
	}
	bool started = f->thread_pid == getpid();
	pthread_mutex_unlock(&f->lock);
	if (started) {
		curl_multi_wakeup(f->multi);
		return;
	}
	/* no thread: nothing will ever answer, so fail now */
	pthread_mutex_lock(&f->lock);
	struct fetch_req **pp = &f->queue;
	while (*pp && *pp != req)
		pp = &(*pp)->next;
	if (*pp) {
		*pp = req->next;
		f->queue_tail = NULL;
		for (struct fetch_req *q = f->queue; q; q = q->next)
			f->queue_tail = q;
	}
	pthread_mutex_unlock(&f->lock);
	snprintf(req->error, sizeof(req->error), "%s: cannot start the transfer thread", f->name);
	end_request(f, req, DUMPFS_ERR_IO);
}

void fetcher_quiesce(struct fetcher *f)
{
	pthread_mutex_lock(&f->lock);
	bool mine = f->thread_pid == getpid();
	f->stop = true;
	pthread_mutex_unlock(&f->lock);
	if (!mine)
		return;
	curl_multi_wakeup(f->multi);
	pthread_join(f->thread, NULL);
	pthread_mutex_lock(&f->lock);
	f->thread_pid = 0;
	pthread_mutex_unlock(&f->lock);
}

/* ---- opening ------------------------------------------------------------ */

struct probe_wait {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	bool done;
};

static void probe_done(struct fetch_req *req)
{
	struct probe_wait *w = req->owner;
	pthread_mutex_lock(&w->lock);
	w->done = true;
	pthread_cond_signal(&w->cond);
	pthread_mutex_unlock(&w->lock);
}

enum dumpfs_status fetcher_open(struct fetcher **out, const struct remote_url *u,
				const struct dumpfs_remote *opts, fetch_sign_fn sign, void *sign_arg,
				uint8_t *first, size_t first_len, size_t *got, char *err, size_t errlen)
{
	struct fetcher *f = calloc(1, sizeof(*f));
	*out = f;
	pthread_once(&curl_once, init_curl);
	if (!f)
		return DUMPFS_ERR_NOMEM;
	pthread_mutex_init(&f->lock, NULL);
	f->size = UINT64_MAX;
	f->seed = (unsigned)now_ms() ^ (unsigned)getpid();
	f->timeout = opts && opts->timeout ? (long)opts->timeout : DEFAULT_TIMEOUT;
	f->retries = !opts || !opts->retries ? DEFAULT_RETRIES : opts->retries < 0 ? 0 : opts->retries;
	f->backoff_base = opts && opts->backoff_ms ? opts->backoff_ms : BACKOFF_BASE_MS;
	f->sign = sign;
	f->sign_arg = sign_arg;
	f->follow_redirects = !u->s3;
	f->name = strdup(u->name);
	f->request_url = strdup(u->request);
	f->ca_file = opts && opts->ca_file ? strdup(opts->ca_file) : NULL;
	if (!curl_ready) {
		snprintf(err, errlen, "%s: libcurl did not initialize", u->name);
		return DUMPFS_ERR_IO;
	}
	f->multi = curl_multi_init();
	if (!f->name || !f->request_url || (opts && opts->ca_file && !f->ca_file) || !f->multi)
		return DUMPFS_ERR_NOMEM;
	curl_multi_setopt(f->multi, CURLMOPT_MAX_HOST_CONNECTIONS, (long)MAX_ACTIVE);
	curl_multi_setopt(f->multi, CURLMOPT_MAXCONNECTS, (long)MAX_ACTIVE);

	struct probe_wait w = { PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, false };
	struct fetch_req req = { .off = 0, .len = first_len, .dest = &first, .block_size = first_len,
				 .done = probe_done, .owner = &w };
	fetcher_submit(f, &req);
	pthread_mutex_lock(&w.lock);
	while (!w.done)
		pthread_cond_wait(&w.cond, &w.lock);
	pthread_mutex_unlock(&w.lock);
	if (req.status != DUMPFS_OK) {
		snprintf(err, errlen, "%s", req.error);
		return req.status;
	}
	*got = (size_t)(f->size < first_len ? f->size : first_len);
	return DUMPFS_OK;
}

uint64_t fetcher_size(const struct fetcher *f)
{
	return f->size;
}

const char *fetcher_validator(const struct fetcher *f)
{
	return f->validator;
}

bool fetcher_validated(const struct fetcher *f)
{
	return f->etag[0] || f->last_modified[0];
}

void fetcher_stats(struct fetcher *f, struct fetch_stats *st)
{
	pthread_mutex_lock(&f->lock);
	*st = f->stats;
	pthread_mutex_unlock(&f->lock);
}

void fetcher_free(struct fetcher *f)
{
	if (!f)
		return;
	fetcher_quiesce(f);
	/* what is still queued or on the wire (read-ahead) ends now, so that
	 * its owner may free the blocks it was to fill */
	struct fetch_req *all[MAX_ACTIVE];
	memcpy(all, f->on_wire, sizeof(all));
	for (size_t i = 0; i < MAX_ACTIVE; i++)
		if (all[i])
			fail_request(f, all[i], "closed", 1, DUMPFS_ERR_IO);
	for (struct fetch_req **list = &f->queue; list; list = list == &f->queue ? &f->delayed : NULL)
		while (*list) {
			struct fetch_req *req = *list;
			*list = req->next;
			fail_request(f, req, "closed", 1, DUMPFS_ERR_IO);
		}
	if (f->multi)
		curl_multi_cleanup(f->multi);
	pthread_mutex_destroy(&f->lock);
	free(f->name);
	free(f->request_url);
	free(f->ca_file);
	free(f);
}
