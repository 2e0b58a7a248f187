/*
 * url.c - what a remote dump's name means.
 *
 * http:// and https:// URLs are requested as they are written (a
 * presigned S3 URL is one).  s3://BUCKET/KEY names an object: on AWS it is
 * requested virtual-hosted, https://BUCKET.s3.REGION.amazonaws.com/KEY,
 * unless the bucket's name has a dot (its certificate would not match);
 * on another endpoint (-o s3_endpoint=, MinIO, Ceph) path-style,
 * ENDPOINT/BUCKET/KEY, which every S3-compatible store answers.  The key is
 * taken as written, as the AWS CLI does, and percent-encoded here the way
 * SigV4 signs it.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "source/s3.h"

bool remote_url_is(const char *name)
{
	return !strncmp(name, "http://", 7) || !strncmp(name, "https://", 8) ||
	       !strncmp(name, "s3://", 5);
}

void remote_url_free(struct remote_url *u)
{
	free(u->name);
	free(u->request);
	free(u->host);
	free(u->path);
	*u = (struct remote_url){0};
}

/* @s with every byte but A-Z a-z 0-9 - _ . ~ and '/' as %XX. */
static char *encode_path(const char *s)
{
	char *out = malloc(strlen(s) * 3 + 1), *o = out;
	if (!out)
		return NULL;
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if ((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') ||
		    strchr("-_.~/", *p))
			*o++ = (char)*p;
		else
			o += sprintf(o, "%%%02X", *p);
	}
	*o = '\0';
	return out;
}

static char *joined(const char *a, const char *b, const char *c)
{
	size_t n = strlen(a) + strlen(b) + strlen(c) + 1;
	char *s = malloc(n);
	if (s)
		snprintf(s, n, "%s%s%s", a, b, c);
	return s;
}

/* Bucket names are 3-63 of [a-z0-9.-] (older ones also upper case and _):
 * anything else cannot be a bucket and would break the host name. */
static bool bucket_ok(const char *b, size_t n)
{
	if (n < 3 || n > 63)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-_", b[i]))
			return false;
	return true;
}

/* "http://host:port/prefix" → scheme+authority "http://host:port" and host
 * "host:port" (what the Host header says, so what SigV4 signs). */
static bool split_endpoint(const char *ep, char **origin, char **host)
{
	const char *auth = strstr(ep, "://");
	if (!auth || (strncmp(ep, "http://", 7) && strncmp(ep, "https://", 8)))
		return false;
	auth += 3;
	size_t n = strcspn(auth, "/?#");
	if (!n)
		return false;
	*origin = strndup(ep, (size_t)(auth - ep) + n);
	*host = strndup(auth, n);
	return *origin && *host;
}

static enum dumpfs_status parse_s3(struct remote_url *u, const char *name,
				   const struct dumpfs_remote *opts, char *err, size_t errlen)
{
	const char *bucket = name + 5, *slash = strchr(bucket, '/');
	if (!slash || !slash[1] || !bucket_ok(bucket, (size_t)(slash - bucket))) {
		snprintf(err, errlen, "%s: not s3://BUCKET/KEY", name);
		return DUMPFS_ERR_INVALID;
	}
	char *b = strndup(bucket, (size_t)(slash - bucket));
	char *key = encode_path(slash);
	const char *how = opts->s3_addressing;
	enum dumpfs_status st = DUMPFS_ERR_NOMEM;
	char *origin = NULL;

	if (how && strcmp(how, "path") && strcmp(how, "virtual")) {
		snprintf(err, errlen, "s3_addressing=%s: not path or virtual", how);
		st = DUMPFS_ERR_INVALID;
		goto out;
	}
	u->s3 = true;
	s3_region(opts, u->region, sizeof(u->region));
	if (!b || !key)
		goto out;
	if (opts->s3_endpoint) {
		if (!split_endpoint(opts->s3_endpoint, &origin, &u->host)) {
			snprintf(err, errlen, "s3_endpoint=%s: not http://HOST[:PORT] or https://...",
				 opts->s3_endpoint);
			st = DUMPFS_ERR_INVALID;
			goto out;
		}
		if (how && !strcmp(how, "virtual")) {
			/* BUCKET.host, on the endpoint's scheme */
			const char *auth = strstr(origin, "://") + 3;
			char *scheme = strndup(origin, (size_t)(auth - origin));
			char *host = joined(b, ".", u->host);
			free(u->host);
			u->host = host;
			u->request = scheme && host ? joined(scheme, host, key) : NULL;
			free(scheme);
			u->path = strdup(slash);
		} else {
			u->request = joined(origin, "/", b);
			char *full = u->request ? joined(u->request, key, "") : NULL;
			free(u->request);
			u->request = full;
			u->path = joined("/", b, slash);
		}
	} else {
		char aws_host[160];
		bool path_style = (how && !strcmp(how, "path")) || strchr(b, '.');
		if (path_style) {
			snprintf(aws_host, sizeof(aws_host), "s3.%s.amazonaws.com", u->region);
			u->path = joined("/", b, slash);
		} else {
			snprintf(aws_host, sizeof(aws_host), "%s.s3.%s.amazonaws.com", b, u->region);
			u->path = strdup(slash);
		}
		u->host = strdup(aws_host);
		char *enc = u->path ? encode_path(u->path) : NULL;
		u->request = enc ? joined("https://", aws_host, enc) : NULL;
		free(enc);
	}
	if (u->request && u->host && u->path)
		st = DUMPFS_OK;
out:
	free(origin);
	free(b);
	free(key);
	return st;
}

enum dumpfs_status remote_url_parse(struct remote_url *u, const char *name,
				    const struct dumpfs_remote *opts, char *err, size_t errlen)
{
	static const struct dumpfs_remote none;
	*u = (struct remote_url){0};
	if (!opts)
		opts = &none;
	if (strlen(name) > 4096 || strpbrk(name, " \t\r\n")) {
		snprintf(err, errlen, "%.200s: not a URL dumpfs reads (white space, or longer than 4096)", name);
		return DUMPFS_ERR_INVALID;
	}
	if (!(u->name = strdup(name)))
		return DUMPFS_ERR_NOMEM;
	if (!strncmp(name, "s3://", 5))
		return parse_s3(u, name, opts, err, errlen);
	const char *auth = strstr(name, "://") + 3;
	if (!auth[strcspn(auth, "/?#")] || auth[0] == '/') {
		snprintf(err, errlen, "%s: no host, or no path after it", name);
		return DUMPFS_ERR_INVALID;
	}
	return (u->request = strdup(name)) ? DUMPFS_OK : DUMPFS_ERR_NOMEM;
}

char *remote_url_sibling(const struct remote_url *u, const char *suffix)
{
	/* before a presigned URL's query, which signs this object only */
	if (strchr(u->name, '?'))
		return NULL;
	return joined(u->name, suffix, "");
}
