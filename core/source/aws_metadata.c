/*
 * aws_metadata.c - temporary keys from the container credentials endpoint
 * (ECS/EKS) and from the EC2 instance's role through IMDSv2, each answer
 * read as the credentials JSON (aws_json.c); the chain in awscred.c sets
 * them up and fetches again when they expire (aws_internal.h).
 *
 * HTTP is libcurl's easy interface with short timeouts (an EC2 metadata
 * endpoint that does not answer in a second is not there), no proxy (the
 * endpoints are link-local or loopback), no redirects, and answers of at
 * most 64 KiB.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <arpa/inet.h>
#include <curl/curl.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "source/aws_internal.h"

#define MAX_BODY 65536          /* the largest answer taken from an endpoint */

const char *awscred_container_host = "http://169.254.170.2";

/* Keys from the JSON of a container or IMDS answer. */
static bool parse_keys(const char *body, size_t len, struct aws_keys *k, time_t *expires, char *why, size_t whylen)
{
	char expiration[64] = "", code[64] = "";
	struct json_member f[] = {
		{ "AccessKeyId", k->access_key, sizeof(k->access_key), false },
		{ "SecretAccessKey", k->secret_key, sizeof(k->secret_key), false },
		{ "Token", k->session_token, sizeof(k->session_token), false },
		{ "Expiration", expiration, sizeof(expiration), false },
		{ "Code", code, sizeof(code), false },
	};
	memset(k, 0, sizeof(*k));
	if (!json_string_members(body, body + len, f, sizeof(f) / sizeof(f[0]))) {
		seterr(why, whylen, "the answer is not the credentials JSON");
		return false;
	}
	if (f[4].found && strcmp(code, "Success") != 0) {
		seterr(why, whylen, "the answer's Code is not Success");
		return false;
	}
	if (!f[0].found || !f[1].found || !key_ok(k->access_key) || !key_ok(k->secret_key) ||
	    (f[2].found && k->session_token[0] && !key_ok(k->session_token))) {
		seterr(why, whylen, "the answer has no valid AccessKeyId and SecretAccessKey");
		return false;
	}
	*expires = 0;
	if (f[3].found && !iso8601_time(expiration, expires)) {
		seterr(why, whylen, "the answer's Expiration is not an ISO 8601 time");
		return false;
	}
	return true;
}

/* ---- HTTP ------------------------------------------------------------------ */

struct body {
	char *buf;                      /* MAX_BODY + 1 */
	size_t len;
	bool too_big;
};

static size_t on_data(char *p, size_t size, size_t n, void *arg)
{
	struct body *b = arg;
	size_t len = size * n;
	if (len > MAX_BODY - b->len) {
		b->too_big = true;
		return 0;
	}
	memcpy(b->buf + b->len, p, len);
	b->len += len;
	b->buf[b->len] = '\0';
	return len;
}

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static CURLcode curl_init_rc;
static void curl_init(void)
{
	curl_init_rc = curl_global_init(CURL_GLOBAL_DEFAULT);
}

/*
 * @method @url with the header @header (or none) into @b; the HTTP status,
 * or 0 with why it got no answer in @why (*unreachable when nothing
 * answered at all).
 */
static long http(const char *method, const char *url, const char *header, long total_ms, struct body *b,
		 bool *unreachable, char *why, size_t whylen)
{
	*unreachable = false;
	b->len = 0;
	b->buf[0] = '\0';
	b->too_big = false;
	pthread_once(&curl_once, curl_init);
	CURL *h = curl_init_rc == CURLE_OK ? curl_easy_init() : NULL;
	if (!h) {
		seterr(why, whylen, "libcurl did not start");
		return 0;
	}
	struct curl_slist *headers = header ? curl_slist_append(NULL, header) : NULL;
	long status = 0;
	if (header && !headers) {
		seterr(why, whylen, "out of memory");
		curl_easy_cleanup(h);
		return 0;
	}
	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, 1000L);
	curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, total_ms);
	curl_easy_setopt(h, CURLOPT_NOPROXY, "*");
	curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
#if LIBCURL_VERSION_NUM >= 0x075500
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
#endif
	curl_easy_setopt(h, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)MAX_BODY);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_data);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, b);
	if (strcmp(method, "GET") != 0)
		curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
	if (headers)
		curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers);
	CURLcode rc = curl_easy_perform(h);
	if (rc == CURLE_OK) {
		curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
	} else if (b->too_big || rc == CURLE_FILESIZE_EXCEEDED) {
		seterr(why, whylen, "the answer is larger than %d KiB", MAX_BODY / 1024);
	} else {
		*unreachable = rc == CURLE_COULDNT_CONNECT || rc == CURLE_OPERATION_TIMEDOUT ||
			       rc == CURLE_COULDNT_RESOLVE_HOST;
		seterr(why, whylen, "%s", curl_easy_strerror(rc));
	}
	curl_slist_free_all(headers);
	curl_easy_cleanup(h);
	if (status == 0 && rc == CURLE_OK)
		seterr(why, whylen, "no HTTP status");
	return status;
}

/* ---- container credentials ------------------------------------------------- */

/* Whether http:// may go to @url's host: loopback or the ECS/EKS agent, as
 * the AWS SDKs allow (the token must not travel in clear elsewhere). */
static bool container_url_ok(const char *url)
{
	if (strncasecmp(url, "https://", 8) == 0)
		return true;
	if (strncasecmp(url, "http://", 7) != 0)
		return false;
	const char *h = url + 7, *e;
	char host[256];
	if (*h == '[') {
		e = strchr(h, ']');
		if (!e)
			return false;
		h++;
	} else {
		e = h + strcspn(h, ":/?#");
	}
	if ((size_t)(e - h) >= sizeof(host))
		return false;
	memcpy(host, h, (size_t)(e - h));
	host[e - h] = '\0';
	unsigned char a[16];
	if (strcasecmp(host, "localhost") == 0 || strcmp(host, "169.254.170.2") == 0 ||
	    strcmp(host, "169.254.170.23") == 0)
		return true;
	if (inet_pton(AF_INET, host, a) == 1)
		return a[0] == 127;
	if (inet_pton(AF_INET6, host, a) == 1) {
		static const unsigned char loop[16] = { [15] = 1 };
		unsigned char eks[16];
		return memcmp(a, loop, 16) == 0 ||
		       (inet_pton(AF_INET6, "fd00:ec2::23", eks) == 1 && memcmp(a, eks, 16) == 0);
	}
	return false;
}

/* The Authorization header for the container endpoint, or "" for none;
 * false with @why if the token file cannot be read or the token is bad. */
static bool container_header(const struct aws_endpoint *ep, char *out, size_t outlen, char *why, size_t whylen)
{
	out[0] = '\0';
	char *token = NULL;
	if (ep->token_file) {
		FILE *f = fopen(ep->token_file, "r");
		if (!f) {
			seterr(why, whylen, "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE %s: %s", ep->token_file, strerror(errno));
			return false;
		}
		size_t n = fread(out, 1, outlen - 1, f);
		bool more = fgetc(f) != EOF;
		fclose(f);
		out[n] = '\0';
		if (more) {
			seterr(why, whylen, "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE %s is too long", ep->token_file);
			return false;
		}
		while (n && (out[n - 1] == '\n' || out[n - 1] == '\r' || out[n - 1] == ' '))
			out[--n] = '\0';
		token = strdup(out);
		if (!token) {
			seterr(why, whylen, "out of memory");
			return false;
		}
	} else if (ep->auth_token) {
		token = strdup(ep->auth_token);
		if (!token) {
			seterr(why, whylen, "out of memory");
			return false;
		}
	} else {
		return true;
	}
	bool ok = true;
	for (const char *p = token; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			ok = false;
	int n = snprintf(out, outlen, "Authorization: %s", token);
	if (!ok || !*token || n < 0 || (size_t)n >= outlen) {
		seterr(why, whylen, "%s is empty, too long or not one line",
		       ep->token_file ? "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE" : "AWS_CONTAINER_AUTHORIZATION_TOKEN");
		out[0] = '\0';
		ok = false;
	}
	wipe(token, strlen(token));
	free(token);
	return ok;
}

bool aws_container_fetch(const struct aws_endpoint *ep, struct aws_keys *k, time_t *expires, char *why, size_t whylen)
{
	char *header = malloc(MAX_BODY);
	struct body b = { .buf = malloc(MAX_BODY + 1) };
	bool ok = false, unreachable;
	char reason[256] = "out of memory";
	if (header && b.buf && container_header(ep, header, MAX_BODY, reason, sizeof(reason))) {
		long status = http("GET", ep->url, header[0] ? header : NULL, 3000, &b, &unreachable, reason,
				   sizeof(reason));
		if (status == 200)
			ok = parse_keys(b.buf, b.len, k, expires, reason, sizeof(reason));
		else if (status)
			snprintf(reason, sizeof(reason), "HTTP %ld", status);
	}
	if (!ok)
		seterr(why, whylen, "container credentials (%s): %s", ep->url_var, reason);
	if (header)
		wipe(header, MAX_BODY);
	if (b.buf)
		wipe(b.buf, MAX_BODY + 1);
	free(header);
	free(b.buf);
	return ok;
}

int aws_container_setup(struct aws_endpoint *ep, char *err, size_t errlen)
{
	const char *rel = env("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI");
	const char *full = env("AWS_CONTAINER_CREDENTIALS_FULL_URI");
	int n;
	if (rel) {
		ep->url_var = "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI";
		n = snprintf(ep->url, sizeof(ep->url), "%s%s%s", awscred_container_host, *rel == '/' ? "" : "/", rel);
	} else if (full) {
		ep->url_var = "AWS_CONTAINER_CREDENTIALS_FULL_URI";
		if (!container_url_ok(full)) {
			seterr(err, errlen, "AWS_CONTAINER_CREDENTIALS_FULL_URI: http:// only to a loopback address or "
			       "the ECS/EKS agent; else https://");
			return -1;
		}
		n = snprintf(ep->url, sizeof(ep->url), "%s", full);
		const char *file = env("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE");
		const char *token = env("AWS_CONTAINER_AUTHORIZATION_TOKEN");
		if ((file && !(ep->token_file = strdup(file))) || (!file && token && !(ep->auth_token = strdup(token)))) {
			seterr(err, errlen, "out of memory");
			return -1;
		}
	} else {
		return 0;
	}
	for (const char *p = ep->url; *p; p++)
		if ((unsigned char)*p <= 0x20 || *p == 0x7f)
			n = -1;
	if (n < 0 || (size_t)n >= sizeof(ep->url)) {
		seterr(err, errlen, "%s is too long or has spaces", ep->url_var);
		return -1;
	}
	return 1;
}

/* ---- EC2 instance metadata, IMDSv2 ----------------------------------------- */

/* An IAM role name: [A-Za-z0-9+=,.@_-], as IAM allows. */
static bool role_ok(const char *s)
{
	if (!*s || strcmp(s, ".") == 0 || strcmp(s, "..") == 0)
		return false;
	for (; *s; s++)
		if (!((*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') ||
		      strchr("+=,.@_-", *s)))
			return false;
	return true;
}

bool aws_imds_fetch(const struct aws_endpoint *ep, struct aws_keys *k, time_t *expires, bool *unreachable,
		    char *why, size_t whylen)
{
	static const char path[] = "/latest/meta-data/iam/security-credentials/";
	char url[sizeof(ep->url) + 256], header[256], token[128], role[129];
	struct body b = { .buf = malloc(MAX_BODY + 1) };
	char reason[256] = "out of memory";
	bool ok = false, dummy;
	long status = 0;
	*unreachable = false;
	if (!b.buf)
		goto out;

	snprintf(url, sizeof(url), "%s/latest/api/token", ep->url);
	status = http("PUT", url, "X-aws-ec2-metadata-token-ttl-seconds: 21600", 2000, &b, unreachable, reason,
		      sizeof(reason));
	if (status != 200) {
		if (status)
			snprintf(reason, sizeof(reason), "token PUT answered HTTP %ld", status);
		goto out;
	}
	if (b.len >= sizeof(token) || b.len != strlen(b.buf) || !put_key(token, sizeof(token), b.buf)) {
		snprintf(reason, sizeof(reason), "the token PUT answered no token");
		goto out;
	}
	snprintf(header, sizeof(header), "X-aws-ec2-metadata-token: %s", token);

	snprintf(url, sizeof(url), "%s%s", ep->url, path);
	status = http("GET", url, header, 2000, &b, &dummy, reason, sizeof(reason));
	if (status == 404) {
		snprintf(reason, sizeof(reason), "no IAM role is attached to the instance");
		goto out;
	} else if (status != 200) {
		if (status)
			snprintf(reason, sizeof(reason), "%s answered HTTP %ld", path, status);
		goto out;
	}
	size_t rlen = strcspn(b.buf, "\r\n");
	b.buf[rlen] = '\0';
	if (rlen >= sizeof(role) || !role_ok(b.buf)) {
		snprintf(reason, sizeof(reason), "%s names no valid role", path);
		goto out;
	}
	memcpy(role, b.buf, rlen + 1);

	snprintf(url, sizeof(url), "%s%s%s", ep->url, path, role);
	status = http("GET", url, header, 2000, &b, &dummy, reason, sizeof(reason));
	if (status == 200)
		ok = parse_keys(b.buf, b.len, k, expires, reason, sizeof(reason));
	else if (status)
		snprintf(reason, sizeof(reason), "the role's credentials answered HTTP %ld", status);
out:
	if (!ok)
		seterr(why, whylen, "instance metadata (%s): %s", ep->url, reason);
	wipe(token, sizeof(token));
	wipe(header, sizeof(header));
	if (b.buf)
		wipe(b.buf, MAX_BODY + 1);
	free(b.buf);
	return ok;
}

bool aws_imds_disabled(void)
{
	const char *v = env("AWS_EC2_METADATA_DISABLED");
	return v && strcasecmp(v, "true") == 0;
}

bool aws_imds_setup(struct aws_endpoint *ep)
{
	const char *e = env("AWS_EC2_METADATA_SERVICE_ENDPOINT");
	const char *mode = env("AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE");
	if (!e)
		e = mode && strcasecmp(mode, "IPv6") == 0 ? "http://[fd00:ec2::254]" : "http://169.254.169.254";
	int n = snprintf(ep->url, sizeof(ep->url), "%s", e);
	if (n < 0 || (size_t)n >= sizeof(ep->url) || strchr(ep->url, ' ') || strchr(ep->url, '\n') ||
	    strchr(ep->url, '\r'))
		return false;
	while (n > 0 && ep->url[n - 1] == '/')
		ep->url[--n] = '\0';
	return true;
}
